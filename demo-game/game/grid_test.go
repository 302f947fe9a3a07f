package game

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// firstHitLinear is the rule written plainly: the first target in index
// order (players by ID, then NPCs) that the projectile touches.
func firstHitLinear(w *World, pr *projectile) int {
	for i := range len(w.players) + len(w.npcs) {
		if w.touches(pr, i) {
			return i
		}
	}
	return -1
}

func TestGridMatchesLinearScan(t *testing.T) {
	w := benchWorld(t, 300)
	r := newRNG(21)
	// Scatter the players (some dead) so cells hold several targets each.
	for i := range w.players {
		p := &w.players[i].p
		p.X = Fixed(int32(WallThickness + PlayerRadius + r.intn(ArenaWidth-2*(WallThickness+PlayerRadius))))
		p.Y = Fixed(int32(WallThickness + PlayerRadius + r.intn(ArenaHeight-2*(WallThickness+PlayerRadius))))
		if r.intn(5) == 0 {
			p.RespawnTicks = 10
		}
	}
	w.grid.build(w)
	hitsSeen := 0
	for range 20000 {
		pr := projectile{
			owner: 1 + r.intn(310),
			x:     int32(r.intn(uint32(Fixed(ArenaWidth)))),
			y:     int32(r.intn(uint32(Fixed(ArenaHeight)))),
		}
		want := firstHitLinear(w, &pr)
		require.Equal(t, want, w.grid.firstHit(w, &pr), "projectile at (%d, %d) owner %d", pr.x, pr.y, pr.owner)
		if want >= 0 {
			hitsSeen++
		}
	}
	assert.Greater(t, hitsSeen, 500, "the sample exercises hits")

	// Every living target is in exactly one cell; dead ones in none.
	alive := 0
	for i := range w.players {
		if w.players[i].p.Alive() {
			alive++
		}
	}
	for i := range w.npcs {
		if w.npcs[i].respawnTicks == 0 {
			alive++
		}
	}
	assert.Len(t, w.grid.items, alive)
}

func TestClonesStepIndependently(t *testing.T) {
	// Clones share no scratch memory: stepping them in parallel is race-free
	// (run with -race) and gives the same result as stepping them alone.
	w := benchWorld(t, 50)
	for range 100 {
		w.Step()
	}
	ref := w.Clone()
	for range 300 {
		ref.Step()
	}
	clones := []*World{w.Clone(), w.Clone(), w.Clone()}
	var wg sync.WaitGroup
	for _, c := range clones {
		wg.Go(func() {
			for range 300 {
				c.Step()
			}
		})
	}
	wg.Wait()
	for i, c := range clones {
		assert.Equal(t, ref.Checksum(), c.Checksum(), "clone %d", i)
	}
}
