package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tickwire/tickwire/server"
)

// ShutdownGrace is how long Serve lets the requests in flight finish once
// its context is done, before it closes their connections.
const ShutdownGrace = 2 * time.Second

// NewRegistry returns a new Prometheus registry holding the Go runtime and
// process collectors (go_*, process_*), for Register and Handler. Each call
// returns a registry of its own; the global default registry is never used.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Register exports srv's metrics on reg and makes them srv's Observer
// (server.Server.SetObserver), which feeds the tick-duration histogram and
// the clients' RTT and loss summaries from the next tick on. The counters
// are read from srv.Stats at each scrape, so they cost the server nothing
// between scrapes, and they start at the server's totals, every drop reason,
// input verdict and source at 0 if nothing happened yet.
//
// Register a server once, on one registry: a second Register of the same
// server takes its Observer over, so the first registry's distributions
// stop. The error is reg's, when it already holds these metrics (another
// server's, say: use a registry per server, or prometheus.WrapRegistererWith
// to label them).
func Register(reg prometheus.Registerer, srv *server.Server) error {
	if reg == nil || srv == nil {
		return errors.New("admin: Register needs a registry and a server")
	}
	m := newMetrics(srv)
	if err := reg.Register(m); err != nil {
		return fmt.Errorf("admin: register the server's metrics: %w", err)
	}
	srv.SetObserver(m)
	return nil
}

// Handler returns the admin HTTP handler: the metrics g gathers at /metrics
// (Prometheus text format, or what the scraper negotiates), the runtime
// profiles at /debug/pprof/ (registered on this handler's own mux, never on
// http.DefaultServeMux), and a short index at /. Safe for concurrent use,
// as any http.Handler. It is NewHandler(g, nil).
func Handler(g prometheus.Gatherer) http.Handler { return NewHandler(g, nil) }

// NewHandler is Handler with, when p is not nil, p's probes: /healthz
// (200 while the tick loop ticks) and /readyz (200 while it also takes new
// players), each 503 with the reason otherwise.
func NewHandler(g prometheus.Gatherer, p *Probes) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	index := "tickwire server admin\n/metrics\n/debug/pprof/\n"
	if p != nil {
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { serveProbe(w, p.Healthy()) })
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { serveProbe(w, p.Ready()) })
		index += "/healthz\n/readyz\n"
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(index))
	})
	return mux
}

// Serve serves h on ln until ctx is done, then shuts the HTTP server down:
// it stops accepting, lets the requests in flight finish for up to
// ShutdownGrace, closes what is left, and returns nil. ln is closed when
// Serve returns. It returns early with the error when serving fails.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("admin: serve on %v: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close() // a profile or a slow client still running
	}
	<-served // http.ErrServerClosed
	return nil
}
