package game_test

import (
	"fmt"

	"github.com/tickwire/tickwire/demo-game/game"
)

// A server steps the World; a client predicts its own player with StepPlayer
// from the last server state and lands on exactly the same position.
func Example() {
	cfg := game.DefaultConfig()
	cfg.NPCs = 2
	w, err := game.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := w.AddPlayer(1); err != nil {
		panic(err)
	}

	// The client's copy of its player at tick 0, and its inputs.
	predicted, _ := w.Player(1)
	in := game.Input{Buttons: game.ButtonRight | game.ButtonDown | game.ButtonFire, AimX: 1, AimY: 1}

	for range 30 {
		_ = w.SetInput(1, in) // server: input received for this tick
		w.Step()
		game.StepPlayer(&predicted, in, w.Static()) // client: prediction
	}

	server, _ := w.Player(1)
	fmt.Printf("tick %d: player at (%.1f, %.1f)\n", w.Tick(), game.Units(server.X), game.Units(server.Y))
	fmt.Println("prediction matches:", predicted == server)

	kinds := map[game.Kind]int{}
	for _, e := range w.Entities(nil) {
		kinds[e.Kind]++
	}
	fmt.Println(kinds[game.KindPlayer], "player,", kinds[game.KindNPC], "NPCs,", kinds[game.KindProjectile], "projectiles")
	fmt.Printf("player colour %v\n", game.PlayerColor(1))
	// Output:
	// tick 30: player at (159.8, 159.8)
	// prediction matches: true
	// 1 player, 2 NPCs, 3 projectiles
	// player colour [230 60 60 255]
}

// Inputs travel as three bytes.
func ExampleDecodeInput() {
	b, _ := game.Input{Buttons: game.ButtonUp | game.ButtonFire, AimX: -5, AimY: 100}.AppendBinary(nil)
	in, n, err := game.DecodeInput(b)
	fmt.Println(b, n, err)
	fmt.Println(in.Has(game.ButtonFire), in.Has(game.ButtonDash), in.AimX, in.AimY)
	// Output:
	// [17 251 100] 3 <nil>
	// true false -5 100
}
