package wire

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Wire messages. Each starts with a kind byte; integers are unsigned or
// zigzag varints (encoding/binary). All decoders reject truncated input,
// counts and lengths above their limits, and trailing bytes, with an error
// wrapping ErrMalformedMessage; none allocates when its destination has room.
//
// Input (client → server, Config.InputChannel, unreliable):
//
//	kind=1 · flags (bit 0: resync) · uvarint newest tick · count (1 byte, 1..MaxInputRedundancy)
//	· count × (uvarint length · input bytes), for ticks newest, newest-1, …
//
// Snapshot (server → client, Config.SnapshotChannel, unreliable-sequenced):
//
//	kind=2 · flags (bit 0: has input ack) · [uvarint input ack · varint input lead] · netcode/state payload
//
// Welcome (server → client, Config.ControlChannel, reliable, once after connect):
//
//	kind=3 · uvarint player · uvarint tick rate · uvarint snapshot rate · uvarint tick
//
// Game message (either way, Config.ControlChannel, reliable-ordered): a value
// of a type registered in a Messages registry:
//
//	kind=4 · uvarint type id · msgpack encoding of the value
//
// Kick (server → client, Config.ControlChannel, just before the server ends
// the connection):
//
//	kind=5 · uvarint length · reason (UTF-8, at most MaxKickReason bytes)
const (
	KindInput    = 1 // client's inputs
	KindSnapshot = 2 // world state
	KindWelcome  = 3 // the client's player id and the server's rates
	KindGame     = 4 // a typed game message (see Messages)
	KindKick     = 5 // the server ends the connection, with a reason
)

// MaxInputRedundancy is the largest number of inputs in one input message.
const MaxInputRedundancy = 16

const (
	inputFlagResync   = 1 << 0
	snapshotFlagInput = 1 << 0
	snapshotFlagLink  = 1 << 1
)

// InputMessage is a client's input message: the inputs of ticks NewestTick,
// NewestTick-1, … (Inputs[i] is the input of tick NewestTick-i).
type InputMessage struct {
	NewestTick uint32
	// Resync asks the server to forget the client's acknowledged baselines
	// and send a full snapshot: the client could not decode a delta.
	Resync bool
	Inputs [][]byte
}

// AppendInputMessage appends the encoding of m to b. It panics if m has no
// input, more than MaxInputRedundancy, one longer than MaxInputSize, or
// more inputs than ticks before NewestTick (programming errors;
// InputWriter never does that).
func AppendInputMessage(b []byte, m *InputMessage) []byte {
	n := len(m.Inputs)
	if n < 1 || n > MaxInputRedundancy || uint64(n-1) > uint64(m.NewestTick) {
		panic(fmt.Sprintf("wire: AppendInputMessage: %d inputs ending at tick %d, want 1..%d", n, m.NewestTick, MaxInputRedundancy))
	}
	var flags byte
	if m.Resync {
		flags |= inputFlagResync
	}
	b = append(b, KindInput, flags)
	b = binary.AppendUvarint(b, uint64(m.NewestTick))
	b = append(b, byte(n))
	for _, in := range m.Inputs {
		if len(in) > MaxInputSize {
			panic(fmt.Sprintf("wire: AppendInputMessage: input of %d bytes, want at most %d", len(in), MaxInputSize))
		}
		b = binary.AppendUvarint(b, uint64(len(in)))
		b = append(b, in...)
	}
	return b
}

// DecodeInputMessage decodes b into m, reusing m.Inputs; the inputs alias b.
func DecodeInputMessage(b []byte, m *InputMessage) error {
	r := reader{b: b}
	if k := r.byte(); r.err == nil && k != KindInput {
		return fmt.Errorf("%w: input message has kind %d, want %d", ErrMalformedMessage, k, KindInput)
	}
	flags := r.byte()
	newest := r.uvarint32("newest tick")
	n := int(r.byte())
	if r.err != nil {
		return r.err
	}
	if flags&^inputFlagResync != 0 {
		return fmt.Errorf("%w: input message has unknown flags %#x", ErrMalformedMessage, flags)
	}
	if n < 1 || n > MaxInputRedundancy || uint64(n-1) > uint64(newest) {
		return fmt.Errorf("%w: input message has %d inputs ending at tick %d, want 1..%d", ErrMalformedMessage, n, newest, MaxInputRedundancy)
	}
	m.NewestTick, m.Resync = newest, flags&inputFlagResync != 0
	m.Inputs = m.Inputs[:0]
	for range n {
		l := r.uvarint("input length")
		if r.err == nil && l > MaxInputSize {
			return fmt.Errorf("%w: input of %d bytes, want at most %d", ErrMalformedMessage, l, MaxInputSize)
		}
		m.Inputs = append(m.Inputs, r.bytes(int(l)))
	}
	return r.finish("input message")
}

