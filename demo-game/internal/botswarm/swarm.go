package botswarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server/client"
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
	// front of it), host:port. With Dial set it is only a label.
	Addr string
	// Bots is how many clients to run, 1..MaxBots.
	Bots int
	// Seed seeds the bots' scripts (bot i plays NewScript(Seed+i)), their
	// link conditioners and their reconnect jitter.
	Seed uint64
	// ProtocolID is the server's netcode protocol id; 0 means the demo's
	// (clientui.DefaultProtocolID).
	ProtocolID uint64
	// Rooms, when not 0, spreads the bots over that many rooms of a
	// server in rooms mode (the demo server's -room-players): bot i names
	// the room "room-<i mod Rooms>" in its connection request's user data.
	Rooms int
	// FrameRate is how many frames per second each bot runs (1..240;
	// 0 means 60): one client update and one drawn view per frame.
	FrameRate int
	// Drivers is how many goroutines share the bots' frames; 0 means
	// GOMAXPROCS, at most Bots.
	Drivers int
	// DialTimeout bounds each bot's handshake (0 means 10 s), and
	// DialParallel the handshakes in flight at once while Dial runs
	// (0 means 32).
	DialTimeout  time.Duration
	DialParallel int
	// Link, when not the zero Config, conditions both directions of every
	// bot's own socket (as the client's -loss/-latency flags do).
	Link netsim.Config
	// Reconnect says whether and how a bot reconnects after losing its
	// connection (or failing to make one); bot i's backoff jitter is
	// seeded with Seed+i. The zero value never reconnects.
	Reconnect client.ReconnectPolicy
	// Dial, when set, makes bot i's connections instead of a new UDP
	// socket to Addr per attempt (tests dial in-memory pipes). It runs on
	// a goroutine of the bot's client and must return when ctx ends.
	Dial func(ctx context.Context, bot int) (*netcode.Client, error)
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
	if c.Dial == nil {
		if _, err := clientui.ResolveServer(c.Addr); err != nil {
			return fmt.Errorf("%w: Addr = %q: want host:port of the server, like 127.0.0.1:7777 (%v)", ErrInvalidConfig, c.Addr, err)
		}
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

// IsLoopback reports whether addr is a loopback host:port (127.0.0.0/8,
// ::1 or localhost).
func IsLoopback(addr string) bool {
	ap, err := clientui.ResolveServer(addr)
	return err == nil && ap.Addr().IsLoopback()
}

// BotStats is what one bot measured.
type BotStats struct {
	Connected bool // a connection was made (at least once)
	// Welcomed: the server's welcome (a reliable message) arrived on every
	// connection the bot made.
	Welcomed bool
	// Ended says why the bot is not connected now: its client's status
	// (e.g. "disconnected: netcode: connection timed out; reconnecting in
	// 2s"); "" while connected.
	Ended string
	// Status is the client's status line as of the bot's last frame.
	Status string
	// Lost counts the connections that ended (the server died, shut down,
	// timed out or kicked the bot); Reconnects the connections made after
	// the first.
	Lost, Reconnects int
	RTT              time.Duration // smoothed round-trip time of the link
	RTTVar           time.Duration
	Loss             float64 // packet loss of the link, 0..1
	Deaths           int32   // times the bot's player was killed (each respawn is a correction: a teleport)
	Client           client.Stats
}

// bot is one headless client, driven by one driver goroutine.
type bot struct {
	index    int // in Swarm.bots
	c        *clientui.Client
	script   *Script
	welcomes uint64 // connections whose welcome arrived
	welcomed bool   // the current connection's welcome arrived
	stats    BotStats
}

// Swarm is a set of bots connected to one server. See the package
// documentation.
type Swarm struct {
	cfg     Config
	bots    []*bot
	failed  []error // first dial attempts that failed
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

// Dial creates cfg.Bots bots and makes each one's first connection, at
// most cfg.DialParallel handshakes at a time, driving the connected bots'
// frames meanwhile; it returns once every first attempt has ended. Bots
// whose first attempt failed are counted (Stats.DialFailed, and DialErrors)
// and stay in the swarm: with cfg.Reconnect they keep trying during Run.
// Dial fails for a bad config, when no bot connected, or when ctx ends
// first.
func Dial(ctx context.Context, cfg Config) (*Swarm, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Swarm{cfg: cfg, bots: make([]*bot, cfg.Bots)}
	for i := range s.bots {
		b, err := newBot(cfg, i)
		if err != nil {
			s.closeBots()
			return nil, err
		}
		s.bots[i] = b
	}
	if err := s.connect(ctx); err != nil {
		s.closeBots()
		return nil, err
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

// newBot returns bot i with its client runtime (not connected yet).
func newBot(cfg Config, i int) (*bot, error) {
	static := game.NewStatic()
	ccfg := clientui.ClientConfig(static)
	ccfg.Netcode.ProtocolID = cfg.ProtocolID
	ccfg.Netcode.ConnectTimeout = cfg.DialTimeout
	if cfg.Rooms > 0 {
		ccfg.Netcode.UserData = fmt.Appendf(nil, "room-%d", i%cfg.Rooms)
	}
	ccfg.Logger = cfg.Logger.With("bot", i)
	ccfg.Reconnect = cfg.Reconnect
	ccfg.Reconnect.Seed = cfg.Seed + uint64(i)
	if cfg.Dial != nil {
		dial, timeout := cfg.Dial, cfg.DialTimeout
		ccfg.Dial = func(ctx context.Context) (*netcode.Client, error) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return dial(ctx, i)
		}
	} else {
		d, err := clientui.NewUDPDialer(clientui.DialerConfig{
			Addr: cfg.Addr, Link: cfg.Link, Seed: cfg.Seed + uint64(i)*0x9E3779B9, Netcode: ccfg.Netcode,
		})
		if err != nil {
			return nil, fmt.Errorf("botswarm: bot %d: %w", i, err)
		}
		ccfg.Dial = d.Dial
	}
	c, err := client.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("botswarm: bot %d: %w", i, err)
	}
	return &bot{index: i, c: c, script: NewScript(cfg.Seed + uint64(i))}, nil
}

// connect runs frames of the bots until every bot's first connection
// attempt has ended, starting at most DialParallel attempts at a time.
func (s *Swarm) connect(ctx context.Context) error {
	t := time.NewTicker(time.Second / time.Duration(s.cfg.FrameRate))
	defer t.Stop()
	started := 0
	for {
		now := time.Now()
		inflight := 0
		for _, b := range s.bots[:started] {
			b.frame(now)
			if b.firstAttempt() {
				inflight++
			}
		}
		for ; started < len(s.bots) && inflight < s.cfg.DialParallel; started++ {
			s.bots[started].frame(now) // the first update starts the dial
			inflight++
		}
		if started == len(s.bots) && inflight == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	connected := 0
	for _, b := range s.bots {
		if b.stats.Connected {
			connected++
			continue
		}
		err := b.c.Status().Err
		if err == nil {
			err = errors.New("not connected")
		}
		s.failed = append(s.failed, fmt.Errorf("bot %d: %w", b.index, err))
	}
	if connected == 0 {
		return fmt.Errorf("botswarm: no bot connected to %s: %w", s.cfg.Addr, s.failed[0])
	}
	return nil
}

// firstAttempt reports whether the bot's first connection attempt is still
// under way.
func (b *bot) firstAttempt() bool {
	st := b.c.Status()
	return b.c.Stats().Connects == 0 && st.State == client.Connecting && st.Attempt == 0
}

// Run drives every bot at the frame rate until ctx ends, then returns nil
// (the bots stay connected until Close). A bot whose connection ends
// (server shutdown, timeout) shows it in its status and reconnects when
// Config.Reconnect allows. Run may be called once.
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

// frame: the client's update with this frame's scripted input, the drawn
// view of the remote entities (which counts interpolation stalls), and the
// bot's stats.
func (b *bot) frame(now time.Time) {
	b.c.Update(now, b.script.Next())
	b.c.Remote(now)
	st, status := b.c.Stats(), b.c.Status()
	switch {
	case status.State == client.Connected && status.Welcomed && !b.welcomed:
		b.welcomes++
		b.welcomed = true
	case status.State != client.Connected:
		b.welcomed = false
	}
	bs := &b.stats
	bs.Connected = st.Connects > 0
	bs.Welcomed = bs.Connected && b.welcomes == st.Connects
	bs.Status = status.String()
	bs.Ended = ""
	if status.State != client.Connected {
		bs.Ended = bs.Status
	}
	bs.Lost = int(st.Connects)
	if status.State == client.Connected {
		bs.Lost--
	}
	bs.Reconnects = max(int(st.Connects)-1, 0)
	bs.RTT, bs.RTTVar, bs.Loss = st.RTT, st.Jitter, st.Loss
	if w, ok := b.c.Welcome(); ok {
		if snap, _, ok := b.c.Newest(); ok {
			if i, ok := snap.Find(uint32(w.Player)); ok {
				bs.Deaths = max(bs.Deaths, snap.Fields(i)[game.FieldDeaths])
			}
		}
	}
	bs.Client = st
}

// Bots returns the per-bot measurements, in bot order. Safe from any
// goroutine.
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

// DialErrors returns the errors of the bots whose first attempt to connect
// failed.
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
		if err := b.c.Close(); err != nil && !errors.Is(err, client.ErrClosed) && !errors.Is(err, netcode.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
