package arena_test

import (
	"fmt"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/server"
)

// An Arena is what the server drives each tick: joins, inputs, a step, and
// one snapshot per viewer.
func ExampleArena() {
	cfg := game.DefaultConfig()
	cfg.NPCs = 2
	a, err := arena.New(arena.Config{Game: cfg})
	if err != nil {
		panic(err)
	}
	_ = a.AddPlayer(1)
	walk, _ := game.Input{Buttons: game.ButtonRight}.MarshalBinary()
	for tick := range uint32(60) {
		a.ApplyInput(1, tick, walk)
		a.ApplyInput(1, tick, []byte("garbage")) // ignored: the player keeps walking
		a.Step(tick)
	}
	snap := server.ViewSnapshot(a, 1, 60, game.NumEntityFields)
	st := a.Stats()
	fmt.Printf("ticks %d, inputs %d, bad %d, entities in view %d\n", st.Ticks, st.Inputs, st.BadInputs, snap.Len())
	// Output: ticks 60, inputs 60, bad 60, entities in view 3
}
