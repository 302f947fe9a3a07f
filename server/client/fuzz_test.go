package client

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

type fuzzState struct{ X, Y int32 }

type fuzzChat struct{ Text string }

var fuzzCodec = state.CodecConfig{Schema: state.Schema{Fields: []state.Field{
	{Name: "x", Bits: 12, Signed: true}, {Name: "y", Bits: 12, Signed: true},
}}, MaxEntities: 64}

func fuzzClient(t testing.TB) *Client[fuzzState, int8] {
	msgs := wire.NewMessages()
	if err := msgs.Register(1, fuzzChat{}); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config[fuzzState, int8]{
		Dial:  func(context.Context) (*netcode.Client, error) { return nil, errors.New("no network in a fuzz test") },
		Codec: fuzzCodec, Messages: msgs,
		OwnState: func(f []int32) (fuzzState, error) {
			if f[0] < -1000 {
				return fuzzState{}, errors.New("not a player")
			}
			return fuzzState{f[0], f[1]}, nil
		},
		AppendInput: func(b []byte, in int8) []byte { return append(b, byte(in)) },
		Step:        func(s fuzzState, in int8) fuzzState { s.X += int32(in); return s },
		Equal:       state.EqualComparable[fuzzState],
		Correction: func(dst []float64, a, b fuzzState) []float64 {
			return append(dst, float64(a.X-b.X), float64(a.Y-b.Y))
		},
		CorrectionDims: 2,
		SnapDistance:   50,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fuzzSeeds returns valid messages of every kind: a welcome, full and delta
// snapshots with the own entity, a game message, a kick.
func fuzzSeeds(t testing.TB) [][]byte {
	enc, err := state.NewEncoder(fuzzCodec)
	if err != nil {
		t.Fatal(err)
	}
	snap := func(tick uint32, base *state.Snapshot, ids ...uint32) ([]byte, *state.Snapshot) {
		s := state.NewSnapshot(tick, 2, len(ids))
		for _, id := range ids {
			f := s.Add(id)
			f[0], f[1] = int32(id)+int32(tick), -int32(id)
		}
		b := wire.AppendSnapshotHeader(nil, wire.SnapshotHeader{HasInputAck: true, InputAck: tick, InputLead: -2})
		b, err := enc.Encode(b, s, base)
		if err != nil {
			t.Fatal(err)
		}
		return b, s
	}
	full, s1 := snap(10, nil, 1, 2, 3)
	delta, _ := snap(12, s1, 1, 3, 4)
	chat, err := (func() *wire.Messages {
		m := wire.NewMessages()
		_ = m.Register(1, fuzzChat{})
		return m
	})().Append(nil, fuzzChat{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		wire.AppendWelcome(nil, wire.Welcome{Player: 1, TickRate: 60, SnapshotRate: 30, Tick: 5}),
		full, delta, chat, wire.AppendKick(nil, "bye"),
	}
}

// joinMessages frames messages as uvarint length + bytes.
func joinMessages(ms ...[]byte) []byte {
	var b []byte
	for _, m := range ms {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

// FuzzHandle feeds a sequence of server messages (uvarint-length framed) to
// a client's message handling: nothing panics, and every message is either
// handled or counted.
func FuzzHandle(f *testing.F) {
	seeds := fuzzSeeds(f)
	f.Add(joinMessages(seeds...))
	f.Add(joinMessages(seeds[1], seeds[0], seeds[2], seeds[1]))
	f.Add(joinMessages(seeds[0], seeds[2]))
	f.Add(joinMessages([]byte{wire.KindSnapshot, 1, 0x80}, []byte{wire.KindGame, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzClient(t)
		now := time.Unix(1000, 0)
		for len(data) > 0 {
			n, k := binary.Uvarint(data)
			if k <= 0 || n > uint64(len(data)-k) {
				return
			}
			msg := data[k : k+int(n)]
			data = data[k+int(n):]
			c.events = c.events[:0]
			clear(c.msgs)
			c.msgs = c.msgs[:0]
			c.handle(now, msg)
			if c.welcomed {
				c.observeBatch(now)
			}
			if len(c.msgs) > 1 {
				t.Fatalf("one message decoded into %d", len(c.msgs))
			}
			if c.welcomed {
				if _, ok := c.Remote(now); ok && c.frame.Len() > fuzzCodec.MaxEntities {
					t.Fatalf("%d entities drawn, at most %d", c.frame.Len(), fuzzCodec.MaxEntities)
				}
			}
			c.SmoothOffset(now)
			_ = c.Stats()
			now = now.Add(time.Millisecond)
		}
	})
}
