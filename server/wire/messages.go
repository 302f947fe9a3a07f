package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// MaxMessageType is the largest id Messages.Register accepts.
const MaxMessageType = 1<<16 - 1

// MaxKickReason is the longest kick reason, in bytes; longer ones are cut.
const MaxKickReason = 200

// Messages is a registry of a game's own message types — events, chat, RPC
// requests and replies — shared by its server and its clients. Each type is
// registered once with a small id that both halves agree on; a message
// travels as its type id and its msgpack encoding (KindGame), and arrives
// as a value of the same Go type, so the receiver type-switches on it:
//
//	msgs := wire.NewMessages()
//	_ = msgs.Register(1, Chat{})
//	_ = msgs.Register(2, Hit{})
//	…
//	switch m := v.(type) {
//	case Chat: …
//	case Hit: …
//	}
//
// Register every type before the registry is used. After that a Messages is
// safe for concurrent use (Encode and Decode only read it).
//
// Decode is for bytes from the network: an unknown type id, a body that does
// not decode into the type, or trailing bytes return an error wrapping
// ErrMalformedMessage, never a panic. Game messages are not for the hot
// path: encoding and decoding go through msgpack's reflection and allocate.
type Messages struct {
	byID   map[uint16]reflect.Type
	byType map[reflect.Type]uint16
}

// NewMessages returns an empty registry.
func NewMessages() *Messages {
	return &Messages{byID: map[uint16]reflect.Type{}, byType: map[reflect.Type]uint16{}}
}

// Register adds the type of example (a value, e.g. Chat{}, not a pointer)
// under id (1..MaxMessageType). Registering an id or a type twice is an
// error, as is a nil or pointer example.
func (m *Messages) Register(id int, example any) error {
	if id < 1 || id > MaxMessageType {
		return fmt.Errorf("%w: message type id %d, want 1..%d", ErrInvalidConfig, id, MaxMessageType)
	}
	if example == nil {
		return fmt.Errorf("%w: message type %d: example is nil, want a value such as Chat{}", ErrInvalidConfig, id)
	}
	t := reflect.TypeOf(example)
	if t.Kind() == reflect.Pointer {
		return fmt.Errorf("%w: message type %d: example is a pointer (%v), want a value such as %v{}", ErrInvalidConfig, id, t, t.Elem())
	}
	if old, dup := m.byID[uint16(id)]; dup {
		return fmt.Errorf("%w: message type id %d registered twice (%v and %v)", ErrInvalidConfig, id, old, t)
	}
	if old, dup := m.byType[t]; dup {
		return fmt.Errorf("%w: message type %v registered twice (ids %d and %d)", ErrInvalidConfig, t, old, id)
	}
	m.byID[uint16(id)] = t
	m.byType[t] = uint16(id)
	return nil
}

// ID returns the id v's type is registered under.
func (m *Messages) ID(v any) (int, bool) {
	if m == nil || v == nil {
		return 0, false
	}
	id, ok := m.byType[reflect.TypeOf(v)]
	return int(id), ok
}

// Append appends the game message carrying v (a value of a registered type,
// or a pointer to one) to b.
func (m *Messages) Append(b []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return b, fmt.Errorf("%w: nil message", ErrInvalidConfig)
	}
	if m == nil {
		return b, fmt.Errorf("%w: no Messages registry for %v", ErrInvalidConfig, rv.Type())
	}
	id, ok := m.byType[rv.Type()]
	if !ok {
		return b, fmt.Errorf("%w: message type %v is not registered", ErrInvalidConfig, rv.Type())
	}
	body, err := msgpack.Marshal(rv.Interface())
	if err != nil {
		return b, fmt.Errorf("wire: encode %v: %w", rv.Type(), err)
	}
	b = append(b, KindGame)
	b = binary.AppendUvarint(b, uint64(id))
	return append(b, body...), nil
}

// Decode decodes a game message and returns its value, of the registered
// type (not a pointer to it).
func (m *Messages) Decode(msg []byte) (any, error) {
	r := reader{b: msg}
	if k := r.byte(); r.err == nil && k != KindGame {
		return nil, fmt.Errorf("%w: game message has kind %d, want %d", ErrMalformedMessage, k, KindGame)
	}
	id := r.uvarint("message type")
	if r.err != nil {
		return nil, r.err
	}
	var t reflect.Type
	ok := false
	if m != nil && id <= MaxMessageType {
		t, ok = m.byID[uint16(id)]
	}
	if !ok {
		return nil, fmt.Errorf("%w: game message of unknown type %d", ErrMalformedMessage, id)
	}
	v := reflect.New(t)
	rd := bytes.NewReader(r.b)
	dec := msgpack.NewDecoder(rd)
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, fmt.Errorf("%w: game message of type %d (%v): %v", ErrMalformedMessage, id, t, err)
	}
	if rd.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after game message of type %d (%v)", ErrMalformedMessage, rd.Len(), id, t)
	}
	return v.Elem().Interface(), nil
}

// AppendKick appends a kick message with reason, cut to MaxKickReason bytes
// (on a rune boundary), to b.
func AppendKick(b []byte, reason string) []byte {
	if len(reason) > MaxKickReason {
		cut := MaxKickReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	b = append(b, KindKick)
	b = binary.AppendUvarint(b, uint64(len(reason)))
	return append(b, reason...)
}

// DecodeKick decodes a kick message and returns its reason.
func DecodeKick(msg []byte) (string, error) {
	r := reader{b: msg}
	if k := r.byte(); r.err == nil && k != KindKick {
		return "", fmt.Errorf("%w: kick message has kind %d, want %d", ErrMalformedMessage, k, KindKick)
	}
	n := r.uvarint("reason length")
	if r.err == nil && n > MaxKickReason {
		return "", fmt.Errorf("%w: kick reason of %d bytes, want at most %d", ErrMalformedMessage, n, MaxKickReason)
	}
	reason := r.bytes(int(n))
	if err := r.finish("kick message"); err != nil {
		return "", err
	}
	if !utf8.Valid(reason) {
		return "", fmt.Errorf("%w: kick reason is not UTF-8", ErrMalformedMessage)
	}
	return string(reason), nil
}
