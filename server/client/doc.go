// Package client is the client half of a Tickwire game: everything between
// the game's frame loop and a Tickwire server (package server). It connects
// and reconnects, keeps an estimate of the server's clock, predicts the
// player's own entity and reconciles it with the server, hides corrections,
// interpolates every other entity, sends the inputs with redundancy and an
// adaptive lead, reports entities entering and leaving the view, and
// exchanges the game's typed messages. A game needs this package, the
// snapshot types of netcode/state and its message registry
// (wire.Messages); it never touches the wire format.
//
// # What the game supplies
//
// A Client[S, I] is generic over the game's predicted state S (the own
// player: position, velocity…) and its per-tick input I (buttons, aim).
// Config holds what only the game knows:
//
//   - Codec: the snapshot schema, the same as the server's;
//   - OwnState: how to read S from the own entity's snapshot fields;
//   - AppendInput: how to encode I, the way the server's Game decodes it;
//   - Step and Equal: the deterministic rules the server runs for one
//     player and one tick, and state equality, for prediction;
//   - optionally Correction (how big a correction looks, e.g. dx, dy) for
//     smoothing, Interp (how each field interpolates, when its type does
//     not say it), Messages (the typed message registry), Reconnect, and
//     the connection: Addr and Netcode (protocol id, connect token), or a
//     Dial function.
//
// Everything else has a default.
//
// # The frame loop
//
// The game drives the Client from its own loop, once per frame, with the
// frame's time and input. Nothing happens in the background: the Client
// starts no goroutine except a short-lived one that dials (netcode.Dial
// blocks until the handshake ends), and reads no clock.
//
//	c, err := client.New(cfg)
//	...
//	for each frame {
//		now := time.Now()
//		c.Update(now, input) // receive, predict, send, flush
//		for _, ev := range c.Events() { ... }    // entities spawned and despawned
//		for _, m := range c.Messages() { ... }   // typed game messages: type-switch
//		if own, _, ok := c.Predicted(); ok {
//			draw(own, c.SmoothOffset(now))      // own entity, corrections fading out
//		}
//		if f, ok := c.Remote(now); ok { ... }    // everyone else, interpolated
//		hud(c.Status(), c.Stats())
//	}
//	c.Close()
//
// Update reads what the server sent since the last frame (the Welcome,
// snapshots, game messages, a kick), advances the prediction to the tick the
// clock says the client should be at, sends the input messages and then
// updates the connection, which receives, times out and flushes. Call it
// once per frame, with a now that does not go backwards. Send queues a game
// message for the server at any time between Updates.
//
// # Start-up order
//
// The first Update starts dialling (Status Connecting). Once connected, the
// server sends its Welcome (the player ID, tick and snapshot rates) on the
// reliable control channel and snapshots on the snapshot channel. A
// snapshot may overtake the Welcome when a packet is lost: such a snapshot
// is decoded and kept as a delta baseline (the server may encode the next
// ones against it) but used for nothing else (Stats.EarlySnapshots).
// After the Welcome, the first snapshot gives the clock its first sample
// (state.Clock.Synced) and, if it contains the own entity, starts the
// prediction from the server's state of it: only then are inputs predicted
// and sent. Until the connection measured its round trip, the clock assumes
// AssumedRTT (150 ms), so that the first inputs run ahead of the server by a
// safe margin instead of one one-way delay behind. The ticks the server
// runs before the first input can reach it are predicted with the zero
// input I{} (the server has no input of this client for them), so the
// first snapshots confirm the prediction instead of correcting it: make
// the zero I mean "no input" in your game.
//
// # Prediction, reconciliation, smoothing
//
// The own entity runs ahead of the server by about half the round trip plus
// a small buffer, so that each input reaches the server just before it runs
// that tick. Each snapshot says up to which tick the server applied this
// client's inputs (its input ack); the Client compares the server's own
// state there with what it predicted for that tick and, when they differ,
// rewinds to the server's state and replays the inputs since
// (state.Predictor). With deterministic rules that only happens when the
// server did not get an input in time. The visible jump is hidden: the
// difference measured by Config.Correction fades out over SmoothTime
// (SmoothOffset), unless it is longer than SnapDistance (a respawn or a
// teleport), which snaps.
//
// # Remote entities
//
// Every entity, including the own one as the server last had it, is drawn
// from Remote: interpolated between buffered snapshots about InterpDelay
// (100 ms, more on a jittery link) behind the newest, each field as
// Config.Interp says (positions linear, discrete fields in steps, angles the
// short way round) or, by default, as its type says (bools and enums in
// steps, ints and floats linearly); with several entity kinds, Frame.Kind
// tells each entity's. When snapshots are late, entities move on along their
// last change for at most MaxExtrapolation, then freeze (a stall). Newest
// returns the newest snapshot as it is, for fields the game shows without
// interpolation (a score, the server's view of the own entity).
//
// # Inputs
//
// Each tick's input is sent in InputRedundancy consecutive frames, several
// inputs per message, so that a lost packet loses no input. After a slow
// frame that covered more ticks than that, every one of those inputs is
// still sent, in as many messages as needed, and again in the following
// frames; after a stall longer than half a second of ticks the Client jumps
// ahead instead (Stats.InputJumps) and the server's missing-input policy
// fills the gap. The lead adapts: the server reports in each snapshot how
// early the newest input arrived (InputLead); when inputs come close to
// being late the Client runs a tick further ahead (ExtraLead), and on a
// lossy link it runs far enough ahead that enough of each input's copies
// arrive in time (LossLead, from the measured packet loss). Both shrink
// again slowly when the link improves.
//
// # Entity events
//
// Events reports, per Update, each entity that entered the view (Spawned)
// or left it (Despawned), with its kind, exactly once each, even when the
// snapshot that carried the change was lost: each newer snapshot's entity
// set is compared with the previous one's. When the connection ends, every
// entity of the old world despawns.
//
// # Connection and reconnection
//
// Status says Connecting, Connected or Disconnected, with Err saying why a
// connection ended: a *KickedError with the server's reason, or a netcode
// error matching netcode.ErrTimeout (the server went silent),
// netcode.ErrDisconnected (it shut down), netcode.ErrTokenDenied (the
// connect token was refused), netcode.ErrServerFull, … With
// Config.Reconnect enabled, the Client tries again after a bounded,
// exponentially growing, jittered delay (Status.RetryIn, shown as
// "reconnecting in 1.2s" by Status.String), and starts over with a fresh
// world: a new Welcome, new snapshots, a new prediction. A kick, a refused
// token, a version or protocol mismatch and Close are final.
//
// # Stats
//
// Stats counts what a HUD or a test wants to know: the link's RTT, jitter,
// loss and traffic; snapshots used, their rate, and those that arrived
// before the Welcome, lacked their baseline or came too late; corrections
// (how many, their total and largest size, how many snapped); frames drawn,
// extrapolated and stalled, and the interpolation delay; the input lead the
// server reports and the extra and loss lead added; inputs and input
// messages sent, send errors and jumps; game messages received, and
// messages or own states dropped as malformed. Each field's documentation
// says exactly what it counts.
//
// # Channels
//
// The Client uses the server's default channel layout, the channel kinds
// of netcode's default endpoint configuration: DefaultControlChannel (0,
// reliable-ordered: Welcome, game messages, kick), DefaultInputChannel (1,
// unreliable) and DefaultSnapshotChannel (2, unreliable-sequenced). These
// match the server package's defaults of the same names; set
// Config.ControlChannel, InputChannel and SnapshotChannel when the server
// uses others.
//
// # Zero values and concurrency
//
// A Config's zero fields take their defaults; the zero Client is not usable
// (New). A Client is not safe for concurrent use: call all its methods from
// the game loop's goroutine. The slices and the Frame its accessors return
// are reused by the next Update or call. After warm-up, an Update with
// snapshots arriving allocates nothing (typed game messages do, through
// msgpack).
package client