// SnapshotHeader is what a snapshot message carries besides the
// netcode/state payload.
type SnapshotHeader struct {
	// HasInputAck is false until the server has received an input from
	// this client.
	HasInputAck bool
	// InputAck is the newest tick whose input slot the server has consumed
	// for this client: the snapshot's state includes the client's inputs
	// up to this tick (its own, or the stand-in the missing-input policy
	// chose). Reconcile by rewinding to the snapshot and replaying the
	// inputs of later ticks.
	InputAck uint32
	// InputLead is how many ticks ahead of the server the client's newest
	// input was when the server last simulated a tick: negative means the
	// client's inputs arrive too late and it should run further ahead;
	// large means it could run closer to the server.
	InputLead int32
	// SendBudget and EstimatedRate are the server's send budget for this
	// client and its estimate of what the link carries, in bytes per
	// second (0 when the server's transport has none: see
	// server.LinkStats), so that a client can show how its downlink is
	// used.
	SendBudget, EstimatedRate uint32
}

// AppendSnapshotHeader appends a snapshot message's header to b; append the
// netcode/state payload after it.
func AppendSnapshotHeader(b []byte, h SnapshotHeader) []byte {
	var flags byte
	if h.HasInputAck {
		flags |= snapshotFlagInput
	}
	link := h.SendBudget != 0 || h.EstimatedRate != 0
	if link {
		flags |= snapshotFlagLink
	}
	b = append(b, KindSnapshot, flags)
	if h.HasInputAck {
		b = binary.AppendUvarint(b, uint64(h.InputAck))
		b = binary.AppendVarint(b, int64(h.InputLead))
	}
	if link {
		b = binary.AppendUvarint(b, uint64(h.SendBudget))
		b = binary.AppendUvarint(b, uint64(h.EstimatedRate))
	}
	return b
}

// DecodeSnapshotMessage splits a snapshot message into its header and its
// netcode/state payload (aliasing b).
func DecodeSnapshotMessage(b []byte) (SnapshotHeader, []byte, error) {
	var h SnapshotHeader
	r := reader{b: b}
	if k := r.byte(); r.err == nil && k != KindSnapshot {
		return h, nil, fmt.Errorf("%w: snapshot message has kind %d, want %d", ErrMalformedMessage, k, KindSnapshot)
	}
	flags := r.byte()
	if r.err == nil && flags&^(snapshotFlagInput|snapshotFlagLink) != 0 {
		return h, nil, fmt.Errorf("%w: snapshot message has unknown flags %#x", ErrMalformedMessage, flags)
	}
	if flags&snapshotFlagInput != 0 {
		h.HasInputAck = true
		h.InputAck = r.uvarint32("input ack")
		lead := r.varint("input lead")
		if r.err == nil && (lead < math.MinInt32 || lead > math.MaxInt32) {
			return h, nil, fmt.Errorf("%w: input lead %d out of range", ErrMalformedMessage, lead)
		}
		h.InputLead = int32(lead)
	}
	if flags&snapshotFlagLink != 0 {
		h.SendBudget = r.uvarint32("send budget")
		h.EstimatedRate = r.uvarint32("estimated rate")
		if r.err == nil && h.SendBudget == 0 && h.EstimatedRate == 0 {
			return h, nil, fmt.Errorf("%w: snapshot message has link figures of 0", ErrMalformedMessage)
		}
	}
	if r.err != nil {
		return h, nil, r.err
	}
	if len(r.b) == 0 {
		return h, nil, fmt.Errorf("%w: snapshot message has no payload", ErrMalformedMessage)
	}
	return h, r.b, nil
}

// Welcome is the first message a server sends a client after it connects.
type Welcome struct {
	Player       PlayerID // the client's player id in the game
	TickRate     int      // simulation ticks per second
	SnapshotRate int      // snapshots per second
	Tick         uint32   // the server's tick when it sent the message
}

// AppendWelcome appends the encoding of w to b.
func AppendWelcome(b []byte, w Welcome) []byte {
	b = append(b, KindWelcome)
	b = binary.AppendUvarint(b, uint64(w.Player))
	b = binary.AppendUvarint(b, uint64(w.TickRate))
	b = binary.AppendUvarint(b, uint64(w.SnapshotRate))
	return binary.AppendUvarint(b, uint64(w.Tick))
}

