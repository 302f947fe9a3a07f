package admin

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tickwire/tickwire/server"
)

// DefaultMaxTickAge is ProbeConfig.MaxTickAge's default.
const DefaultMaxTickAge = 2 * time.Second

// ProbeConfig configures Probes. The zero value means the defaults.
type ProbeConfig struct {
	// MaxTickAge: the server is not healthy when its tick count has not
	// moved for longer than this (0 means DefaultMaxTickAge, 2 s: 120
	// ticks at 60 Hz, far beyond any overrun the loop catches up on).
	MaxTickAge time.Duration
	// Capacity: the server is not ready when it has this many players or
	// more (0: no limit of its own; the transport still refuses clients
	// beyond its MaxClients).
	Capacity int
	// Now is the clock the tick age is measured with; nil means time.Now.
	Now func() time.Time
}

// Probes answers an orchestrator's two questions about a server: is it
// alive (Healthy: its tick loop is ticking), and should it get new players
// (Ready: alive, not draining, under capacity). Serve them with NewHandler
// at /healthz and /readyz, for Kubernetes liveness and readiness probes;
// package agones' KeepHealthy takes Healthy to stop its health pings when
// the loop is stuck.
//
// Liveness is read from the server's tick count (Stats.Ticks) at each
// question, with the Probes' own clock: the tick is known to have moved
// when the count differs from the last question's, so a stuck loop is
// seen at most MaxTickAge after the first question that finds the count
// unchanged. The first question starts the clock (a server that has not
// started ticking is healthy for MaxTickAge). Safe for concurrent use.
type Probes struct {
	srv      *server.Server
	maxAge   time.Duration
	capacity int
	now      func() time.Time

	mu         sync.Mutex
	seen       bool
	lastTicks  uint64
	lastChange time.Time
}

// NewProbes returns the Probes of srv.
func NewProbes(srv *server.Server, cfg ProbeConfig) (*Probes, error) {
	switch {
	case srv == nil:
		return nil, errors.New("admin: NewProbes needs a server")
	case cfg.MaxTickAge < 0:
		return nil, fmt.Errorf("admin: ProbeConfig.MaxTickAge = %v, want ≥ 0 (0: default %v)", cfg.MaxTickAge, DefaultMaxTickAge)
	case cfg.Capacity < 0:
		return nil, fmt.Errorf("admin: ProbeConfig.Capacity = %d, want ≥ 0 (0: no limit)", cfg.Capacity)
	}
	p := &Probes{srv: srv, maxAge: cfg.MaxTickAge, capacity: cfg.Capacity, now: cfg.Now}
	if p.maxAge == 0 {
		p.maxAge = DefaultMaxTickAge
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Healthy returns nil while the server ticks, or an error saying for how
// long it has not.
func (p *Probes) Healthy() error {
	ticks := p.srv.Stats().Ticks
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.seen || ticks != p.lastTicks {
		p.seen, p.lastTicks, p.lastChange = true, ticks, now
	}
	if age := now.Sub(p.lastChange); age > p.maxAge {
		return fmt.Errorf("no tick for %v (tick %d), want one within %v", age.Round(time.Millisecond), ticks, p.maxAge)
	}
	return nil
}

// Ready returns nil when the server should get new players: it is
// healthy, not draining (server.Server.Drain) and under capacity.
func (p *Probes) Ready() error {
	if err := p.Healthy(); err != nil {
		return err
	}
	if p.srv.Draining() {
		return errors.New("draining: no new players")
	}
	if n := p.srv.Clients(); p.capacity > 0 && n >= p.capacity {
		return fmt.Errorf("full: %d players, capacity %d", n, p.capacity)
	}
	return nil
}

// serve answers a probe: 200 "ok", or 503 with the reason.
func serveProbe(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "%v\n", err)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
