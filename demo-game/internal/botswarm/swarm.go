package botswarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// Limits and defaults of Config.
const (
	MaxBots             = 1000
	DefaultFrameRate    = 60
	DefaultDialTimeout  = 10 * time.Second
	DefaultDialParallel = 32
)

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("botswarm: invalid config")

// Config configures a Swarm.
type Config struct {
	// Addr is the UDP address of the demo server (or of a netsim proxy in
	// front of it), host:port.
	Addr string
	// Bots is how many clients to run, 1..MaxBots.
	Bots int
	// Seed seeds the bots' scripts (bot i plays NewScript(Seed+i)) and
	// their link conditioners.
	Seed uint64
	// ProtocolID is the server's netcode protocol id; 0 means the demo's
	// (clientui.DefaultProtocolID).
	ProtocolID uint64
	// FrameRate is how many frames per second each bot runs (1..240;
	// 0 means 60): one input tick and one drawn view per frame.
	FrameRate int
	// Drivers is how many goroutines share the bots' frames; 0 means
	// GOMAXPROCS, at most Bots.
	Drivers int
	// DialTimeout bounds each bot's handshake (0 means 10 s), and
	// DialParallel the handshakes in flight at once (0 means 32).
	DialTimeout  time.Duration
	DialParallel int
	// Link, when not the zero Config, conditions both directions of every
	// bot's own socket (as the client's -loss/-latency flags do).
	Link netsim.Config
	// Logger receives the bots' connection logs; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ProtocolID == 0 {
		c.ProtocolID = clientui.DefaultProtocolID
	}
	if c.FrameRate == 0 {
		c.FrameRate = DefaultFrameRate
	}
	if c.Drivers == 0 {
		c.Drivers = runtime.GOMAXPROCS(0)
	}
	c.Drivers = min(c.Drivers, c.Bots)
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.DialParallel == 0 {
		c.DialParallel = DefaultDialParallel
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first bad field, naming it, its value and what is
// allowed; the error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	if _, err := resolve(c.Addr); err != nil {
		return fmt.Errorf("%w: Addr = %q: want host:port of the server, like 127.0.0.1:7777 (%v)", ErrInvalidConfig, c.Addr, err)
	}
	if c.Bots < 1 || c.Bots > MaxBots {
		return fmt.Errorf("%w: Bots = %d, want 1..%d", ErrInvalidConfig, c.Bots, MaxBots)
	}
	if c.FrameRate < 0 || c.FrameRate > 240 {
		return fmt.Errorf("%w: FrameRate = %d, want 0 (default %d) or 1..240", ErrInvalidConfig, c.FrameRate, DefaultFrameRate)
	}
	if c.Drivers < 0 || c.Drivers > 256 {
		return fmt.Errorf("%w: Drivers = %d, want 0 (GOMAXPROCS) or 1..256", ErrInvalidConfig, c.Drivers)
	}
	if c.DialTimeout < 0 {
		return fmt.Errorf("%w: DialTimeout = %v, want 0 (default %v) or positive", ErrInvalidConfig, c.DialTimeout, DefaultDialTimeout)
	}
	if c.DialParallel < 0 || c.DialParallel > MaxBots {
		return fmt.Errorf("%w: DialParallel = %d, want 0 (default %d) or 1..%d", ErrInvalidConfig, c.DialParallel, DefaultDialParallel, MaxBots)
	}
	if err := c.Link.Validate(); err != nil {
		return fmt.Errorf("%w: Link: %w", ErrInvalidConfig, err)
	}
	return nil
}

// resolve parses addr into the server's address.
func resolve(addr string) (netip.AddrPort, error) {
	if addr == "" {
		return netip.AddrPort{}, errors.New("empty")
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := ua.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !ap.Addr().IsValid() || ap.Port() == 0 {
		return netip.AddrPort{}, errors.New("want an IP address and a non-zero port")
	}
	return ap, nil
}

// IsLoopback reports whether addr is a loopback host:port (127.0.0.0/8,
// ::1 or localhost).
func IsLoopback(addr string) bool {
	ap, err := resolve(addr)
	return err == nil && ap.Addr().IsLoopback()
}

// BotStats is what one bot measured.
type BotStats struct {
	Connected bool          // the handshake succeeded
	Welcomed  bool          // the server's welcome (a reliable message) arrived
	Ended     string        // why the connection ended early ("" while connected)
	RTT       time.Duration // smoothed round-trip time of the link
	RTTVar    time.Duration
	Loss      float64 // packet loss of the link, 0..1
	Deaths    int32   // times the bot's player was killed (each respawn is a correction: a teleport)
	Session   clientui.SessionStats
}

// bot is one headless client, driven by one driver goroutine.
type bot struct {
	index  int // in Swarm.bots
	conn   *netcode.Client
	online *clientui.Online
	script *Script
	ended  error
	stats  BotStats // refreshed after every frame, under its driver's lock
}

// Swarm is a set of bots connected to one server. See the package
// documentation.
type Swarm struct {
	cfg     Config
	bots    []*bot
	failed  []error // dial errors
	drivers []*driver
	started time.Time
	ran     atomic.Bool
	closed  atomic.Bool
	runMu   sync.Mutex // held by Run while the drivers run; Close waits on it
}

// driver runs the frames of a share of the bots; mu guards their state
// against Stats.
type driver struct {
	mu   sync.Mutex
	bots []*bot
}

// Dial connects cfg.Bots bots to the server, at most cfg.DialParallel
// handshakes at a time, and returns the swarm once every handshake has
// ended. Bots that fail to connect are counted (Stats.DialFailed, and
// DialErrors); Dial fails only for a bad config, when no bot connected, or
// when ctx ends first.
func Dial(ctx context.Context, cfg Config) (*Swarm, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	server, _ := resolve(cfg.Addr)
	s := &Swarm{cfg: cfg, bots: make([]*bot, cfg.Bots)}
	errs := make([]error, cfg.Bots)
	sem := make(chan struct{}, cfg.DialParallel)
	var wg sync.WaitGroup
	for i := range cfg.Bots {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			s.bots[i], errs[i] = dialBot(ctx, cfg, server, i)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			s.failed = append(s.failed, err)
		}
	}
	s.bots = slices.DeleteFunc(s.bots, func(b *bot) bool { return b == nil })
	if err := ctx.Err(); err != nil || len(s.bots) == 0 {
		s.closeBots()
		if err == nil {
			err = fmt.Errorf("botswarm: no bot connected to %s: %w", cfg.Addr, s.failed[0])
		}
		return nil, err
	}
	for i, b := range s.bots {
		b.index = i
	}
	for i := range cfg.Drivers {
		d := &driver{}
		for j := i; j < len(s.bots); j += cfg.Drivers {
			d.bots = append(d.bots, s.bots[j])
		}
		s.drivers = append(s.drivers, d)
	}
	s.started = time.Now()
	return s, nil
}

