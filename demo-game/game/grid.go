package game

// targetGrid is a broad phase for projectile hits: a uniform grid over the
// arena holding the index of every living target (player i as i, NPC j as
// len(players)+j), bucketed by the cell of its centre with a counting sort.
// It is scratch memory rebuilt before the projectiles move each Step, not
// part of the game state: Clone, CopyFrom and Checksum ignore it.
type targetGrid struct {
	start []int32 // start[c]..start[c+1] index items for cell c
	items []int32 // target indices, ascending within each cell
	cell  []int32 // cell of each target, -1 when not in play
}

const (
	gridCell = 64 << FixedShift // cell size, fixed point
	gridW    = (ArenaWidth*FixedOne + gridCell - 1) / gridCell
	gridH    = (ArenaHeight*FixedOne + gridCell - 1) / gridCell
	// hitReach is the largest centre distance at which a projectile can
	// touch a target.
	hitReach = (max(PlayerRadius, NPCRadius) + ProjectileRadius) << FixedShift
)

func gridCoord(v, n int32) int32 {
	c := v / gridCell
	return min(max(c, 0), n-1)
}

// build buckets the living players and NPCs of w.
func (g *targetGrid) build(w *World) {
	n := len(w.players) + len(w.npcs)
	if cap(g.start) < gridW*gridH+1 {
		g.start = make([]int32, gridW*gridH+1)
	}
	g.start = g.start[:gridW*gridH+1]
	clear(g.start)
	g.cell = slicesGrow(g.cell, n)
	g.items = slicesGrow(g.items, n)
	for i := range w.players {
		p := &w.players[i].p
		g.cell[i] = -1
		if p.Alive() {
			g.cell[i] = gridCoord(p.Y, gridH)*gridW + gridCoord(p.X, gridW)
		}
	}
	for j := range w.npcs {
		nc := &w.npcs[j]
		i := len(w.players) + j
		g.cell[i] = -1
		if nc.respawnTicks == 0 {
			g.cell[i] = gridCoord(nc.y, gridH)*gridW + gridCoord(nc.x, gridW)
		}
	}
	// Counting sort: count into start[c+1], prefix-sum, then place in index
	// order so each cell lists its targets ascending.
	for _, c := range g.cell {
		if c >= 0 {
			g.start[c+1]++
		}
	}
	for c := 1; c < len(g.start); c++ {
		g.start[c] += g.start[c-1]
	}
	g.items = g.items[:g.start[len(g.start)-1]]
	fill := g.start[:len(g.start)-1] // advanced as items are placed, then restored
	for i, c := range g.cell {
		if c >= 0 {
			g.items[fill[c]] = int32(i)
			fill[c]++
		}
	}
	// fill[c] now equals the old start[c+1]; shift back.
	copy(g.start[1:], fill)
	g.start[0] = 0
}

// slicesGrow returns s resized to length n, reallocating only when its
// capacity is too small.
func slicesGrow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n, n+n/4+16)
	}
	return s[:n]
}

// firstHit returns the smallest target index (so players in ID order before
// NPCs, as the rules say) that pr touches and that is alive and not its
// owner, or -1.
func (g *targetGrid) firstHit(w *World, pr *projectile) int {
	best := -1
	cx0, cx1 := gridCoord(pr.x-hitReach, gridW), gridCoord(pr.x+hitReach, gridW)
	cy0, cy1 := gridCoord(pr.y-hitReach, gridH), gridCoord(pr.y+hitReach, gridH)
	for cy := cy0; cy <= cy1; cy++ {
		for cx := cx0; cx <= cx1; cx++ {
			c := cy*gridW + cx
			for _, idx := range g.items[g.start[c]:g.start[c+1]] {
				i := int(idx)
				if best >= 0 && i >= best {
					break // ascending within a cell: nothing better here
				}
				if w.touches(pr, i) {
					best = i
				}
			}
		}
	}
	return best
}
