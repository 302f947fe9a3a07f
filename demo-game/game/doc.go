// Package game holds the rules of the Tickwire demo: a small top-down arena
// shooter shared, unchanged, by the authoritative server and the predicting
// client. It has no graphics, sockets or goroutines, and the simulation has no
// floating point (Units exists only for drawing): every position is a
// fixed-point int32 (1/FixedOne world units) and every step is integer
// arithmetic, so the same inputs give bit-identical state everywhere
// (World.Checksum checks it cheaply).
//
// # Rules
//
// The arena (NewStatic) is 1280×720 world units with border walls and a few
// rectangular obstacles. Players move with eight-way input, accelerating to
// MaxSpeed; they dash (DashSpeed for DashTicks, every DashCooldown ticks) and
// shoot projectiles along their aim (every FireCooldown ticks). Projectiles fly
// straight for ProjectileLife ticks, vanish on walls and deal
// ProjectileDamage to the first player (not their owner) or NPC they touch.
// A kill scores a point for the shooter; dead players respawn after
// RespawnDelay ticks at the next of eight spawn points, NPCs after
// NPCRespawnDelay ticks. NPCs wander on a seeded xorshift generator kept in
// the state, so remote movement is visible even with one player. Players and
// NPCs collide with walls as squares of half-size PlayerRadius / NPCRadius
// (swept, so nothing tunnels) and not with each other; hits are circle against
// circle.
//
// # Server and client
//
// The server owns a World: AddPlayer, SetInput once per received input,
// Step at TickRate, Entities for snapshots (Entity.AppendFields and
// EntityFields give each entity as bounded integer fields for a quantized,
// delta-encoded snapshot codec; EntityFromFields checks and rebuilds it).
// Checksum detects desyncs and Clone or CopyFrom let a client rewind a whole
// World. The client predicts only its own
// player: it rebuilds a Player from the snapshot (Entity.Player), then replays
// its unacknowledged inputs with StepPlayer, the same function World.Step uses,
// against the shared Static. Predicted: position, velocity, aim, dash and the
// fire/dash cooldowns (and so when a shot leaves). Server-only: projectiles and
// their hits, health, deaths, respawns, scores and NPCs; the client shows those
// from snapshots. Players do not collide with each other, so prediction never
// depends on another entity.
//
// # Zero value and concurrency
//
// The zero World is not usable; create one with New. Input, Entity, Player and
// Config are plain values whose zero values are valid (the zero Config fails
// Validate; start from DefaultConfig). Nothing in the package is safe for
// concurrent use: drive a World from one goroutine. A Static is immutable and
// may be shared freely.
package game
