// Package server is Tickwire's authoritative game server: a fixed-tick
// simulation loop that reads client inputs, steps a game the user supplies,
// and streams each client a quantized, delta-encoded snapshot of what that
// client may see.
//
// The pieces, from the bottom:
//
//   - Loop runs a step function at a fixed rate without drift, counting
//     overruns and applying a documented catch-up/skip policy.
//   - Game is what the user implements: players join and leave, inputs are
//     applied per tick, the world steps, and Snapshot builds the view of one
//     client (the interest-management hook).
//   - InputQueue buffers each client's inputs by tick; clients repeat their
//     last few inputs in every packet (InputWriter), so one lost packet loses
//     no input.
//   - Snapshots are encoded with netcode/state against the newest snapshot the
//     client acknowledged, learned from the transport's message acks.
//   - Server ties it together over a Transport (the netcode connection
//     layer, through an adapter) and exposes Prometheus metrics, pprof and
//     slog logs.
//
// Wiring a server (see Example_server):
//
//	tr, err := server.ListenNetcode(":7000", netcode.ServerConfig{ProtocolID: id, MaxClients: 64})
//	srv, err := server.New(server.Config{Codec: codec, AdminAddr: "127.0.0.1:9100", Logger: log}, game, tr)
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	err = srv.Run(ctx) // returns nil after SIGINT/SIGTERM, once clients were told
//
// A client connects with netcode.Dial and uses the default channel layout:
// control (0, reliable: the Welcome), inputs (1, unreliable: InputWriter
// messages) and snapshots (2, unreliable-sequenced: SnapshotReader).
// Each tick it predicts its own player (netcode/state Predictor), pushes the
// input for the predicted tick and sends InputWriter.AppendMessage; for
// each snapshot it reconciles at SnapshotHeader.InputAck and feeds
// SnapshotHeader.InputLead (or the sync Clock) to keep its inputs arriving a
// little before the server needs them.
//
// The wire messages (input, snapshot, welcome) and their client-side halves
// (InputWriter, SnapshotReader) live here too, so a client needs only this
// package and netcode/state.
//
// Concurrency: a Server runs the game and the transport from the single
// goroutine that calls Run; the Game is never called concurrently. Metrics
// and the admin HTTP handler are safe from any goroutine. Loop, InputQueue,
// InputWriter and SnapshotReader are not safe for concurrent use. Zero
// values: Config and LoopConfig zero values mean the defaults; the other
// types need their constructor.
package server
