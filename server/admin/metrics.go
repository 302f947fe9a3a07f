package admin

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickwire/tickwire/server"
)

// The metrics' namespace and subsystem: every name starts with
// "tickwire_server_".
const (
	namespace = "tickwire"
	subsystem = "server"
)

// counterFamily is a counter (or gauge) family read from server.Stats.
type counterFamily struct {
	desc  *prometheus.Desc
	gauge bool
	// values sends the family's metrics for st.
	values func(st *server.Stats, emit func(v uint64, labels ...string))
}

// metrics is the collector Register registers: the families read from the
// server's Stats at each scrape, and the distributions its Observer feeds
// (one collector, so that one Register call registers all or nothing).
type metrics struct {
	srv      *server.Server
	families []counterFamily
	tick     prometheus.Histogram
	// Per room (server.Server.Rooms): players and the last tick's time.
	roomPlayers, roomTick *prometheus.Desc
	rtt                   prometheus.Summary
	budget                prometheus.Summary
	loss                  prometheus.Summary
}

func newMetrics(srv *server.Server) *metrics {
	name := func(n string) string { return prometheus.BuildFQName(namespace, subsystem, n) }
	scalar := func(n, help string, get func(*server.Stats) uint64) counterFamily {
		return counterFamily{
			desc:   prometheus.NewDesc(name(n), help, nil, nil),
			values: func(st *server.Stats, emit func(uint64, ...string)) { emit(get(st)) },
		}
	}
	vec := func(n, help, label string, values func(*server.Stats, func(uint64, ...string))) counterFamily {
		return counterFamily{desc: prometheus.NewDesc(name(n), help, []string{label}, nil), values: values}
	}
	clients := scalar("clients", "Connected clients.", func(st *server.Stats) uint64 { return uint64(st.Clients) })
	clients.gauge = true
	rooms := scalar("rooms", "Rooms the server runs (the Game passed to New is the room \"\").", func(st *server.Stats) uint64 { return uint64(st.Rooms) })
	rooms.gauge = true
	m := &metrics{
		srv: srv,
		families: []counterFamily{
			scalar("ticks_total", "Simulation ticks run.", func(st *server.Stats) uint64 { return st.Ticks }),
			scalar("tick_overruns_total", "Ticks that took longer than the tick interval.",
				func(st *server.Stats) uint64 { return st.Overruns }),
			scalar("ticks_late_total", "Ticks started one interval or more after they were due (catch-up).",
				func(st *server.Stats) uint64 { return st.Late }),
			scalar("ticks_skipped_total", "Ticks dropped from the schedule because the loop fell too far behind.",
				func(st *server.Stats) uint64 { return st.Skipped }),
			scalar("connects_total", "Clients that connected and were added to the game.",
				func(st *server.Stats) uint64 { return st.Connects }),
			scalar("disconnects_total", "Clients that left, timed out, were refused or were kicked.",
				func(st *server.Stats) uint64 { return st.Disconnects }),
			scalar("kicks_total", "Players the game kicked.", func(st *server.Stats) uint64 { return st.Kicks }),
			clients,
			rooms,
			vec("rooms_total", "Rooms created and closed, by event (created, closed).", "event",
				func(st *server.Stats, emit func(uint64, ...string)) {
					emit(st.RoomsCreated, "created")
					emit(st.RoomsClosed, "closed")
				}),
			vec("packets_total", "UDP datagrams through the transport, by direction (in, out).", "direction",
				func(st *server.Stats, emit func(uint64, ...string)) {
					emit(st.Transport.PacketsIn, "in")
					emit(st.Transport.PacketsOut, "out")
				}),
			vec("bytes_total", "UDP payload bytes through the transport, by direction (in, out).", "direction",
				func(st *server.Stats, emit func(uint64, ...string)) {
					emit(st.Transport.BytesIn, "in")
					emit(st.Transport.BytesOut, "out")
				}),
			vec("drops_total", "Inputs, messages and datagrams dropped, by reason.", "reason",
				func(st *server.Stats, emit func(uint64, ...string)) {
					for r := range server.NumDropReasons {
						emit(st.Drops[r], r.String())
					}
					for reason, n := range st.Transport.Drops {
						emit(n, "transport_"+reason)
					}
				}),
			vec("refused_total", "Connection attempts refused, by reason: the transport's (server_full, token_invalid, token_in_use, ...) and the game's (game: AddPlayer returned an error).", "reason",
				func(st *server.Stats, emit func(uint64, ...string)) {
					emit(st.Refused, "game")
					for reason, n := range st.Transport.Refused {
						emit(n, reason)
					}
				}),
			vec("inputs_total", "Inputs received, by verdict (accepted, duplicate, late, far_future, oversized).", "verdict",
				func(st *server.Stats, emit func(uint64, ...string)) {
					for v := range server.NumInputVerdicts {
						emit(st.Inputs[v], v.String())
					}
				}),
			vec("input_ticks_total", "Player ticks by where the applied input came from (fresh, repeated, missing, none).", "source",
				func(st *server.Stats, emit func(uint64, ...string)) {
					for src := range server.NumInputSources {
						emit(st.InputTicks[src], src.String())
					}
				}),
			vec("snapshots_total", "Snapshots sent, by kind (full, delta).", "kind",
				func(st *server.Stats, emit func(uint64, ...string)) {
					emit(st.SnapshotsFull, "full")
					emit(st.SnapshotsDelta, "delta")
				}),
			vec("snapshot_bytes_total", "Snapshot message bytes sent, by kind (full, delta).", "kind",
				func(st *server.Stats, emit func(uint64, ...string)) {
					emit(st.SnapshotBytesFull, "full")
					emit(st.SnapshotBytesDelta, "delta")
				}),
			vec("game_messages_total", "Game messages received from players and handled (in), and queued to players (out, one per player).", "direction",
				func(st *server.Stats, emit func(uint64, ...string)) {
					emit(st.MessagesIn, "in")
					emit(st.MessagesOut, "out")
				}),
		},
		roomPlayers: prometheus.NewDesc(name("room_players"), "Players in each room.", []string{"room"}, nil),
		roomTick: prometheus.NewDesc(name("room_tick_seconds"),
			"Time each room's last tick took: its Step and its world (snapshot encoding is shared, not included).", []string{"room"}, nil),
		tick: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "tick_duration_seconds",
			Help: "Time spent in one simulation tick (transport poll, inputs, step, snapshots, flush).",
			// 25 µs doubling up to ~102 ms: a 60 Hz tick has 16.7 ms.
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 13),
		}),
		rtt: prometheus.NewSummary(prometheus.SummaryOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "client_rtt_seconds",
			Help:       "Smoothed round-trip time of each client, sampled once per second per client.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}, MaxAge: 30 * time.Second,
		}),
		budget: prometheus.NewSummary(prometheus.SummaryOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "client_send_budget_bytes_per_second",
			Help:       "Send budget of each client's connection (moved by the congestion response), sampled once per second per client that has one.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}, MaxAge: 30 * time.Second,
		}),
		loss: prometheus.NewSummary(prometheus.SummaryOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "client_packet_loss_ratio",
			Help:       "Packet loss (0..1) of each client, sampled once per second per client.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}, MaxAge: 30 * time.Second,
		}),
	}
	return m
}

