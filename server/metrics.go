package server

import (
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Drop reasons of the tickwire_server_drops_total metric (transport drops
// are exported as "transport_" + the transport's reason).
const (
	DropInputLate        = "input_late"
	DropInputFarFuture   = "input_far_future"
	DropInputOversized   = "input_oversized"
	DropInputMalformed   = "input_malformed"
	DropUnexpectedMsg    = "unexpected_message" // not a game message on the control channel, or anything on the snapshot channel
	DropMessageMalformed = "message_malformed"  // a game message that does not decode (unknown type, bad body)
	DropMessageUnhandled = "message_unhandled"  // a game message, but the Game is no MessageHandler
	DropSnapshotInvalid  = "snapshot_invalid"
	DropSnapshotSendFail = "snapshot_send_failed"
)

// metrics holds the server's Prometheus collectors, all registered on the
// server's own Registry.
type metrics struct {
	tickDuration prometheus.Histogram
	ticks        prometheus.Counter
	overruns     prometheus.Counter
	late         prometheus.Counter
	skipped      prometheus.Counter
	clients      prometheus.Gauge
	connects     prometheus.Counter
	disconnects  prometheus.Counter
	packets      *prometheus.CounterVec // direction
	bytes        *prometheus.CounterVec // direction
	packetsIn    prometheus.Counter
	packetsOut   prometheus.Counter
	bytesIn      prometheus.Counter
	bytesOut     prometheus.Counter
	rtt          prometheus.Summary
	loss         prometheus.Summary
	drops        *prometheus.CounterVec // reason
	inputs       [numInputVerdicts]prometheus.Counter
	inputTicks   [InputNone + 1]prometheus.Counter // by InputSource
	snapshots    [2]prometheus.Counter             // full, delta
	snapBytes    [2]prometheus.Counter
	messagesIn   prometheus.Counter
	messagesOut  prometheus.Counter
	kicks        prometheus.Counter

	dropInputLate, dropInputFar, dropInputBig, dropInputBad, dropUnexpected, dropSnapInvalid, dropSnapSend,
	dropMsgBad, dropMsgUnhandled prometheus.Counter

	// last transport totals seen, to add deltas
	lastCounters TransportCounters
	lastDrops    map[string]uint64
}

// tickBuckets spans 25 µs to ~105 ms: a 60 Hz tick has 16.7 ms.
var tickBuckets = prometheus.ExponentialBuckets(25e-6, 2, 13)

func newMetrics(reg *prometheus.Registry) *metrics {
	const ns, sub = "tickwire", "server"
	f := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	m := &metrics{
		tickDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "tick_duration_seconds",
			Help:    "Time spent in one simulation tick (transport poll, inputs, step, snapshots, flush).",
			Buckets: tickBuckets,
		}),
		ticks:       f("ticks_total", "Simulation ticks run."),
		overruns:    f("tick_overruns_total", "Ticks that took longer than the tick interval."),
		late:        f("ticks_late_total", "Ticks started one interval or more after they were due (catch-up)."),
		skipped:     f("ticks_skipped_total", "Ticks dropped from the schedule because the loop fell too far behind."),
		connects:    f("connects_total", "Clients that connected and were added to the game."),
		disconnects: f("disconnects_total", "Clients that left, timed out, were refused or were kicked."),
		kicks:       f("kicks_total", "Players the game kicked."),
		clients: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "clients",
			Help: "Connected clients."}),
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "packets_total",
			Help: "UDP datagrams through the transport, by direction (in, out)."}, []string{"direction"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bytes_total",
			Help: "UDP payload bytes through the transport, by direction (in, out)."}, []string{"direction"}),
		rtt: prometheus.NewSummary(prometheus.SummaryOpts{Namespace: ns, Subsystem: sub, Name: "client_rtt_seconds",
			Help:       "Smoothed round-trip time of each client, sampled once per second per client.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}, MaxAge: 30 * time.Second}),
		loss: prometheus.NewSummary(prometheus.SummaryOpts{Namespace: ns, Subsystem: sub, Name: "client_packet_loss_ratio",
			Help:       "Packet loss (0..1) of each client, sampled once per second per client.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}, MaxAge: 30 * time.Second}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "drops_total",
			Help: "Inputs, messages and datagrams dropped, by reason."}, []string{"reason"}),
		lastDrops: map[string]uint64{},
	}
	inputs := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "inputs_total",
		Help: "Inputs received, by verdict (accepted, duplicate, late, far_future, oversized)."}, []string{"verdict"})
	for v := range numInputVerdicts {
		m.inputs[v] = inputs.WithLabelValues(v.String())
	}
	inputTicks := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "input_ticks_total",
		Help: "Player ticks by where the applied input came from (fresh, repeated, missing, none)."}, []string{"source"})
	for src := range InputNone + 1 {
		m.inputTicks[src] = inputTicks.WithLabelValues(src.String())
	}
	snaps := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "snapshots_total",
		Help: "Snapshots sent, by kind (full, delta)."}, []string{"kind"})
	snapBytes := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "snapshot_bytes_total",
		Help: "Snapshot message bytes sent, by kind (full, delta)."}, []string{"kind"})
	for i, l := range []string{"full", "delta"} {
		m.snapshots[i] = snaps.WithLabelValues(l)
		m.snapBytes[i] = snapBytes.WithLabelValues(l)
	}
	m.packetsIn, m.packetsOut = m.packets.WithLabelValues("in"), m.packets.WithLabelValues("out")
	m.bytesIn, m.bytesOut = m.bytes.WithLabelValues("in"), m.bytes.WithLabelValues("out")
	m.dropInputLate = m.drops.WithLabelValues(DropInputLate)
	m.dropInputFar = m.drops.WithLabelValues(DropInputFarFuture)
	m.dropInputBig = m.drops.WithLabelValues(DropInputOversized)
	m.dropInputBad = m.drops.WithLabelValues(DropInputMalformed)
	m.dropUnexpected = m.drops.WithLabelValues(DropUnexpectedMsg)
	m.dropSnapInvalid = m.drops.WithLabelValues(DropSnapshotInvalid)
	m.dropSnapSend = m.drops.WithLabelValues(DropSnapshotSendFail)
	m.dropMsgBad = m.drops.WithLabelValues(DropMessageMalformed)
	m.dropMsgUnhandled = m.drops.WithLabelValues(DropMessageUnhandled)
	msgs := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "game_messages_total",
		Help: "Game messages received from players and handled (in), and queued to players (out, one per player)."}, []string{"direction"})
	m.messagesIn, m.messagesOut = msgs.WithLabelValues("in"), msgs.WithLabelValues("out")

	reg.MustRegister(m.tickDuration, m.ticks, m.overruns, m.late, m.skipped, m.clients, m.connects, m.disconnects,
		m.packets, m.bytes, m.rtt, m.loss, m.drops, inputs, inputTicks, snaps, snapBytes, msgs, m.kicks)
	return m
}

