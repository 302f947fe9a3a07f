package server_test

import (
	"fmt"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
)

// lineGame puts each player on a line at x = 10·id; a player sees what is
// within 15 units of itself.
type lineGame struct{ players []server.PlayerID }

func (g *lineGame) AddPlayer(id server.PlayerID) error         { g.players = append(g.players, id); return nil }
func (g *lineGame) RemovePlayer(server.PlayerID)               {}
func (g *lineGame) ApplyInput(server.PlayerID, uint32, []byte) {}
func (g *lineGame) Step(uint32)                                {}

// Snapshot lists the whole world, once per tick for every player.
func (g *lineGame) Snapshot(_ uint32, dst *state.Snapshot) {
	for _, id := range g.players {
		dst.Add(uint32(id))[0] = 10 * int32(id)
	}
}

// View makes lineGame a server.Interest: mark the entities viewer sees.
func (g *lineGame) View(viewer server.PlayerID, world *state.Snapshot, v *state.View) {
	me, ok := world.Find(uint32(viewer))
	if !ok {
		return // not in the world: sees nothing
	}
	x := world.Fields(me)[0]
	for i := range world.Len() {
		if d := world.Fields(i)[0] - x; d >= -15 && d <= 15 {
			v.Add(i)
		}
	}
}

// Interest management: the server takes the world once per tick and asks
// the game's View which entities each player sees. ViewSnapshot shows what
// a player would be sent (for a game's tests).
func ExampleInterest() {
	g := &lineGame{}
	for id := server.PlayerID(1); id <= 5; id++ {
		_ = g.AddPlayer(id)
	}
	for _, viewer := range []server.PlayerID{1, 3} {
		s := server.ViewSnapshot(g, viewer, 0, 1)
		fmt.Printf("player %d sees %v\n", viewer, s.IDs)
	}
	// Output:
	// player 1 sees [1 2]
	// player 3 sees [2 3 4]
}
