// Package botswarm runs many headless demo clients ("bots") in one process
// against a demo server, and measures what they see: the logic of the bots
// command, shared with its tests and the soak run.
//
// Each bot is a real client: the public client runtime (server/client's
// Client, configured by clientui.ClientConfig as the ebiten client is) over
// a netcode connection of its own (a UDP socket per attempt, or
// Config.Dial's), so connecting, prediction, reconciliation, interpolation
// and input redundancy are the client's own. A bot plays a seeded Script
// (walks, turns, fires in bursts, dashes now and then), and every frame it
// updates its client and draws without a window: Remote, which counts
// interpolated frames and stalls (frames past the extrapolation bound).
//
// Bots survive their server: a bot whose connection ended shows why in its
// status (BotStats.Ended: "disconnected: netcode: connection timed out;
// reconnecting in 2s"), and with Config.Reconnect it reconnects, with
// backoff, once a server answers again. A run that lost a connection fails
// the "no connection ended" check.
//
// A Swarm dials its bots (a bounded number of handshakes at once), then Run
// drives them from a few goroutines at FrameRate until its context ends;
// Stats sums their measurements at any time: connections, welcomes
// (the reliable welcome message), connections lost and remade, RTT and loss
// of the links, snapshots, prediction corrections and interpolation stalls. Monitor runs a swarm
// for a while, printing those every interval together with server-side
// samples (heap, goroutines, tick overruns, scraped from the server's
// Prometheus metrics by ScrapeMetrics), and checks the run against the
// bounds of SoakLimits: the soak run of the bots command.
//
// Everything is bounded: Config.Bots ≤ MaxBots, dial timeouts, and Run
// ends with its context.
//
// # Zero values and concurrency
//
// Config, Stats, Sample and SoakLimits are plain values (the zero Config
// needs Addr and Bots). A Swarm must be made with Dial; Run may be called
// once, and Stats and Close are safe from any goroutine. Script is not
// safe for concurrent use (each bot owns its own).
package botswarm