// DecodeWelcome decodes a welcome message.
func DecodeWelcome(b []byte) (Welcome, error) {
	var w Welcome
	r := reader{b: b}
	if k := r.byte(); r.err == nil && k != KindWelcome {
		return w, fmt.Errorf("%w: welcome message has kind %d, want %d", ErrMalformedMessage, k, KindWelcome)
	}
	w.Player = PlayerID(r.uvarint32("player"))
	w.TickRate = int(r.uvarint32("tick rate"))
	w.SnapshotRate = int(r.uvarint32("snapshot rate"))
	w.Tick = r.uvarint32("tick")
	if err := r.finish("welcome message"); err != nil {
		return Welcome{}, err
	}
	if w.TickRate < 1 || w.TickRate > MaxTickRate || w.SnapshotRate < 1 || w.SnapshotRate > w.TickRate {
		return Welcome{}, fmt.Errorf("%w: welcome has tick rate %d and snapshot rate %d, want 1..%d and 1..tick rate",
			ErrMalformedMessage, w.TickRate, w.SnapshotRate, MaxTickRate)
	}
	return w, nil
}

// MessageKind returns the kind byte of a message (KindInput, KindSnapshot,
// …; 0 for an empty message).
func MessageKind(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// reader decodes a message front to back, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated or invalid %s", ErrMalformedMessage, what)
	}
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail("message")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint32(what string) uint32 {
	v := r.uvarint(what)
	if v > math.MaxUint32 {
		r.fail(what)
		return 0
	}
	return uint32(v)
}

func (r *reader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.fail("bytes")
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) finish(what string) error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes after %s", ErrMalformedMessage, len(r.b), what)
	}
	return nil
}

// InputWriter is the client half of the input protocol: Push each tick's
// input, then send AppendMessage's result; every message repeats the last
// Redundancy inputs, so a lost message loses no input as long as one of the
// next Redundancy-1 arrives.
//
// The zero InputWriter is not usable (NewInputWriter); it is not safe for
// concurrent use.
type InputWriter struct {
	ring   [][]byte // by tick mod len
	newest uint32
	count  int // contiguous inputs held, ending at newest
	resync bool
	msg    InputMessage
}

// NewInputWriter returns a writer repeating the last redundancy inputs
// (1..MaxInputRedundancy) in each message.
func NewInputWriter(redundancy int) (*InputWriter, error) {
	if redundancy < 1 || redundancy > MaxInputRedundancy {
		return nil, fmt.Errorf("%w: InputWriter redundancy is %d, want 1..%d", ErrInvalidConfig, redundancy, MaxInputRedundancy)
	}
	w := &InputWriter{ring: make([][]byte, redundancy)}
	w.msg.Inputs = make([][]byte, 0, redundancy)
	return w, nil
}

// Push records input (copied) for tick. Ticks should be consecutive; after
// a gap or a step back the writer forgets the older inputs and starts over
// from tick. It panics if input is longer than MaxInputSize.
func (w *InputWriter) Push(tick uint32, input []byte) {
	if len(input) > MaxInputSize {
		panic(fmt.Sprintf("wire: InputWriter.Push: input of %d bytes, want at most %d", len(input), MaxInputSize))
	}
	if w.count > 0 && tick == w.newest+1 {
		w.count = min(w.count+1, len(w.ring))
	} else {
		w.count = 1
	}
	w.newest = tick
	i := int(tick % uint32(len(w.ring)))
	w.ring[i] = append(w.ring[i][:0], input...)
}

// SetResync sets the resync flag of the following messages (set it while
// a SnapshotReader reports NeedResync).
func (w *InputWriter) SetResync(on bool) { w.resync = on }

// Newest returns the newest pushed tick (ok false before the first Push).
func (w *InputWriter) Newest() (tick uint32, ok bool) { return w.newest, w.count > 0 }

// AppendMessage appends an input message with the held inputs, newest
// first, to b. With nothing pushed it returns b unchanged.
func (w *InputWriter) AppendMessage(b []byte) []byte {
	if w.count == 0 {
		return b
	}
	n := min(w.count, int(w.newest)+1)
	w.msg.NewestTick, w.msg.Resync = w.newest, w.resync
	w.msg.Inputs = w.msg.Inputs[:0]
	for i := range n {
		t := w.newest - uint32(i)
		w.msg.Inputs = append(w.msg.Inputs, w.ring[int(t%uint32(len(w.ring)))])
	}
	return AppendInputMessage(b, &w.msg)
}
