package game

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEntityFieldsSchema(t *testing.T) {
	specs := EntityFields()
	require.Len(t, specs, NumEntityFields)
	total := 0
	for _, s := range specs {
		assert.NotEmpty(t, s.Name)
		assert.True(t, s.Bits >= 1 && s.Bits <= 32, "%s bits", s.Name)
		total += int(s.Bits)
	}
	assert.Equal(t, 166, total, "bits per full entity (documented)")

	// The extremes the rules can produce fit their fields.
	extremes := []Entity{
		{Kind: KindProjectile, X: Fixed(ArenaWidth), Y: Fixed(ArenaHeight), VX: DashSpeed, VY: -DashSpeed,
			AimX: -128, AimY: 127, Health: PlayerMaxHealth, Owner: MaxPlayerID, Score: MaxScore, Deaths: MaxScore,
			DashTicks: DashTicks, DashCooldown: DashCooldown, FireCooldown: FireCooldown, RespawnTicks: max(RespawnDelay, NPCRespawnDelay)},
		{Kind: KindPlayer, VX: -DashSpeed, VY: DashSpeed},
	}
	for _, e := range extremes {
		got, err := EntityFromFields(e.ID, e.AppendFields(nil))
		require.NoError(t, err)
		assert.Equal(t, e, got)
	}
}

func TestEntityFromFieldsRejects(t *testing.T) {
	valid := Entity{ID: 4, Kind: KindNPC, X: 100, Y: 100, Health: 5}.AppendFields(nil)
	tests := []struct {
		name string
		mod  func(f []int32) []int32
		want string
	}{
		{"too few fields", func(f []int32) []int32 { return f[:3] }, "3 fields, want 15"},
		{"zero kind", func(f []int32) []int32 { f[FieldKind] = 0; return f }, "kind = 0"},
		{"negative x", func(f []int32) []int32 { f[FieldX] = -1; return f }, "x = -1"},
		{"huge velocity", func(f []int32) []int32 { f[FieldVY] = 5000; return f }, "vy = 5000, want -4096..4095"},
		{"aim out of int8", func(f []int32) []int32 { f[FieldAimX] = 128; return f }, "aimx = 128"},
		{"owner beyond player IDs", func(f []int32) []int32 { f[FieldOwner] = MaxPlayerID + 1; return f }, "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EntityFromFields(4, tt.mod(append([]int32(nil), valid...)))
			require.ErrorIs(t, err, ErrInvalidEntity)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestEntitiesFromPlayAlwaysFitTheSchema(t *testing.T) {
	w := benchWorld(t, 40)
	r := newRNG(8)
	var es []Entity
	var f []int32
	for tick := range 3000 {
		if tick%20 == 0 {
			for id := uint32(1); id <= 40; id++ {
				require.NoError(t, w.SetInput(id, script(&r)))
			}
		}
		w.Step()
		es = w.Entities(es[:0])
		for _, e := range es {
			half := e.Radius() << FixedShift
			if e.Kind == KindProjectile {
				half = 0 // a projectile touching a wall is removed; its centre never enters one
			}
			require.False(t, w.Static().Blocked(e.X, e.Y, half), "tick %d: %v %d inside a wall", tick, e.Kind, e.ID)
			f = e.AppendFields(f[:0])
			got, err := EntityFromFields(e.ID, f)
			require.NoError(t, err, "tick %d entity %d", tick, e.ID)
			require.Equal(t, e, got)
		}
	}
}

func FuzzEntityFromFields(f *testing.F) {
	seed := func(e Entity) []byte {
		var b []byte
		for _, v := range e.AppendFields(nil) {
			b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		}
		return b
	}
	f.Add(seed(Entity{Kind: KindPlayer, X: Fixed(80), Y: Fixed(80), AimX: 127, Health: 100}))
	f.Add(seed(Entity{Kind: KindProjectile, X: Fixed(500), Y: Fixed(300), VX: ProjectileSpeed, Owner: 3}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		fields := make([]int32, 0, len(b)/4)
		for i := 0; i+4 <= len(b); i += 4 {
			fields = append(fields, int32(uint32(b[i])|uint32(b[i+1])<<8|uint32(b[i+2])<<16|uint32(b[i+3])<<24))
		}
		e, err := EntityFromFields(9, fields)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidEntity)
			return
		}
		require.Equal(t, fields, e.AppendFields(nil), "valid fields round-trip exactly")
	})
}
