// Package clientui is the view logic of the demo client: everything it does
// that needs no window, so that it is tested with plain unit tests (the
// client's main package only turns it into ebiten calls and is tested under
// Xvfb).
//
// The screen: the HUD's time series (Series, HUD: RTT, jitter, loss, in/out
// kbps, snapshot rate and interpolation delay over the last ten seconds,
// sampled at a fixed interval, with min/avg/max), the mapping of a series to
// the points of a line graph (Polyline, NiceCeil), the screen Layout (arena,
// HUD column, network panel; world ↔ pixels), the Scene of shapes to draw in
// the game's colours, the key-binding tables and Toggles (prediction P,
// interpolation I, server ghost G, HUD H), the NetPanel state (loss [ ],
// latency - =, jitter ; ', duplication , .), and the command-line Options.
//
// The game: a Source gives the client its View each frame. Offline runs the
// rules locally. Online is a thin adapter over the public client runtime
// (server/client's Client, predicting a game.Player with game.Input, built
// from ClientConfig): the runtime connects and reconnects, decodes
// snapshots, predicts and reconciles the own player, interpolates the
// others and sends the inputs; Online only turns its Remote frame, its
// Predicted state and SmoothOffset, its newest snapshot, its Stats and its
// Status into a View. UDPDialer makes the runtime's connections from
// netsim-conditioned UDP sockets that the network panel changes live. The
// -loopback mode's in-process server lives in demo-game/internal/loopback.
//
// # Zero values and concurrency
//
// Series, HUD, NetPanel, Online, Offline and UDPDialer must be created with
// their constructors; Toggles, Layout, Rect, Scene, Options and View are
// plain values whose zero values are valid. Nothing here is safe for
// concurrent use except UDPDialer: the client drives all of it from
// ebiten's update and draw calls, which run on one goroutine. Time is
// always an argument (now), never read from a global clock.
package clientui
