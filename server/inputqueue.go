package server

import (
	"fmt"
	"math/bits"

	"github.com/tickwire/tickwire/server/wire"
)

// Defaults and limits of InputConfig.
const (
	DefaultInputWindow  = 32
	MaxInputWindow      = 1024
	DefaultMaxInputSize = 64
	MaxMaxInputSize     = wire.MaxInputSize
)

// MissingInputPolicy says what a server does at a tick for which a client
// sent no input (or it arrived too late).
type MissingInputPolicy uint8

const (
	// RepeatLastInput applies the client's previous input again (the
	// common choice for movement: a held key stays held). Before the
	// client's first input nothing is applied.
	RepeatLastInput MissingInputPolicy = iota
	// SkipMissingInput applies nothing: the game sees no ApplyInput call
	// for that client at that tick.
	SkipMissingInput
)

func (p MissingInputPolicy) String() string {
	switch p {
	case RepeatLastInput:
		return "RepeatLastInput"
	case SkipMissingInput:
		return "SkipMissingInput"
	}
	return fmt.Sprintf("MissingInputPolicy(%d)", uint8(p))
}

// InputConfig configures an InputQueue. The zero value means the defaults.
type InputConfig struct {
	// Window is how many ticks ahead of the server's current tick an input
	// may be, 1..MaxInputWindow; 0 means DefaultInputWindow (32, about half
	// a second at 60 Hz). Inputs further ahead are dropped as far-future.
	Window int
	// MaxInputSize is the largest input in bytes, 1..MaxMaxInputSize; 0
	// means DefaultMaxInputSize (64). Larger inputs are dropped as
	// oversized.
	MaxInputSize int
	// Missing is the policy for a tick without input.
	Missing MissingInputPolicy
}

func (c InputConfig) withDefaults() InputConfig {
	if c.Window == 0 {
		c.Window = DefaultInputWindow
	}
	if c.MaxInputSize == 0 {
		c.MaxInputSize = DefaultMaxInputSize
	}
	return c
}

// Validate checks Window, MaxInputSize and Missing.
func (c InputConfig) Validate() error {
	if c.Window < 0 || c.Window > MaxInputWindow {
		return fmt.Errorf("%w: InputConfig.Window is %d, want 0 (default %d) or 1..%d", ErrInvalidConfig, c.Window, DefaultInputWindow, MaxInputWindow)
	}
	if c.MaxInputSize < 0 || c.MaxInputSize > MaxMaxInputSize {
		return fmt.Errorf("%w: InputConfig.MaxInputSize is %d, want 0 (default %d) or 1..%d", ErrInvalidConfig, c.MaxInputSize, DefaultMaxInputSize, MaxMaxInputSize)
	}
	if c.Missing > SkipMissingInput {
		return fmt.Errorf("%w: InputConfig.Missing is %v, want RepeatLastInput or SkipMissingInput", ErrInvalidConfig, c.Missing)
	}
	return nil
}

// InputVerdict is what InputQueue.Offer did with an input.
type InputVerdict uint8

const (
	// InputAccepted: stored for its tick.
	InputAccepted InputVerdict = iota
	// InputDuplicate: the tick's input is already queued or was already
	// consumed; ignored. Normal: clients repeat their last inputs in every
	// packet.
	InputDuplicate
	// InputLate: the tick was already simulated without this input;
	// dropped.
	InputLate
	// InputFarFuture: the tick is Window or more ticks ahead of the
	// server; dropped.
	InputFarFuture
	// InputOversized: longer than MaxInputSize; dropped.
	InputOversized
	// NumInputVerdicts is the number of verdicts: every InputVerdict is
	// below it.
	NumInputVerdicts
)

var inputVerdictNames = [...]string{"accepted", "duplicate", "late", "far_future", "oversized"}

// String returns the verdict's metric label: accepted, duplicate, late,
// far_future or oversized.
func (v InputVerdict) String() string {
	if int(v) < len(inputVerdictNames) {
		return inputVerdictNames[v]
	}
	return fmt.Sprintf("InputVerdict(%d)", uint8(v))
}

// InputSource says where the input Take returned came from.
type InputSource uint8

const (
	// InputFresh: the client's own input for the tick.
	InputFresh InputSource = iota
	// InputRepeated: missing; the previous input repeated (RepeatLastInput).
	InputRepeated
	// InputMissing: missing, and nothing applied (SkipMissingInput).
	InputMissing
	// InputNone: no input from the client yet; nothing applied.
	InputNone
	// NumInputSources is the number of sources: every InputSource is
	// below it.
	NumInputSources
)

var inputSourceNames = [...]string{"fresh", "repeated", "missing", "none"}

// String returns the source's metric label: fresh, repeated, missing or none.
func (s InputSource) String() string {
	if int(s) < len(inputSourceNames) {
		return inputSourceNames[s]
	}
	return fmt.Sprintf("InputSource(%d)", uint8(s))
}

