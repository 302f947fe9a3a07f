package client_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/client"
)

// TestSpawnDespawnOnce: every entity is reported spawned once when it
// enters the view and despawned once when it leaves, also when the
// snapshot that carried the change was lost (here: not sent), and every
// remaining entity despawns once when the connection ends.
func TestSpawnDespawnOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, dial := newFakeServer(t, nil, netsim.Config{Latency: 10 * time.Millisecond})
		cfg := dotConfig()
		cfg.Dial = dial
		c := connectFake(t, f, cfg)
		f.welcome(1, 0)
		frames(3, f, c, move{})

		type ev = client.EntityEvent
		spawn := func(id, tick uint32) ev { return ev{Kind: client.Spawned, ID: id, Tick: tick} }
		despawn := func(id, tick uint32) ev { return ev{Kind: client.Despawned, ID: id, Tick: tick} }
		steps := []struct {
			name string
			tick uint32
			ids  []uint32
			lost bool
			want []ev
		}{
			{"first snapshot", 2, []uint32{1, 5}, false, []ev{spawn(1, 2), spawn(5, 2)}},
			{"7 appears, lost", 4, []uint32{1, 5, 7}, true, nil},
			{"7 seen in a later one", 6, []uint32{1, 5, 7}, false, []ev{spawn(7, 6)}},
			{"no change", 8, []uint32{1, 5, 7}, false, nil},
			{"5 leaves, lost", 10, []uint32{1, 7}, true, nil},
			{"5 gone in a later one", 12, []uint32{1, 7}, false, []ev{despawn(5, 12)}},
			{"5 back, 7 gone, 9 new", 14, []uint32{1, 5, 9}, false, []ev{spawn(5, 14), despawn(7, 14), spawn(9, 14)}},
			{"9 comes and goes between two snapshots, both lost", 16, []uint32{1, 5, 9, 11}, true, nil},
			{"", 18, []uint32{1, 5, 9}, true, nil},
			{"nothing to report for 11", 20, []uint32{1, 5, 9}, false, nil},
		}
		for _, s := range steps {
			if !s.lost {
				f.snapshot(s.tick, 0, s.ids...)
			}
			var got []ev
			for range 4 {
				frames(1, f, c, move{})
				got = append(got, c.Events()...)
			}
			assert.Equal(t, s.want, got, "tick %d: %s", s.tick, s.name)
		}

		// An older snapshot arriving late changes nothing (sequenced
		// channels drop it; the client would ignore it too).
		f.snapshot(13, 0, 1, 7)
		frames(4, f, c, move{})
		assert.Empty(t, c.Events())

		// The server goes away: what is left despawns, once.
		require.NoError(t, f.srv.Close())
		var got []ev
		for range 10 {
			frames(1, f, c, move{})
			got = append(got, c.Events()...)
		}
		assert.Equal(t, []ev{despawn(1, 20), despawn(5, 20), despawn(9, 20)}, got)
		st := c.Status()
		assert.Equal(t, client.Disconnected, st.State)
		assert.ErrorIs(t, st.Err, netcode.ErrDisconnected)
		_, _, ok := c.Newest()
		assert.False(t, ok, "the old world is gone")
		_, _, ok = c.Predicted()
		assert.False(t, ok)
	})
}

// TestEntityKinds: with several entity kinds, events carry each entity's
// kind (a kind change is a despawn and a spawn), the own entity is read
// from its kind's fields, and remote entities interpolate each field as its
// type says (bools and enums in steps) when Config.Interp is nil.
func TestEntityKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		codec := state.CodecConfig{Kinds: []state.Kind{
			{Name: "dot", Fields: dotCodec.Schema.Fields},
			{Name: "flag", Fields: []state.Field{state.BoolField("up"), state.EnumField("team", 3), state.IntField("x", 10, true)}},
		}}
		f, dial := newFakeServer(t, nil, netsim.Config{Latency: 10 * time.Millisecond})
		f.useCodec(codec)
		cfg := dotConfig()
		cfg.Codec = codec
		cfg.Dial = dial
		c := connectFake(t, f, cfg)
		f.welcome(1, 0)
		frames(3, f, c, move{})

		type ev = client.EntityEvent
		var got []ev
		step := func(tick uint32, ents ...ent) {
			f.snapshotOf(tick, ents...)
			for range 4 {
				frames(1, f, c, move{})
				got = append(got, c.Events()...)
			}
		}
		step(2, ent{1, 0, []int32{5, 6}}, ent{50, 1, []int32{0, 0, -8}})
		assert.Equal(t, []ev{
			{Kind: client.Spawned, ID: 1, EntityKind: 0, Tick: 2},
			{Kind: client.Spawned, ID: 50, EntityKind: 1, Tick: 2},
		}, got)
		own, _, ok := c.Predicted()
		require.True(t, ok)
		assert.Equal(t, dot{5, 6}, own, "the own dot from its kind's fields")

		got = nil
		for tick := uint32(4); tick <= 40; tick += 2 {
			up := int32(0)
			if tick >= 20 {
				up = 1
			}
			step(tick, ent{1, 0, []int32{5, 6}}, ent{50, 1, []int32{up, int32(tick/10) % 3, int32(tick)}})
			fr, ok := c.Remote(time.Now())
			require.True(t, ok)
			i, ok := fr.Find(50)
			require.True(t, ok)
			assert.Equal(t, uint8(1), fr.Kind(i))
			v := fr.Fields(i)
			assert.Contains(t, []float64{0, 1}, v[0], "a bool does not blend")
			assert.Contains(t, []float64{0, 1, 2}, v[1], "an enum does not blend")
		}
		assert.Empty(t, got, "no kind or set change")

		step(42, ent{1, 0, []int32{5, 6}}, ent{50, 0, []int32{7, 7}})
		assert.Equal(t, []ev{
			{Kind: client.Despawned, ID: 50, EntityKind: 1, Tick: 42},
			{Kind: client.Spawned, ID: 50, EntityKind: 0, Tick: 42},
		}, got, "a kind change is a new entity")
	})
}
