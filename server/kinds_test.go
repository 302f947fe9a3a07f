package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// twoKindCodec has players (x, y, hp) and projectiles (x only): Stride 3,
// and no Schema.
var twoKindCodec = state.CodecConfig{Kinds: []state.Kind{
	{Name: "player", Fields: []state.Field{{Name: "x", Bits: 12}, {Name: "y", Bits: 12}, {Name: "hp", Bits: 7}}},
	{Name: "projectile", Fields: []state.Field{{Name: "x", Bits: 12}}},
}}

// kindsGame shows each player as a player entity (id = PlayerID) and, on
// some ticks, projectiles (ids 100+): one that lives on ticks 2..7 and one
// that appears every third tick.
type kindsGame struct {
	testGame
	strides []int // the Stride of every snapshot the server handed over
}

func (g *kindsGame) Snapshot(tick uint32, dst *state.Snapshot) {
	g.strides = append(g.strides, dst.Stride)
	for _, p := range g.players {
		f := dst.AddKind(p.id, 0)
		f[0], f[1], f[2] = int32(tick), 2*int32(p.id), 100-int32(p.id)
	}
	if tick >= 2 && tick <= 7 {
		dst.AddKind(101, 1)[0] = int32(tick * 10)
	}
	if tick%3 == 0 {
		dst.AddKind(100, 1)[0] = 1000 + int32(tick)
	}
}

// wantKindsSnapshot is what kindsGame shows at tick with players.
func wantKindsSnapshot(tick uint32, players []uint32) *state.Snapshot {
	s := state.NewSnapshot(tick, 3, 0)
	if tick%3 == 0 {
		copy(s.AddKind(100, 1), []int32{1000 + int32(tick)})
	}
	if tick >= 2 && tick <= 7 {
		copy(s.AddKind(101, 1), []int32{int32(tick * 10)})
	}
	for _, id := range players {
		copy(s.AddKind(id, 0), []int32{int32(tick), 2 * int32(id), 100 - int32(id)})
	}
	s.Sort()
	return s
}

// TestServerTwoKindCodec runs a codec with two entity kinds (Kinds, no
// Schema) through the server: the Game gets snapshots of the codec's
// stride, and a client decodes every snapshot, full and delta, to what the
// Game showed, kinds included.
func TestServerTwoKindCodec(t *testing.T) {
	g := &kindsGame{testGame: *newTestGame(0)}
	tr := newFakeTransport()
	s, err := New(Config{Codec: twoKindCodec, SnapshotRate: 60}, g, tr)
	require.NoError(t, err)
	ts := &testServer{Server: s, tr: tr, start: time.Unix(1000, 0)}
	tr.connect(1)
	tr.connect(2)
	readers := map[ClientID]*wire.SnapshotReader{}
	for _, c := range []ClientID{1, 2} {
		readers[c], err = wire.NewSnapshotReader(twoKindCodec, 0)
		require.NoError(t, err)
	}
	deltas := 0
	for tick := range uint32(12) {
		ts.stepTo(t, uint64(tick))
		sent := tr.take(DefaultSnapshotChannel)
		require.Len(t, sent, 2, "tick %d", tick)
		for _, m := range sent {
			snap, _, err := readers[m.client].Read(m.msg)
			require.NoError(t, err, "client %d tick %d", m.client, tick)
			want := wantKindsSnapshot(tick, []uint32{1, 2})
			require.True(t, want.Equal(snap), "client %d tick %d: got %+v, want %+v", m.client, tick, snap, want)
			if payloadHeaderWith(t, twoKindCodec, m.msg).Delta {
				deltas++
			}
			tr.ack(m)
		}
	}
	assert.Equal(t, 2*11, deltas, "every snapshot after the first is a delta")
	st := ts.Stats()
	assert.Equal(t, uint64(2), st.SnapshotsFull)
	assert.Equal(t, uint64(22), st.SnapshotsDelta)
	assert.Zero(t, st.Drops[DropSnapshotInvalid])
	require.NotEmpty(t, g.strides)
	for _, stride := range g.strides {
		require.Equal(t, twoKindCodec.Stride(), stride)
	}
}

func payloadHeaderWith(t testing.TB, codec state.CodecConfig, msg []byte) state.Header {
	t.Helper()
	_, payload, err := wire.DecodeSnapshotMessage(msg)
	require.NoError(t, err)
	dec, err := state.NewDecoder(codec)
	require.NoError(t, err)
	h, err := dec.ReadHeader(payload)
	require.NoError(t, err)
	return h
}
