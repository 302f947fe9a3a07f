package server

import (
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// PlayerID identifies a connected client's player in the Game. The server
// assigns ids from 1 upward and never reuses one while it runs.
type PlayerID = wire.PlayerID

// Game is the simulation a Server runs. The server calls its methods from
// one goroutine only, in this order each tick: AddPlayer/RemovePlayer for
// connects and disconnects, ApplyInput for every player (in increasing
// PlayerID order), Step, then on snapshot ticks Snapshot once per player.
// For client-side prediction to match the server exactly, ApplyInput and
// Step must be deterministic (integer or fixed-point rules).
type Game interface {
	// AddPlayer adds a player who just connected. An error refuses the
	// player: the server disconnects the client and logs the error.
	AddPlayer(id PlayerID) error
	// RemovePlayer removes a player who disconnected or timed out.
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
	// their schema fields. dst must not be retained.
	Snapshot(viewer PlayerID, tick uint32, dst *state.Snapshot)
}
