package server

import (
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// PlayerID identifies a connected client's player in the Game. The server
// assigns ids from 1 upward and never reuses one while it runs.
type PlayerID = wire.PlayerID

// Game is the simulation a Server runs. The server calls its methods from
// the goroutine that runs the ticks (Run's, or the caller of Step), never
// concurrently except Snapshot (see Config.SnapshotWorkers), in this order
// each tick: AddPlayer/RemovePlayer for connects and disconnects,
// HandleMessage for the players' game messages when the Game is also a
// MessageHandler, ApplyInput for every player (in increasing PlayerID
// order), Step, then on snapshot ticks Snapshot once per player. A Kick
// calls RemovePlayer at once, from whatever method called Kick. For
// client-side prediction to match the server exactly, ApplyInput and Step
// must be deterministic (integer or fixed-point rules).
//
// Every method but Snapshot may call the Server back: Send, SendTo,
// Broadcast, Kick, Player, Players. The game gets the *Server by keeping
// what New returned (see ExampleServer_Send).
type Game interface {
	// AddPlayer adds a player who just connected. The player's Welcome is
	// already queued, and Player(id) describes it (its connect token's
	// user data says who it is), so AddPlayer may send it messages. An
	// error refuses the player: the server disconnects the client (what
	// was queued for it is not sent) and logs the error.
	AddPlayer(id PlayerID) error
	// RemovePlayer removes a player who disconnected, timed out or was
	// kicked. The player is no longer known to Send or Player.
	RemovePlayer(id PlayerID)
	// ApplyInput applies the player's input for tick (tick is the tick
	// about to be stepped). input is only valid during the call. The
	// game must tolerate any bytes: inputs come from the network.
	ApplyInput(id PlayerID, tick uint32, input []byte)
	// Step advances the world by one tick.
	Step(tick uint32)
	// Snapshot fills dst, which the server has Reset to tick and the
	// schema's stride, with the entities the viewer may see (the
	// interest-management hook): dst.Add(entityID) for each, then fill
	// its fields. Entities may be added in any order; values must fit
	// their schema fields. dst must not be retained. Snapshot only reads
	// the world, and must not call the Server.
	Snapshot(viewer PlayerID, tick uint32, dst *state.Snapshot)
}