// Describe sends every family's description.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range m.families {
		ch <- f.desc
	}
	ch <- m.roomPlayers
	ch <- m.roomTick
	m.tick.Describe(ch)
	m.rtt.Describe(ch)
	m.budget.Describe(ch)
	m.loss.Describe(ch)
}

// Collect reads the server's Stats once, so that a scrape's counters are
// of the same tick, and sends them with the distributions.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	st := m.srv.Stats()
	for _, f := range m.families {
		typ := prometheus.CounterValue
		if f.gauge {
			typ = prometheus.GaugeValue
		}
		f.values(&st, func(v uint64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(f.desc, typ, float64(v), labels...)
		})
	}
	for _, r := range m.srv.Rooms() {
		ch <- prometheus.MustNewConstMetric(m.roomPlayers, prometheus.GaugeValue, float64(r.Players), r.Name)
		ch <- prometheus.MustNewConstMetric(m.roomTick, prometheus.GaugeValue, r.TickTime.Seconds(), r.Name)
	}
	m.tick.Collect(ch)
	m.rtt.Collect(ch)
	m.budget.Collect(ch)
	m.loss.Collect(ch)
}

// ObserveTick records a tick's duration (server.Observer).
func (m *metrics) ObserveTick(_ server.TickInfo, took time.Duration) { m.tick.Observe(took.Seconds()) }

// ObserveLink records a client's RTT, loss and send budget
// (server.Observer).
func (m *metrics) ObserveLink(_ server.PlayerID, link server.LinkStats) {
	m.rtt.Observe(link.RTT.Seconds())
	if link.SendBudget > 0 {
		m.budget.Observe(float64(link.SendBudget))
	}
	m.loss.Observe(link.PacketLoss)
}
