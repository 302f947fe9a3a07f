package server_test

import (
	"fmt"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
)

// nearGame puts each player on a line at x = 10·id, everyone in view; its
// entities matter more the nearer they are to the viewer, its own player
// most.
type nearGame struct{ players []server.PlayerID }

func (g *nearGame) AddPlayer(id server.PlayerID) error         { g.players = append(g.players, id); return nil }
func (g *nearGame) RemovePlayer(server.PlayerID)               {}
func (g *nearGame) ApplyInput(server.PlayerID, uint32, []byte) {}
func (g *nearGame) Step(uint32)                                {}
func (g *nearGame) Snapshot(_ uint32, dst *state.Snapshot) {
	for _, id := range g.players {
		dst.Add(uint32(id))[0] = 10 * int32(id)
	}
}

// Priority makes nearGame a server.Prioritizer.
func (g *nearGame) Priority(viewer server.PlayerID, world *state.Snapshot, i int) float32 {
	if world.IDs[i] == uint32(viewer) {
		return server.UrgentPriority // in every snapshot, whatever the budget
	}
	me, _ := world.Find(uint32(viewer))
	d := world.Fields(i)[0] - world.Fields(me)[0]
	if d < 0 {
		d = -d
	}
	return 1 + 100/float32(d) // near: up to 11; far: towards 1
}

// Priorities: when a player's snapshots cannot carry everything it sees
// (Config.SnapshotBudget, or the connection's send budget), each snapshot
// carries the entities of highest accumulated priority; the game says how
// much each matters to each viewer.
func ExamplePrioritizer() {
	g := &nearGame{}
	for id := server.PlayerID(1); id <= 4; id++ {
		_ = g.AddPlayer(id)
	}
	world := server.ViewSnapshot(g, 1, 0, 1)
	for i, id := range world.IDs {
		fmt.Printf("entity %d matters %.0f to player 1\n", id, g.Priority(1, world, i))
	}
	// Output:
	// entity 1 matters 1000 to player 1
	// entity 2 matters 11 to player 1
	// entity 3 matters 6 to player 1
	// entity 4 matters 4 to player 1
}
