package arena

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
)

func TestConfigValidate(t *testing.T) {
	bad := game.DefaultConfig()
	bad.NPCs = -1
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" means valid
	}{
		{"zero", Config{}, ""},
		{"radius", Config{ViewRadius: 400}, ""},
		{"negative radius", Config{ViewRadius: -1}, "ViewRadius = -1, want 0 (the whole arena) or 1..16384"},
		{"huge radius", Config{ViewRadius: MaxViewRadius + 1}, "ViewRadius = 16385"},
		{"negative cap", Config{MaxViewEntities: -2}, "MaxViewEntities = -2, want 0 (default 4096) or 1..4096"},
		{"cap above decoder limit", Config{MaxViewEntities: 5000}, "MaxViewEntities = 5000"},
		{"bad game", Config{Game: bad}, "Game: game: invalid config: NPCs = -1, want 0..256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
			_, err = New(tt.cfg)
			assert.ErrorIs(t, err, ErrInvalidConfig, "New validates too")
		})
	}
}

func TestPlayersJoinAndLeave(t *testing.T) {
	cfg := game.DefaultConfig()
	cfg.MaxPlayers = 2
	a, err := New(Config{Game: cfg})
	require.NoError(t, err)

	require.NoError(t, a.AddPlayer(1))
	require.NoError(t, a.AddPlayer(2))
	assert.ErrorIs(t, a.AddPlayer(3), game.ErrWorldFull, "the world holds MaxPlayers")
	assert.ErrorIs(t, a.AddPlayer(1<<24), game.ErrInvalidPlayerID, "ids above game.MaxPlayerID are refused")
	a.RemovePlayer(1)
	a.RemovePlayer(1) // twice: counted once
	a.RemovePlayer(99)
	require.NoError(t, a.AddPlayer(3))

	st := a.Stats()
	assert.Equal(t, 2, st.Players)
	assert.Equal(t, uint64(3), st.Joined)
	assert.Equal(t, uint64(2), st.Refused)
	assert.Equal(t, uint64(1), st.Left)
	_, ok := a.World().Player(3)
	assert.True(t, ok)
}

func TestApplyInputToleratesGarbage(t *testing.T) {
	right := game.Input{Buttons: game.ButtonRight}
	good, _ := right.MarshalBinary()
	tests := []struct {
		name  string
		input []byte
	}{
		{"nil", nil},
		{"short", good[:2]},
		{"trailing byte", append(append([]byte{}, good...), 0)},
		{"undefined button bits", []byte{0xC0, 0, 0}},
		{"all ones", []byte{0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(Config{})
			require.NoError(t, err)
			require.NoError(t, a.AddPlayer(1))
			ref, err := game.New(game.DefaultConfig())
			require.NoError(t, err)
			require.NoError(t, ref.AddPlayer(1))

			a.ApplyInput(1, 0, good)
			require.NoError(t, ref.SetInput(1, right))
			for tick := uint32(0); tick < 30; tick++ {
				// Garbage keeps the previous input: the arena goes on
				// walking right like the reference world.
				a.ApplyInput(1, tick, tt.input)
				a.Step(tick)
				ref.Step()
			}
			assert.Equal(t, ref.Checksum(), a.World().Checksum())
			st := a.Stats()
			assert.Equal(t, uint64(30), st.BadInputs)
			assert.Equal(t, uint64(1), st.Inputs)
		})
	}
	t.Run("unknown player", func(t *testing.T) {
		a, err := New(Config{})
		require.NoError(t, err)
		a.ApplyInput(7, 0, good)
		assert.Equal(t, uint64(1), a.Stats().BadInputs)
	})
}

// TestMatchesWorld drives an arena and a bare world with the same joins and
// inputs: the arena adds nothing to the rules.
func TestMatchesWorld(t *testing.T) {
	a, err := New(Config{})
	require.NoError(t, err)
	ref, err := game.New(game.DefaultConfig())
	require.NoError(t, err)
	for id := uint32(1); id <= 4; id++ {
		require.NoError(t, a.AddPlayer(server.PlayerID(id)))
		require.NoError(t, ref.AddPlayer(id))
	}
	for tick := uint32(0); tick < 600; tick++ {
		for id := uint32(1); id <= 4; id++ {
			if id == 2 && tick > 300 {
				continue // left
			}
			in := scriptInput(tick, id)
			b, _ := in.MarshalBinary()
			a.ApplyInput(server.PlayerID(id), tick, b)
			require.NoError(t, ref.SetInput(id, in))
		}
		if tick == 300 {
			a.RemovePlayer(2)
			ref.RemovePlayer(2)
		}
		a.Step(tick)
		ref.Step()
	}
	assert.Equal(t, ref.Checksum(), a.World().Checksum())
	assert.Equal(t, uint64(600), a.Stats().Ticks)
}

