package wire

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInputMessageRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    InputMessage
		want []byte // encoding, when fixed
	}{
		{
			name: "one input",
			m:    InputMessage{NewestTick: 5, Inputs: [][]byte{{0xAA}}},
			want: []byte{KindInput, 0, 5, 1, 1, 0xAA},
		},
		{
			name: "resync, four inputs, empty one",
			m:    InputMessage{NewestTick: 300, Resync: true, Inputs: [][]byte{{1, 2}, {}, {3}, {4, 5, 6}}},
			want: []byte{KindInput, 1, 0xAC, 0x02, 4, 2, 1, 2, 0, 1, 3, 3, 4, 5, 6},
		},
		{
			name: "max redundancy and size",
			m: InputMessage{NewestTick: 1 << 31, Inputs: func() [][]byte {
				var in [][]byte
				for i := range MaxInputRedundancy {
					in = append(in, bytes.Repeat([]byte{byte(i)}, MaxInputSize))
				}
				return in
			}()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendInputMessage(nil, &tt.m)
			if tt.want != nil {
				assert.Equal(t, tt.want, b)
			}
			var got InputMessage
			require.NoError(t, DecodeInputMessage(b, &got))
			assert.Equal(t, tt.m.NewestTick, got.NewestTick)
			assert.Equal(t, tt.m.Resync, got.Resync)
			require.Len(t, got.Inputs, len(tt.m.Inputs))
			for i := range got.Inputs {
				assert.Equal(t, string(tt.m.Inputs[i]), string(got.Inputs[i]))
			}
		})
	}
}