// InputStats counts an InputQueue's decisions.
type InputStats struct {
	Offered  [NumInputVerdicts]uint64 // by InputVerdict
	Fresh    uint64                   // ticks that had the client's input
	Missing  uint64                   // ticks without it (after the first input)
	Repeated uint64                   // of Missing, those that repeated the previous input
}

type inputSlot struct {
	tick    uint32
	present bool
	data    []byte
}

// InputQueue buffers one client's inputs by tick until the server simulates
// that tick. The rules, with N the next tick the server will simulate:
//
//   - an input for a tick < N is late: dropped and counted as InputLate,
//     unless the queue already had that tick's input (a repeated copy:
//     InputDuplicate, ignored);
//   - an input for a tick ≥ N+Window is far-future: dropped, InputFarFuture;
//   - an input for a tick already queued is InputDuplicate, ignored (the
//     first copy wins);
//   - an input longer than MaxInputSize is InputOversized, dropped;
//   - otherwise it is stored until Take(N) consumes it.
//
// At each tick the server calls Take(N); when N has no input, the Missing
// policy decides (repeat the previous input, or nothing).
//
// Inputs are copied into memory the queue owns, so Offer does not allocate
// after warm-up. The zero InputQueue is not usable (NewInputQueue); it is not
// safe for concurrent use.
type InputQueue struct {
	cfg      InputConfig
	slots    []inputSlot // ring of size pow2 ≥ Window, indexed by tick
	mask     uint32
	next     uint32 // next tick to Take
	consumed uint64 // bit i: the input of tick next-1-i was in the queue when taken
	last     []byte
	hasLast  bool
	newest   uint32 // newest tick offered (any verdict but oversized)
	hasNew   bool
	stats    InputStats
}

// NewInputQueue returns a queue for cfg whose first tick is first.
func NewInputQueue(cfg InputConfig, first uint32) (*InputQueue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	size := 1 << bits.Len(uint(cfg.Window-1))
	// A slot's bytes are allocated by its first input, as large as that
	// input (a game's inputs are often a few bytes, far below MaxInputSize).
	q := &InputQueue{cfg: cfg, slots: make([]inputSlot, size), mask: uint32(size - 1), next: first}
	return q, nil
}

// Next returns the next tick Take will consume.
func (q *InputQueue) Next() uint32 { return q.next }

// Stats returns the counters so far.
func (q *InputQueue) Stats() InputStats { return q.stats }

// Newest returns the newest tick offered so far, whatever the verdict
// (except oversized), with ok false before the first: newest minus the
// server's tick is the client's input lead (SnapshotHeader.InputLead),
// which must also show a client running too far ahead.
func (q *InputQueue) Newest() (tick uint32, ok bool) { return q.newest, q.hasNew }

// Offer queues input for tick according to the rules above and returns the
// verdict. input is copied.
func (q *InputQueue) Offer(tick uint32, input []byte) InputVerdict {
	v := q.offer(tick, input)
	q.stats.Offered[v]++
	return v
}

func (q *InputQueue) offer(tick uint32, input []byte) InputVerdict {
	if len(input) > q.cfg.MaxInputSize {
		return InputOversized
	}
	if !q.hasNew || tick > q.newest {
		q.newest, q.hasNew = tick, true
	}
	ahead := int64(tick) - int64(q.next)
	if ahead < 0 {
		if back := -ahead - 1; back < 64 && q.consumed&(1<<uint(back)) != 0 {
			return InputDuplicate
		}
		return InputLate
	}
	if ahead >= int64(q.cfg.Window) {
		return InputFarFuture
	}
	s := &q.slots[tick&q.mask]
	if s.present && s.tick == tick {
		return InputDuplicate
	}
	s.tick, s.present = tick, true
	s.data = append(s.data[:0], input...)
	return InputAccepted
}

// Take consumes the input of tick, which must be Next() (the server calls it
// once per tick, in order; a larger tick skips the ticks between as
// missing). It returns the input to apply, valid until the next call of
// Offer or Take, and where it came from.
func (q *InputQueue) Take(tick uint32) ([]byte, InputSource) {
	for int64(q.next) < int64(tick) { // skipped ticks: consume and forget
		q.take()
	}
	return q.take()
}

func (q *InputQueue) take() ([]byte, InputSource) {
	tick := q.next
	q.next++
	s := &q.slots[tick&q.mask]
	q.consumed <<= 1
	if s.present && s.tick == tick {
		s.present = false
		q.consumed |= 1
		q.last = append(q.last[:0], s.data...)
		q.hasLast = true
		q.stats.Fresh++
		return q.last, InputFresh
	}
	if !q.hasLast {
		return nil, InputNone
	}
	q.stats.Missing++
	if q.cfg.Missing == RepeatLastInput {
		q.stats.Repeated++
		return q.last, InputRepeated
	}
	return nil, InputMissing
}