func dialBot(ctx context.Context, cfg Config, server netip.AddrPort, i int) (*bot, error) {
	network := "udp4"
	if server.Addr().Is6() {
		network = "udp6"
	}
	pc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("botswarm: bot %d: open socket: %w", i, err)
	}
	var sock net.PacketConn = pc
	if cfg.Link != (netsim.Config{}) {
		sock = netsim.WrapDuplex(pc, cfg.Link, cfg.Link, cfg.Seed+uint64(i)*0x9E3779B9)
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	ep := endpoint.DefaultConfig()
	ep.MaxPacketSize = 0 // the connection layer fits its overhead into 1200 bytes
	c, err := netcode.DialConn(dctx, sock, server, netcode.ClientConfig{
		ProtocolID: cfg.ProtocolID, Endpoint: ep, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("botswarm: bot %d: %w", i, err)
	}
	o, err := clientui.NewOnline(c, nil, fmt.Sprintf("bot %d", i))
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return &bot{conn: c, online: o, script: NewScript(cfg.Seed + uint64(i)), stats: BotStats{Connected: true}}, nil
}

// Run drives every bot at the frame rate until ctx ends, then returns nil
// (the bots stay connected until Close). Bots whose connection ends (server
// shutdown, timeout) stop and are counted in Stats.Ended. Run may be called
// once.
func (s *Swarm) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("botswarm: Run called twice")
	}
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.closed.Load() {
		return errors.New("botswarm: Run after Close")
	}
	var wg sync.WaitGroup
	period := time.Second / time.Duration(s.cfg.FrameRate)
	for i, d := range s.drivers {
		wg.Go(func() {
			// Spread the drivers' frames over the period.
			t := time.NewTicker(period)
			defer t.Stop()
			select {
			case <-time.After(period * time.Duration(i) / time.Duration(len(s.drivers))):
			case <-ctx.Done():
				return
			}
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				d.frame(time.Now())
			}
		})
	}
	wg.Wait()
	return nil
}

// frame runs one frame of every bot of d.
func (d *driver) frame(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, b := range d.bots {
		b.frame(now)
	}
}

// frame: read what arrived, predict and send this tick's input, update the
// connection, draw the view (counting interpolation stalls), record stats.
func (b *bot) frame(now time.Time) {
	if b.ended != nil {
		return
	}
	// What a bot "draws": prediction and interpolation on.
	toggles := clientui.Toggles{Prediction: true, Interpolation: true}
	if err := b.online.Update(now, b.script.Next(), toggles); err != nil {
		b.ended = err
		b.stats.Ended = err.Error()
	}
	sess := b.online.Session()
	v := sess.View(now, toggles)
	for i := range v.Entities {
		if e := &v.Entities[i]; e.ID == v.Own && v.Own != 0 {
			b.stats.Deaths = max(b.stats.Deaths, e.Deaths)
		}
	}
	st := b.conn.Stats()
	_, b.stats.Welcomed = sess.Welcomed()
	b.stats.RTT, b.stats.RTTVar, b.stats.Loss = st.RTT, st.RTTVar, st.PacketLoss
	b.stats.Session = sess.Stats()
}

// Bots returns the per-bot measurements of the connected bots, in dial
// order. Safe from any goroutine.
func (s *Swarm) Bots() []BotStats {
	out := make([]BotStats, len(s.bots))
	for _, d := range s.drivers {
		d.mu.Lock()
		for _, b := range d.bots {
			out[b.index] = b.stats
		}
		d.mu.Unlock()
	}
	return out
}

// DialErrors returns the errors of the bots that failed to connect.
func (s *Swarm) DialErrors() []error { return slices.Clone(s.failed) }

// Stats sums the bots' measurements. Safe from any goroutine.
func (s *Swarm) Stats() Stats {
	return summarize(s.cfg.Bots, len(s.failed), time.Since(s.started), s.Bots())
}

// Close disconnects every bot (telling the server) and waits for their
// goroutines. Call it after Run returned (it waits for Run otherwise).
func (s *Swarm) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return s.closeBots()
}

func (s *Swarm) closeBots() error {
	var errs []error
	for _, b := range s.bots {
		if b == nil {
			continue
		}
		if err := b.conn.Close(); err != nil && !errors.Is(err, netcode.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
