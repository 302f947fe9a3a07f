// Package admin is the operations side of a Tickwire server: its metrics
// in a Prometheus registry, the runtime profiles (pprof), and the HTTP
// server that serves both on an admin address. It is apart from package
// server so that a program that runs a server in-process without an admin
// port (a client hosting a local game, a test) links neither Prometheus
// nor net/http.
//
// Wiring it (see Example):
//
//	srv, err := server.New(cfg, game, tr)
//	reg := admin.NewRegistry() // Go runtime and process metrics
//	err = admin.Register(reg, srv)
//	ln, err := net.Listen("tcp", "127.0.0.1:9100")
//	go admin.Serve(ctx, ln, admin.Handler(reg)) // until ctx is done
//	err = srv.Run(ctx)
//
// # Probes
//
// Probes answers an orchestrator: NewHandler(reg, probes) adds /healthz
// (the tick loop ticks: a Kubernetes liveness probe) and /readyz (it also
// takes new players: not draining, under capacity; a readiness probe),
// each 200 "ok" or 503 with the reason.
//
// # Metrics
//
// Every name starts with tickwire_server_. The counters and the clients
// gauge are read from server.Server.Stats when scraped; the distributions
// are fed by the server as it measures them (Register makes them the
// server's server.Observer).
//
//	tick_duration_seconds           histogram: one tick's work (buckets 25 µs × 2^k up to ~102 ms)
//	ticks_total                     ticks run (Run's and Step's)
//	tick_overruns_total             ticks longer than the tick interval
//	ticks_late_total                catch-up ticks, started an interval or more late
//	ticks_skipped_total             ticks dropped from the schedule
//	clients                         gauge: connected players
//	connects_total                  players added to the game
//	disconnects_total               clients that left, timed out, were refused or kicked
//	kicks_total                     players the game kicked
//	packets_total{direction}        datagrams in, out (the transport's totals, sampled once a second)
//	bytes_total{direction}          datagram payload bytes in, out (likewise)
//	client_rtt_seconds              summary: each client's RTT, sampled once a second per client
//	client_packet_loss_ratio        summary: each client's packet loss (0..1), likewise
//	drops_total{reason}             drops by reason: every server.DropReason (input_late, input_far_future,
//	                                input_oversized, input_malformed, unexpected_message, message_malformed,
//	                                message_unhandled, snapshot_invalid, snapshot_send_failed), and the
//	                                transport's reasons as transport_<reason> (transport_malformed…)
//	inputs_total{verdict}           inputs by server.InputVerdict (accepted, duplicate, late, far_future, oversized)
//	input_ticks_total{source}       player ticks by server.InputSource (fresh, repeated, missing, none)
//	snapshots_total{kind}           snapshots sent, full and delta
//	snapshot_bytes_total{kind}      their bytes
//	game_messages_total{direction}  game messages handled (in) and queued to players (out)
//
// Every label value that the server knows of is exported from the start,
// at 0 until it counts something, so that a rate or an alert over a drop
// reason works before the first drop. The transport's drop reasons appear
// once the server has sampled the transport (at server.New for
// NetcodeTransport, which reports all of its reasons).
//
// # Concurrency
//
// Register, Handler and Serve may be called from any goroutine; the
// handler serves concurrent scrapes. A scrape takes the server's Stats
// (one short lock) and nothing else from the tick's goroutine.
package admin
