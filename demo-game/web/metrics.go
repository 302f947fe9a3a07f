package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickwire/tickwire/netcode/browser"
)

// registerBrowserMetrics exports the browser conn's counters beside the
// server's (tickwire_browser_*): sessions open, opened, ended, refused,
// session datagrams each way, send errors, and drops by reason.
func registerBrowserMetrics(reg prometheus.Registerer, c *browser.Conn) error {
	counter := func(name, help string, labels prometheus.Labels, f func(browser.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "tickwire", Subsystem: "browser", Name: name, Help: help, ConstLabels: labels,
		}, func() float64 { return float64(f(c.Stats())) })
	}
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "tickwire", Subsystem: "browser", Name: "sessions_open",
			Help: "Browser sessions (WebTransport and WebRTC) open now.",
		}, func() float64 { return float64(c.Stats().Open) }),
		counter("sessions_opened_total", "Browser sessions opened.", nil, func(s browser.Stats) uint64 { return s.SessionsOpened }),
		counter("sessions_ended_total", "Browser sessions ended (a closed tab, a lost peer).", nil, func(s browser.Stats) uint64 { return s.SessionsEnded }),
		counter("sessions_refused_total", "Browser sessions refused (MaxSessions, SessionsPerIP).", nil, func(s browser.Stats) uint64 { return s.SessionsRefused }),
		counter("sessions_idle_total", "Browser sessions ended for sending nothing for SessionIdle.", nil, func(s browser.Stats) uint64 { return s.SessionsIdle }),
		counter("datagrams_total", "Session datagrams.", prometheus.Labels{"direction": "in"}, func(s browser.Stats) uint64 { return s.DatagramsIn }),
		counter("datagrams_total", "Session datagrams.", prometheus.Labels{"direction": "out"}, func(s browser.Stats) uint64 { return s.DatagramsOut }),
		counter("send_errors_total", "Session datagrams the session refused.", nil, func(s browser.Stats) uint64 { return s.SendErrors }),
		counter("drops_total", "Received datagrams dropped, by reason.", prometheus.Labels{"reason": "queue_full"}, func(s browser.Stats) uint64 { return s.DropsQueueFull }),
		counter("drops_total", "Received datagrams dropped, by reason.", prometheus.Labels{"reason": "session_queue"}, func(s browser.Stats) uint64 { return s.DropsSessionQueue }),
		counter("drops_total", "Received datagrams dropped, by reason.", prometheus.Labels{"reason": "malformed"}, func(s browser.Stats) uint64 { return s.DropsMalformed }),
		counter("drops_total", "Received datagrams dropped, by reason.", prometheus.Labels{"reason": "spoofed"}, func(s browser.Stats) uint64 { return s.DropsSpoofed }),
	}
	for _, col := range cs {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}
