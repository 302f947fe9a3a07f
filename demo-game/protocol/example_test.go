package protocol_test

import (
	"fmt"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/client"
)

// A demo client is the public client runtime configured from the pieces
// the demo server shares; it only needs how to connect (Addr, or Dial).
func Example() {
	cfg := client.Config[game.Player, game.Input]{
		Addr:            "127.0.0.1:7777",
		Codec:           protocol.Codec(),
		OwnState:        protocol.OwnState,
		AppendInput:     protocol.AppendInput,
		Step:            protocol.Stepper(game.NewStatic()),
		Equal:           state.EqualComparable[game.Player],
		InputRedundancy: protocol.InputRedundancy,
		Correction:      protocol.Correction,
		CorrectionDims:  protocol.CorrectionDims,
		SnapDistance:    protocol.SnapDistance,
		Interp:          protocol.Interp(),
	}
	cfg.Netcode.ProtocolID = protocol.ProtocolID
	fmt.Println(cfg.Validate())

	// The own player as a snapshot carries it, and one predicted tick.
	fields := game.Player{X: game.Fixed(100), Y: game.Fixed(200), Health: game.PlayerMaxHealth}.Entity().AppendFields(nil)
	p, err := protocol.OwnState(fields)
	fmt.Println(err, game.Units(p.X), game.Units(p.Y))
	p = cfg.Step(p, game.Input{Buttons: game.ButtonRight})
	fmt.Printf("after one tick right: x %.3f, corrected back: %v\n", game.Units(p.X), protocol.Correction(nil, p, p))
	// Output:
	// <nil>
	// <nil> 100 200
	// after one tick right: x 100.625, corrected back: [0 0]
}