// verdict counts an input verdict, and the drop it implies.
func (m *metrics) verdict(v InputVerdict) {
	m.inputs[v].Inc()
	switch v {
	case InputLate:
		m.dropInputLate.Inc()
	case InputFarFuture:
		m.dropInputFar.Inc()
	case InputOversized:
		m.dropInputBig.Inc()
	}
}

// transport adds what the transport counted since the last call.
func (m *metrics) transport(c TransportCounters) {
	add := func(ctr prometheus.Counter, now, last uint64) {
		if now > last {
			ctr.Add(float64(now - last))
		}
	}
	add(m.packetsIn, c.PacketsIn, m.lastCounters.PacketsIn)
	add(m.packetsOut, c.PacketsOut, m.lastCounters.PacketsOut)
	add(m.bytesIn, c.BytesIn, m.lastCounters.BytesIn)
	add(m.bytesOut, c.BytesOut, m.lastCounters.BytesOut)
	for reason, n := range c.Drops {
		if last := m.lastDrops[reason]; n > last {
			m.drops.WithLabelValues("transport_" + reason).Add(float64(n - last))
			m.lastDrops[reason] = n
		}
	}
	c.Drops = nil
	m.lastCounters = c
}

// AdminHandler returns an HTTP handler serving the registry's metrics at
// /metrics (Prometheus text format) and the runtime profiles at
// /debug/pprof/ (registered explicitly on this mux, not on
// http.DefaultServeMux).
func AdminHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("tickwire server admin\n/metrics\n/debug/pprof/\n"))
	})
	return mux
}

// registerProcessCollectors adds the Go runtime and process collectors.
func registerProcessCollectors(reg *prometheus.Registry) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
