// Package arena runs the demo game on the authoritative server: Arena is the
// server.Game of the demo, an adapter from package server's callbacks to the
// deterministic rules of demo-game/game. The demo server command builds a
// whole server around it (demo-game/internal/demoserver: UDP socket, netsim
// conditions, metrics); the client's -loopback mode runs it in-process over
// an in-memory pipe (demo-game/internal/loopback). Package arena itself uses
// only package server's core (Game, PlayerID), so it links no metrics or
// admin HTTP server.
//
// # What Arena does
//
// AddPlayer and RemovePlayer add and remove the player with the server's
// PlayerID. ApplyInput decodes a game.Input (game.InputSize bytes) and makes
// it the player's input from this tick on; anything else (short, long, or
// with undefined button bits: inputs come from the network) is counted in
// Stats.BadInputs and ignored, so the player keeps its previous input. Step
// advances the world one tick. Snapshot fills the server's shared world with
// every entity in the snapshot schema of Codec, which is the client's
// (protocol.Codec): one field per game.EntityFields entry, so an entity of
// the snapshot is exactly a game.Entity.
//
// Interest management (View, a server.Interest): with Config.ViewRadius
// set, a viewer sees itself,
// and every entity whose centre lies within ViewRadius world units of its
// own centre (a dead viewer sees around where it died); with ViewRadius 0 it
// sees the whole arena, as the demo client expects. Either way at most
// Config.MaxViewEntities entities are sent: the viewer first, then the
// others in the world's order (players, NPCs, projectiles) until the cap.
//
// # Zero value and concurrency
//
// The zero Arena is not usable: create one with New. The server calls
// AddPlayer, RemovePlayer, ApplyInput and Step from the goroutine that runs
// its ticks (Run's, or the caller of Step);
// Snapshot and View only read what Step prepared, so a server with several
// snapshot workers may call View concurrently for different viewers. Stats is safe from
// any goroutine. The zero Config is valid and means the defaults
// (game.DefaultConfig, the whole arena in view).
package arena
