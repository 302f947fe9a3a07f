package main

import (
	"cmp"
	"math/rand/v2"
	"slices"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
)

// The load-test world: players steer at up to 3 units per tick in a square
// world; resting props never move. Each client sees the entities in the
// 3×3 grid cells around its player (interest management), so a snapshot
// holds a few dozen entities whatever the player count.
const (
	worldSize = 8000 // units; fits 13 bits
	cellSize  = 250
	gridCells = worldSize / cellSize
	propBase  = 1 << 24 // prop entity ids start here; players use their PlayerID
)

var schema = state.Schema{Fields: []state.Field{
	{Name: "x", Bits: 13}, {Name: "y", Bits: 13},
	{Name: "vx", Bits: 3, Signed: true}, {Name: "vy", Bits: 3, Signed: true},
}}

type entity struct {
	id           uint32
	x, y, vx, vy int32
	idx          int // its index in the world Snapshot lists (order is kept sorted by id)
}

// loadGame is a server.Game and server.Interest whose View is safe for
// concurrent calls (it only reads the world and the grid, which Step
// rebuilds).
type loadGame struct {
	players map[server.PlayerID]*entity
	order   []*entity                      // players and props
	grid    [gridCells * gridCells][]int32 // world indexes (entity.idx) by cell
	rng     *rand.Rand
	props   int // props per player
	nextID  uint32
}

func newLoadGame(seed uint64, propsPerPlayer int) *loadGame {
	return &loadGame{players: map[server.PlayerID]*entity{}, rng: rand.New(rand.NewPCG(seed, 1)), props: propsPerPlayer}
}

func (g *loadGame) spawn(id uint32) *entity {
	e := &entity{id: id, x: g.rng.Int32N(worldSize), y: g.rng.Int32N(worldSize)}
	g.order = append(g.order, e)
	return e
}

func (g *loadGame) AddPlayer(id server.PlayerID) error {
	g.players[id] = g.spawn(uint32(id))
	for range g.props {
		g.spawn(propBase + g.nextID)
		g.nextID++
	}
	g.reindex()
	g.rebuild()
	return nil
}

func (g *loadGame) RemovePlayer(id server.PlayerID) {
	e := g.players[id]
	delete(g.players, id)
	g.order = slices.DeleteFunc(g.order, func(o *entity) bool { return o == e })
	g.reindex()
	g.rebuild()
}

func (g *loadGame) ApplyInput(id server.PlayerID, _ uint32, input []byte) {
	if e := g.players[id]; e != nil && len(input) >= 2 {
		e.vx = max(-3, min(3, int32(int8(input[0]))))
		e.vy = max(-3, min(3, int32(int8(input[1]))))
	}
}

func (g *loadGame) Step(uint32) {
	for _, e := range g.players {
		e.x = max(0, min(worldSize-1, e.x+e.vx))
		e.y = max(0, min(worldSize-1, e.y+e.vy))
	}
	g.rebuild()
}

func cellOf(v int32) int { return int(v) / cellSize }

func (g *loadGame) rebuild() {
	for i := range g.grid {
		g.grid[i] = g.grid[i][:0]
	}
	for _, e := range g.order {
		c := cellOf(e.y)*gridCells + cellOf(e.x)
		g.grid[c] = append(g.grid[c], int32(e.idx))
	}
}

// reindex keeps order sorted by id, so that Snapshot adds the entities in
// the order the server keeps them (sorted by id): an entity's world index
// is then its place in order, and View needs no search.
func (g *loadGame) reindex() {
	slices.SortFunc(g.order, func(a, b *entity) int { return cmp.Compare(a.id, b.id) })
	for i, e := range g.order {
		e.idx = i
	}
}

// Snapshot adds every player and prop, in id order.
func (g *loadGame) Snapshot(_ uint32, dst *state.Snapshot) {
	for _, e := range g.order {
		f := dst.Add(e.id)
		f[0], f[1], f[2], f[3] = e.x, e.y, e.vx, e.vy
	}
}

// View (server.Interest) shows the viewer the entities in the 3×3 cells
// around its player.
func (g *loadGame) View(viewer server.PlayerID, world *state.Snapshot, v *state.View) {
	me := g.players[viewer]
	if me == nil {
		return
	}
	cx, cy := cellOf(me.x), cellOf(me.y)
	for y := max(0, cy-1); y <= min(gridCells-1, cy+1); y++ {
		for x := max(0, cx-1); x <= min(gridCells-1, cx+1); x++ {
			for _, i := range g.grid[y*gridCells+x] {
				v.Add(int(i)) // Snapshot added order, sorted by id: the world's order
			}
		}
	}
}
