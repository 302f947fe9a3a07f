// Package clientui is everything the demo client does that does not need a
// window, so that it is tested with plain unit tests (the client's main
// package only turns it into ebiten calls and is tested under Xvfb).
//
// The screen: the HUD's time series (Series, HUD: RTT, jitter, loss, in/out
// kbps, snapshot rate and interpolation delay over the last ten seconds,
// sampled at a fixed interval, with min/avg/max), the mapping of a series to
// the points of a line graph (Polyline, NiceCeil), the screen Layout (arena,
// HUD column, network panel; world ↔ pixels), the Scene of shapes to draw in
// the game's colours, the key-binding tables and Toggles (prediction P,
// interpolation I, server ghost G, HUD H), and the NetPanel state (loss
// [ ], latency - =, jitter ; ', duplication , .).
//
// The game: a Source gives the client its View each frame. Offline runs the
// rules locally. Online talks to a demo server through a Conn (the netcode
// connection layer's Client has its shape) with a Session, the client half
// of the demo protocol: it decodes delta snapshots (wire.SnapshotReader),
// keeps a server clock (netcode/state.Clock), predicts the own player with
// game.StepPlayer and reconciles it (netcode/state.Predictor, corrections
// smoothed by netcode/state.Smoother), interpolates everyone else
// (netcode/state.Interpolator), and sends each input with its tick, repeating
// the last few (wire.InputWriter). Loopback is a Conn to a small demo
// server that runs inside the client over two simulated links, so the whole
// networked path runs, deterministically, without sockets.
//
// # Zero values and concurrency
//
// Series, HUD, NetPanel, Session, Online, Offline and Loopback must be
// created with their constructors; Toggles, Layout, Rect, Scene, Options and
// View are plain values whose zero values are valid. Nothing here is safe for
// concurrent use: the client drives all of it from ebiten's update and draw
// calls, which run on one goroutine. Time is always an argument (now), never
// read from a global clock.
package clientui