func TestDecodeInputMessageRejects(t *testing.T) {
	valid := AppendInputMessage(nil, &InputMessage{NewestTick: 9, Inputs: [][]byte{{1}, {2}}})
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"wrong kind", []byte{KindSnapshot, 0, 1, 1, 0}, "kind 2"},
		{"unknown flag", []byte{KindInput, 2, 1, 1, 0}, "unknown flags"},
		{"zero inputs", []byte{KindInput, 0, 1, 0}, "0 inputs"},
		{"too many inputs", []byte{KindInput, 0, 100, MaxInputRedundancy + 1}, "17 inputs"},
		{"more inputs than ticks", []byte{KindInput, 0, 1, 3, 0, 0, 0}, "3 inputs ending at tick 1"},
		{"input too long", []byte{KindInput, 0, 1, 1, 0x81, 0x08}, "1025 bytes"},
		{"truncated input", valid[:len(valid)-1], "truncated"},
		{"trailing byte", append(bytes.Clone(valid), 0), "trailing"},
		{"tick overflows 32 bits", []byte{KindInput, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 0}, "newest tick"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m InputMessage
			err := DecodeInputMessage(tt.b, &m)
			require.ErrorIs(t, err, ErrMalformedMessage)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSnapshotMessageRoundTrip(t *testing.T) {
	for _, h := range []SnapshotHeader{
		{},
		{HasInputAck: true, InputAck: 77, InputLead: 3},
		{HasInputAck: true, InputAck: 1<<32 - 1, InputLead: -40},
	} {
		b := AppendSnapshotHeader(nil, h)
		b = append(b, "payload"...)
		got, payload, err := DecodeSnapshotMessage(b)
		require.NoError(t, err)
		assert.Equal(t, h, got)
		assert.Equal(t, "payload", string(payload))
		assert.Equal(t, byte(KindSnapshot), MessageKind(b))
	}
	for _, b := range [][]byte{nil, {KindSnapshot}, {KindSnapshot, 0}, {KindSnapshot, 4, 1}, {KindSnapshot, 1, 1}, {KindInput, 0, 1}} {
		_, _, err := DecodeSnapshotMessage(b)
		assert.ErrorIs(t, err, ErrMalformedMessage, "%x", b)
	}
}

func TestWelcomeRoundTrip(t *testing.T) {
	w := Welcome{Player: 12, TickRate: 60, SnapshotRate: 20, Tick: 123456}
	b := AppendWelcome(nil, w)
	got, err := DecodeWelcome(b)
	require.NoError(t, err)
	assert.Equal(t, w, got)
	for _, bad := range [][]byte{
		nil, b[:len(b)-1], append(bytes.Clone(b), 0),
		AppendWelcome(nil, Welcome{Player: 1, TickRate: 0, SnapshotRate: 0}),
		AppendWelcome(nil, Welcome{Player: 1, TickRate: 30, SnapshotRate: 60}),
		{KindSnapshot, 1, 60, 30, 0},
	} {
		_, err := DecodeWelcome(bad)
		assert.ErrorIs(t, err, ErrMalformedMessage, "%x", bad)
	}
}

func TestInputWriterRepeatsLastInputs(t *testing.T) {
	w, err := NewInputWriter(3)
	require.NoError(t, err)
	assert.Empty(t, w.AppendMessage(nil), "nothing pushed")
	decode := func() InputMessage {
		t.Helper()
		var m InputMessage
		require.NoError(t, DecodeInputMessage(w.AppendMessage(nil), &m))
		return m
	}
	inputs := func(m InputMessage) []string {
		var s []string
		for _, in := range m.Inputs {
			s = append(s, string(in))
		}
		return s
	}
	w.Push(10, []byte("a"))
	m := decode()
	assert.Equal(t, uint32(10), m.NewestTick)
	assert.Equal(t, []string{"a"}, inputs(m))
	w.Push(11, []byte("b"))
	w.Push(12, []byte("c"))
	w.Push(13, []byte("d"))
	assert.Equal(t, []string{"d", "c", "b"}, inputs(decode()))
	w.Push(20, []byte("x")) // gap: older inputs forgotten
	assert.Equal(t, []string{"x"}, inputs(decode()))
	w.SetResync(true)
	assert.True(t, decode().Resync)
	tick, ok := w.Newest()
	assert.True(t, ok)
	assert.Equal(t, uint32(20), tick)

	w2, err := NewInputWriter(4)
	require.NoError(t, err)
	w2.Push(0, []byte("z")) // tick 0: no ticks before it
	w2.Push(1, []byte("y"))
	assert.Equal(t, []string{"y", "z"}, inputs(func() InputMessage {
		var m InputMessage
		require.NoError(t, DecodeInputMessage(w2.AppendMessage(nil), &m))
		return m
	}()))

	for _, r := range []int{0, MaxInputRedundancy + 1} {
		_, err := NewInputWriter(r)
		assert.ErrorIs(t, err, ErrInvalidConfig)
	}
}

func FuzzDecodeInputMessage(f *testing.F) {
	f.Add(AppendInputMessage(nil, &InputMessage{NewestTick: 5, Inputs: [][]byte{{0xAA}}}))
	f.Add(AppendInputMessage(nil, &InputMessage{NewestTick: 300, Resync: true, Inputs: [][]byte{{1, 2}, {}, {3}, {4, 5, 6}}}))
	f.Add([]byte{KindInput, 0, 1, 3, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m InputMessage
		if err := DecodeInputMessage(b, &m); err != nil {
			require.ErrorIs(t, err, ErrMalformedMessage)
			return
		}
		// A decodable message re-encodes to one that decodes the same.
		var m2 InputMessage
		require.NoError(t, DecodeInputMessage(AppendInputMessage(nil, &m), &m2))
		require.Equal(t, m.NewestTick, m2.NewestTick)
		require.Equal(t, m.Resync, m2.Resync)
		require.Equal(t, len(m.Inputs), len(m2.Inputs))
		for i := range m.Inputs {
			require.Equal(t, m.Inputs[i], m2.Inputs[i])
		}
	})
}

func FuzzDecodeSnapshotMessage(f *testing.F) {
	f.Add(append(AppendSnapshotHeader(nil, SnapshotHeader{HasInputAck: true, InputAck: 77, InputLead: -3}), 0x93, 1, 0xc0, 0xc4, 0))
	f.Add(append(AppendSnapshotHeader(nil, SnapshotHeader{}), 1))
	f.Add(append(AppendSnapshotHeader(nil, SnapshotHeader{HasInputAck: true, InputAck: 9, SendBudget: 16000, EstimatedRate: 15500}), 1))
	f.Add(append(AppendSnapshotHeader(nil, SnapshotHeader{EstimatedRate: 7}), 1))
	f.Add(AppendWelcome(nil, Welcome{Player: 1, TickRate: 60, SnapshotRate: 30}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, payload, err := DecodeSnapshotMessage(b); err == nil {
			b2 := append(AppendSnapshotHeader(nil, h), payload...)
			h2, p2, err := DecodeSnapshotMessage(b2)
			require.NoError(t, err)
			require.Equal(t, h, h2)
			require.Equal(t, payload, p2)
		} else {
			require.ErrorIs(t, err, ErrMalformedMessage)
		}
		if w, err := DecodeWelcome(b); err == nil {
			w2, err := DecodeWelcome(AppendWelcome(nil, w))
			require.NoError(t, err)
			require.Equal(t, w, w2)
		} else {
			require.ErrorIs(t, err, ErrMalformedMessage)
		}
	})
}

func BenchmarkInputMessage(b *testing.B) {
	w, err := NewInputWriter(4)
	require.NoError(b, err)
	in := []byte{1, 2, 3, 4, 5, 6}
	buf := make([]byte, 0, 128)
	var m InputMessage
	m.Inputs = make([][]byte, 0, MaxInputRedundancy)
	var tick uint32
	b.ReportAllocs()
	for b.Loop() {
		w.Push(tick, in)
		tick++
		buf = w.AppendMessage(buf[:0])
		if err := DecodeInputMessage(buf, &m); err != nil {
			b.Fatal(err)
		}
	}
}
