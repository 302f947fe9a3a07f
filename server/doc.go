// Package server is Tickwire's authoritative game server: a fixed-tick
// simulation loop that reads client inputs, steps a game the user supplies,
// streams each client a quantized, delta-encoded snapshot of what that
// client may see, and lets the game talk to its players.
//
// The pieces, from the bottom:
//
//   - Loop runs a step function at a fixed rate without drift, counting
//     overruns and applying a documented catch-up/skip policy.
//   - Game is what the user implements: players join and leave, inputs are
//     applied per tick, the world steps, and Snapshot lists the world's
//     entities once per snapshot tick. A Game that also implements Interest
//     picks what each player sees (View); one that implements
//     MessageHandler receives its players' game messages.
//   - InputQueue buffers each client's inputs by tick; clients repeat their
//     last few inputs in every packet (wire.InputWriter), so one lost packet
//     loses no input.
//   - Snapshots are encoded with netcode/state against the newest snapshot the
//     client acknowledged, learned from the transport's message acks. The
//     world of each snapshot tick is kept once for all clients (a
//     state.History), and per client only which entities it was sent
//     (state.ViewTracker): a snapshot and its baseline are both read from
//     the shared worlds in place (ViewTracker.Encode), with no copy per
//     client.
//   - Server ties it together over a Transport (the netcode connection
//     layer, through NetcodeTransport), logs with log/slog and counts what
//     it does in live Stats; an Observer receives its per-tick and per-link
//     measurements.
//
// Metrics, profiles and the admin HTTP server are in package server/admin,
// so that a program that runs a server in-process without them (a client
// hosting a local game, a test) links no Prometheus, net/http or pprof.
//
// Wiring a server (see Example_server, and package server/admin for the
// admin address):
//
//	tr, err := server.ListenNetcode(":7000", netcode.ServerConfig{ProtocolID: id, MaxClients: 64})
//	srv, err := server.New(server.Config{Codec: codec, Messages: msgs, Logger: log}, game, tr)
//	game.srv = srv // if the game sends messages or kicks
//	reg := admin.NewRegistry()
//	err = admin.Register(reg, srv) // metrics from srv's Stats and Observer
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	go admin.Serve(ctx, adminListener, admin.Handler(reg)) // /metrics, /debug/pprof/
//	err = srv.Run(ctx) // returns nil after SIGINT/SIGTERM, once clients were told
//
// # Run or Step
//
// Run ticks at Config.TickRate until its context ends. A test, or a host
// that embeds the server in its own loop (a client hosting a local game,
// say), calls Step(now) instead, once per tick: the
// same tick, with explicit time, so that the same calls give the same ticks
// (see ExampleServer_Step). Close then shuts the server down as Run does
// when its context ends. Run, Step and Close exclude one another: a call
// that would overlap another returns an error wrapping ErrBusy.
//
// # Talking to players
//
// A game's own messages (events, chat, replies) are values of Go types
// registered once, under the same ids, in a wire.Messages that the server
// (Config.Messages) and its clients share. The game sends them with Send,
// SendTo or Broadcast, and receives them through MessageHandler; they
// travel reliably and in order on the control channel. Messages from
// clients that do not decode, or that are not game messages, are dropped
// and counted (Stats.Drops by DropReason, and Stats.MessagesDropped), never
// trusted and never fatal to the connection. Kick removes a player from
// the game at once and ends its connection after telling its client why.
// Player describes a connected player: its address, its link's RTT and
// loss, the tick it joined, and in secure mode the user data of the
// connect token it connected with (who the player is, as the backend that
// issued the token says).
//
// # Clients
//
// A client connects with netcode.Dial and uses the default channel layout:
// control (0, reliable-ordered: the Welcome, game messages both ways,
// kicks), inputs (1, unreliable: wire.InputWriter messages) and snapshots
// (2, unreliable-sequenced: wire.SnapshotReader). Each tick it predicts its
// own player (netcode/state Predictor), pushes the input for the predicted
// tick and sends InputWriter.AppendMessage; for each snapshot it
// reconciles at SnapshotHeader.InputAck and feeds SnapshotHeader.InputLead
// (or the netcode/state Clock) to keep its inputs arriving a little before
// the server needs them. The messages both halves speak are in the
// server/wire package, which a client imports without this one.
//
// # Concurrency
//
// A Server runs the game and the transport on one goroutine at a time:
// Run's, or the one calling Step. The Game is never called concurrently,
// except Snapshot when Config.SnapshotWorkers is above 1. Send, SendTo,
// Broadcast, Kick, Player and Players belong to that goroutine: call them
// from the Game's methods (not Snapshot), from Config.OnTick, or between
// Steps. Stats, Tick, Clients and SetObserver are safe from any goroutine;
// an Observer is called on the tick's goroutine. Loop and InputQueue are not safe for concurrent
// use.
//
// Zero values: Config and LoopConfig zero values mean the defaults; the
// other types need their constructor.
package server
