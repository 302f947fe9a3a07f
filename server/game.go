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
// concurrently except Interest.View (see Config.SnapshotWorkers), in this
// order each tick: AddPlayer/RemovePlayer for connects and disconnects,
// HandleMessage for the players' game messages when the Game is also a
// MessageHandler, ApplyInput for every player (in increasing PlayerID
// order), Step, then on snapshot ticks Snapshot once, and View once per player
// when the Game is also an Interest. A Kick calls RemovePlayer at once, from
// whatever method called Kick. For client-side prediction to match the
// server exactly, ApplyInput and Step must be deterministic (integer or
// fixed-point rules).
//
// Every method but Snapshot and View may call the Server back: Send, SendTo,
// Broadcast, Kick, Player, Players. The game gets the *Server by keeping
// what New returned (see ExampleServer_Send).
//
// The world's state is taken once per tick and shared by every client: the
// server keeps one history of worlds by tick (Config.SnapshotHistory ticks)
// and, per client, only which entities it was sent, so memory grows with
// entities plus clients, not with their product. What only one player may
// know (its ammunition, a private hand of cards) goes in a message
// (Server.SendTo), or in an entity only that player's View includes.
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
	// Snapshot fills dst, which the server has Reset to tick and the codec's
	// stride, with every entity of the world: dst.Add(entityID) (or
	// AddKind) for each, then fill its fields. Entities may be added in
	// any order (the server sorts them); values must fit their codec
	// fields. dst must not be retained. Snapshot only reads the world, and
	// must not call the Server. Without Interest, every player sees all
	// of it.
	Snapshot(tick uint32, dst *state.Snapshot)
}

// Interest is an optional interface of a Game that limits what each player
// sees (interest management: a view radius, teams, fog of war).
type Interest interface {
	// View marks in v the entities of world that viewer sees: v.Add(i)
	// for world's entity i (world.IDs[i], fields world.Fields(i); world
	// is sorted by id, so world.Find(id) gives i), or v.SetAll(world.Len())
	// to show it everything (which the server stores for free). v is
	// empty when View is called. An entity not marked is not sent to viewer (it despawns
	// on its side). View only reads; with Config.SnapshotWorkers above 1
	// it runs concurrently for different viewers. world and v must not be
	// retained.
	View(viewer PlayerID, world *state.Snapshot, v *state.View)
}

// ViewSnapshot returns what the server sends viewer at tick: g's Snapshot,
// sorted by id, with only the entities g's View marks when g is an
// Interest. stride is the codec's (CodecConfig.Stride). It allocates: it is
// for a game's tests and tools, not for the tick.
func ViewSnapshot(g Game, viewer PlayerID, tick uint32, stride int) *state.Snapshot {
	world := state.NewSnapshot(tick, stride, 0)
	g.Snapshot(tick, world)
	world.Sort()
	in, ok := g.(Interest)
	if !ok {
		return world
	}
	var v state.View
	v.Reset(world.Len())
	in.View(viewer, world, &v)
	out, err := v.Select(world, state.NewSnapshot(tick, stride, v.Len()))
	if err != nil { // cannot happen: v is over world
		panic(err)
	}
	return out
}