// scriptInput is a deterministic input that walks, turns, fires and dashes.
func scriptInput(tick, id uint32) game.Input {
	dirs := [...]uint8{game.ButtonRight, game.ButtonDown, game.ButtonLeft, game.ButtonUp}
	in := game.Input{Buttons: dirs[(tick/40+id)%4], AimX: int8(tick*7 + id), AimY: int8(tick*3 - id)}
	if tick%3 == 0 {
		in.Buttons |= game.ButtonFire
	}
	if (tick+id)%90 == 0 {
		in.Buttons |= game.ButtonDash
	}
	return in
}

// snapshotOf builds viewer's snapshot the way the server does (Snapshot, then
// View) and returns the entities, decoded through the demo codec.
func snapshotOf(t *testing.T, a *Arena, viewer server.PlayerID) []game.Entity {
	t.Helper()
	cfg := Codec()
	snap := server.ViewSnapshot(a, viewer, 1, cfg.Schema.NumFields())
	enc, err := state.NewEncoder(cfg)
	require.NoError(t, err)
	payload, err := enc.Encode(nil, snap, nil)
	require.NoError(t, err, "every entity fits the schema")
	dec, err := state.NewDecoder(cfg)
	require.NoError(t, err)
	var got state.Snapshot
	_, err = dec.Decode(&got, payload, nil)
	require.NoError(t, err)
	ents := make([]game.Entity, 0, got.Len())
	for i := range got.Len() {
		e, err := game.EntityFromFields(got.IDs[i], got.Fields(i))
		require.NoError(t, err)
		ents = append(ents, e)
	}
	return ents
}

func TestSnapshotWholeArena(t *testing.T) {
	a, err := New(Config{})
	require.NoError(t, err)
	for id := server.PlayerID(1); id <= 3; id++ {
		require.NoError(t, a.AddPlayer(id))
	}
	// Player 1 spawns in the top-left corner: shots to the right fly far.
	fire, _ := game.Input{Buttons: game.ButtonFire, AimX: 1}.MarshalBinary()
	for tick := range uint32(20) {
		a.ApplyInput(1, tick, fire)
		a.Step(tick)
	}
	got := snapshotOf(t, a, 1)
	want := a.World().Entities(nil)
	require.Greater(t, len(want), 3+game.DefaultConfig().NPCs, "players, NPCs and projectiles")
	assert.ElementsMatch(t, want, got, "every entity, field for field")
}

func TestSnapshotViewRadius(t *testing.T) {
	a, err := New(Config{ViewRadius: 200})
	require.NoError(t, err)
	for id := server.PlayerID(1); id <= 8; id++ { // eight spawn points around the arena
		require.NoError(t, a.AddPlayer(id))
	}
	a.Step(0)
	all := a.World().Entities(nil)
	for viewer := uint32(1); viewer <= 8; viewer++ {
		me, ok := a.World().Player(viewer)
		require.True(t, ok)
		var want []game.Entity
		for _, e := range all {
			dx, dy := game.Units(e.X-me.X), game.Units(e.Y-me.Y)
			if dx*dx+dy*dy <= 200*200 {
				want = append(want, e)
			}
		}
		got := snapshotOf(t, a, server.PlayerID(viewer))
		assert.ElementsMatch(t, want, got, "viewer %d", viewer)
		assert.Less(t, len(got), len(all), "viewer %d does not see the whole arena", viewer)
	}
	assert.Empty(t, snapshotOf(t, a, 99), "a viewer without a player sees nothing in a limited view")
}

