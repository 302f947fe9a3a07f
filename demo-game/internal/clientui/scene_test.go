package clientui

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/netsim"
)

func TestSceneBuildOrderAndGeometry(t *testing.T) {
	l := NewLayout(ScreenWidth, ScreenHeight, true)
	s := game.NewStatic()
	ents := []game.Entity{
		{ID: 1, Kind: game.KindPlayer, X: game.Fixed(100), Y: game.Fixed(100), AimX: 127, Health: game.PlayerMaxHealth / 2},
		{ID: 2, Kind: game.KindPlayer, X: game.Fixed(200), Y: game.Fixed(100)},
		{ID: game.NPCIDBase, Kind: game.KindNPC, X: game.Fixed(300), Y: game.Fixed(300)},
		{ID: game.NPCIDBase + 1, Kind: game.KindNPC, X: game.Fixed(400), Y: game.Fixed(300), RespawnTicks: 9}, // dead
		{ID: game.ProjectileIDBase, Kind: game.KindProjectile, X: game.Fixed(500), Y: game.Fixed(500), Owner: 2},
	}
	ghost := ents[0]
	ghost.X += game.Fixed(10)
	var sc Scene
	sc.Build(l, s, ents, 1, &ghost)

	var order []string
	for _, sh := range sc.Shapes {
		if sh.Kind == ShapeRect || sh.Kind == ShapeBar {
			continue
		}
		order = append(order, kindName(sh.Kind)+":"+idName(sh.ID))
	}
	// Own player (1) after the other player, marked by a ring under it, its
	// aim line after it, ghost last.
	assert.Equal(t, []string{"disc:npc0", "disc:proj0", "disc:p2", "ring:p1", "disc:p1", "aim:p1", "ring:p1"}, order)

	walls := 0
	for _, sh := range sc.Shapes {
		if sh.Kind == ShapeRect {
			walls++
			assert.Equal(t, game.WallColor(), sh.Color)
		}
	}
	assert.Equal(t, len(s.Walls), walls)

	own := find(t, sc, ShapeDisc, 1)
	assert.Equal(t, Point{80, 80}, own.Center)
	assert.InDelta(t, game.PlayerRadius*0.8, own.Radius, 1e-9)
	assert.Equal(t, game.PlayerColor(1), own.Color)
	assert.True(t, own.Label)
	aim := find(t, sc, ShapeAimLine, 1)
	assert.Greater(t, aim.Center.X, own.Center.X+own.Radius, "aim line starts outside the disc")
	assert.InDelta(t, own.Center.Y, aim.End.Y, 1e-9, "aiming right")
	mark := find(t, sc, ShapeRing, 1)
	assert.True(t, mark.Own)
	assert.Equal(t, own.Center, mark.Center)
	assert.InDelta(t, own.Radius+4, mark.Radius, 1e-9, "around the disc")
	assert.Equal(t, OwnMarkColor(), mark.Color)
	assert.True(t, own.Own)
	assert.False(t, find(t, sc, ShapeDisc, 2).Own, "only the own player is marked")
	ring := sc.Shapes[len(sc.Shapes)-1]
	require.Equal(t, ShapeRing, ring.Kind)
	assert.False(t, ring.Own)
	assert.Equal(t, Point{88, 80}, ring.Center)
	assert.Equal(t, GhostColor(), ring.Color)
	var bars []Shape
	for _, sh := range sc.Shapes {
		if sh.Kind == ShapeBar && sh.ID == 1 {
			bars = append(bars, sh)
		}
	}
	require.Len(t, bars, 2, "health bar: background and fill")
	assert.Equal(t, Rect{X: own.Center.X - own.Radius, Y: own.Center.Y - own.Radius - 6, W: 2 * own.Radius, H: 3}, bars[0].Rect)
	assert.InDelta(t, own.Radius, bars[1].Rect.W, 1e-9, "half health, half a bar")
	assert.NotEqual(t, bars[1].Color, game.PlayerColor(1))
	npc := find(t, sc, ShapeDisc, game.NPCIDBase)
	assert.Equal(t, game.NPCColor(), npc.Color)
	assert.False(t, npc.Label)

	// Rebuilding reuses the storage.
	n := len(sc.Shapes)
	allocs := testing.AllocsPerRun(50, func() { sc.Build(l, s, ents, 1, &ghost) })
	assert.Equal(t, n, len(sc.Shapes))
	assert.Zero(t, allocs)
}

func find(t *testing.T, sc Scene, k ShapeKind, id uint32) Shape {
	t.Helper()
	for _, sh := range sc.Shapes {
		if sh.Kind == k && sh.ID == id {
			return sh
		}
	}
	require.Failf(t, "shape not found", "kind %d id %d", k, id)
	return Shape{}
}

func kindName(k ShapeKind) string {
	return map[ShapeKind]string{ShapeDisc: "disc", ShapeRing: "ring", ShapeAimLine: "aim"}[k]
}

func idName(id uint32) string {
	switch {
	case id >= game.ProjectileIDBase:
		return "proj" + string(rune('0'+id-game.ProjectileIDBase))
	case id >= game.NPCIDBase:
		return "npc" + string(rune('0'+id-game.NPCIDBase))
	}
	return "p" + string(rune('0'+id))
}

func TestOfflineMatchesTheRules(t *testing.T) {
	o, err := NewOffline(7, 3)
	require.NoError(t, err)
	w, err := game.New(game.Config{NPCs: 3, MaxPlayers: game.DefaultConfig().MaxPlayers, Seed: 7})
	require.NoError(t, err)
	require.NoError(t, w.AddPlayer(OfflinePlayerID))
	for range 200 {
		in := Script(o.Tick())
		o.Step(in)
		require.NoError(t, w.SetInput(OfflinePlayerID, in))
		w.Step()
	}
	assert.Equal(t, uint32(200), o.Tick())
	assert.Equal(t, w.Entities(nil), o.Entities())
	own, ok := Own(o.Entities(), OfflinePlayerID)
	require.True(t, ok)
	assert.Equal(t, game.KindPlayer, own.Kind)
	_, ok = Own(o.Entities(), 99)
	assert.False(t, ok)

	v := o.View(t0, DefaultToggles())
	assert.False(t, v.Online)
	assert.Nil(t, v.Ghost)
	assert.Equal(t, uint32(OfflinePlayerID), v.Own)
	assert.ErrorIs(t, o.SetLink(netsim.Config{}), ErrNoLink)
	assert.NoError(t, o.Close())
}

func TestSceneHealthBarBelowAtTheTopEdge(t *testing.T) {
	l := NewLayout(ScreenWidth, ScreenHeight, true)
	var sc Scene
	e := game.Entity{ID: 2, Kind: game.KindPlayer, X: game.Fixed(300), Y: game.Fixed(game.PlayerRadius), Health: 10}
	sc.Build(l, game.NewStatic(), []game.Entity{e}, 1, nil)
	disc := find(t, sc, ShapeDisc, 2)
	bar := find(t, sc, ShapeBar, 2)
	assert.Greater(t, bar.Rect.Y, disc.Center.Y, "bar below the disc")
	assert.GreaterOrEqual(t, bar.Rect.Y, l.Arena.Y)
}