func TestSnapshotCap(t *testing.T) {
	a, err := New(Config{MaxViewEntities: 3})
	require.NoError(t, err)
	for id := server.PlayerID(1); id <= 5; id++ {
		require.NoError(t, a.AddPlayer(id))
	}
	a.Step(0)
	got := snapshotOf(t, a, 4)
	require.Len(t, got, 3)
	ids := []uint32{got[0].ID, got[1].ID, got[2].ID}
	assert.ElementsMatch(t, []uint32{1, 2, 4}, ids, "the viewer first, then the world's order")
}

func FuzzApplyInput(f *testing.F) {
	for _, in := range []game.Input{{}, {Buttons: game.ButtonMask, AimX: -128, AimY: 127}, {Buttons: game.ButtonFire, AimX: 3}} {
		b, _ := in.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0, 0, 0})
	a, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	if err := a.AddPlayer(1); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before := a.Stats()
		a.ApplyInput(1, 0, b)
		a.Step(0)
		after := a.Stats()
		_, _, err := game.DecodeInput(b)
		valid := err == nil && len(b) == game.InputSize
		if valid != (after.Inputs == before.Inputs+1) || valid == (after.BadInputs == before.BadInputs+1) {
			t.Fatalf("input %x: valid %v, inputs %d→%d, bad %d→%d", b, valid, before.Inputs, after.Inputs, before.BadInputs, after.BadInputs)
		}
		p, ok := a.World().Player(1)
		if !ok {
			t.Fatal("player gone")
		}
		if _, err := game.EntityFromFields(1, p.Entity().AppendFields(nil)); err != nil {
			t.Fatalf("player left its schema range: %v", err)
		}
	})
}

func BenchmarkSnapshot(b *testing.B) {
	for _, tc := range []struct {
		name   string
		radius int
	}{{"whole", 0}, {"radius300", 300}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := game.DefaultConfig()
			cfg.MaxPlayers = 64
			a, err := New(Config{Game: cfg, ViewRadius: tc.radius})
			require.NoError(b, err)
			for id := server.PlayerID(1); id <= 64; id++ {
				require.NoError(b, a.AddPlayer(id))
			}
			for tick := range uint32(30) {
				for id := uint32(1); id <= 64; id++ {
					in, _ := scriptInput(tick, id).MarshalBinary()
					a.ApplyInput(server.PlayerID(id), tick, in)
				}
				a.Step(tick)
			}
			world := state.NewSnapshot(0, game.NumEntityFields, 1024)
			var v state.View
			b.ReportAllocs()
			for b.Loop() {
				world.Reset(1, game.NumEntityFields)
				a.Snapshot(1, world)
				world.Sort()
				v.Reset(world.Len())
				a.View(7, world, &v)
			}
		})
	}
}

// TestPriority: the viewer's own player is urgent, and the nearer an
// entity, the more it matters (between 1 and 9).
func TestPriority(t *testing.T) {
	cfg := game.DefaultConfig()
	cfg.NPCs = 6
	a, err := New(Config{Game: cfg})
	require.NoError(t, err)
	require.NoError(t, a.AddPlayer(1))
	require.NoError(t, a.AddPlayer(2))
	a.Step(0)
	world := server.ViewSnapshot(a, 1, 0, game.NumEntityFields)
	me, ok := world.Find(1)
	require.True(t, ok)
	assert.Equal(t, float32(server.UrgentPriority), a.Priority(1, world, me))
	mx, my := world.Fields(me)[game.FieldX], world.Fields(me)[game.FieldY]
	type ranked struct {
		d float64
		p float32
	}
	var rs []ranked
	for i := range world.Len() {
		if i == me {
			continue
		}
		p := a.Priority(1, world, i)
		assert.GreaterOrEqual(t, p, float32(1))
		assert.LessOrEqual(t, p, float32(9))
		f := world.Fields(i)
		rs = append(rs, ranked{math.Hypot(float64(f[game.FieldX]-mx), float64(f[game.FieldY]-my)), p})
	}
	require.NotEmpty(t, rs)
	for _, x := range rs {
		for _, y := range rs {
			if x.d < y.d {
				assert.GreaterOrEqual(t, x.p, y.p, "nearer is at least as important")
			}
		}
	}
	assert.Equal(t, float32(1), a.Priority(99, world, me), "a viewer with no player: all alike")
}
