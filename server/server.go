package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickwire/tickwire/netcode/state"

	"github.com/tickwire/tickwire/server/wire"
)

// Defaults of Config.
const (
	DefaultSnapshotRate    = 30
	DefaultSnapshotHistory = wire.DefaultSnapshotHistory
	DefaultControlChannel  = 0 // reliable-ordered in endpoint.DefaultConfig
	DefaultInputChannel    = 1 // unreliable
	DefaultSnapshotChannel = 2 // unreliable-sequenced
	MaxSnapshotWorkers     = 64
)

// Config configures a Server. The zero value of every field except Codec
// means its default; Codec.Schema is required.
type Config struct {
	// TickRate, MaxCatchUp and Clock configure the simulation Loop (see
	// LoopConfig): default 60 Hz, catch up at most 5 ticks, system clock.
	TickRate   int
	MaxCatchUp int
	Clock      Clock
	// SnapshotRate is how many snapshots per second each client gets,
	// 1..TickRate; 0 means DefaultSnapshotRate (30), or TickRate if lower.
	// A client's snapshots go out on the ticks where
	// ⌊(tick+phase)·SnapshotRate/TickRate⌋ changes, so any rate works,
	// evenly spread. The phase staggers clients: player p has phase
	// p mod ⌈TickRate/SnapshotRate⌉, so at 60 Hz ticks and 30 Hz snapshots
	// half the clients get theirs on even ticks and half on odd ones, which
	// halves the work of the busiest tick.
	SnapshotRate int
	// AlignSnapshots turns the stagger off: every client's snapshots go
	// out on the same ticks (phase 0).
	AlignSnapshots bool
	// Codec is the snapshot schema and entity limit, shared with clients.
	Codec state.CodecConfig
	// SnapshotHistory is how many ticks of sent snapshots are kept per
	// client as possible delta baselines (2..65536; 0 means 64, about a
	// second at 60 Hz). Clients must keep at least as many ticks.
	SnapshotHistory int
	// SnapshotWorkers is how many goroutines build and encode snapshots
	// (1..MaxSnapshotWorkers; 0 means 1). Above 1, Game.Snapshot is called
	// concurrently for different viewers and must be safe for that (it
	// only reads the world).
	SnapshotWorkers int
	// Input configures every client's InputQueue.
	Input InputConfig
	// Transport channels: ControlChannel (reliable; the Welcome goes
	// there), InputChannel (clients' input messages, unreliable) and
	// SnapshotChannel (unreliable-sequenced). When all three are 0 they take
	// the defaults 0, 1, 2 of endpoint.DefaultConfig; otherwise each must be
	// 0..255 and InputChannel must differ from the other two.
	ControlChannel, InputChannel, SnapshotChannel int
	// AdminAddr, when not empty, is the TCP address Run serves the admin
	// HTTP handler on (metrics and pprof), e.g. "127.0.0.1:9100".
	// AdminListener, when not nil, is used instead.
	AdminAddr     string
	AdminListener net.Listener
	// Registry receives the server's metrics; nil means a new registry
	// with the Go runtime and process collectors (see Server.Registry).
	// Never the global default registry.
	Registry *prometheus.Registry
	// Logger receives structured logs; nil means slog.New(slog.DiscardHandler).
	Logger *slog.Logger
	// OnTick, when set, is called on the Run goroutine after every tick
	// with the tick and how long it took (for load tests and HUDs; keep it
	// fast).
	OnTick func(ti TickInfo, took time.Duration)
}

func (c Config) withDefaults() Config {
	if c.TickRate == 0 {
		c.TickRate = DefaultTickRate
	}
	if c.SnapshotRate == 0 {
		c.SnapshotRate = min(DefaultSnapshotRate, c.TickRate)
	}
	if c.SnapshotHistory == 0 {
		c.SnapshotHistory = DefaultSnapshotHistory
	}
	if c.SnapshotWorkers == 0 {
		c.SnapshotWorkers = 1
	}
	if c.ControlChannel == 0 && c.InputChannel == 0 && c.SnapshotChannel == 0 {
		c.ControlChannel, c.InputChannel, c.SnapshotChannel = DefaultControlChannel, DefaultInputChannel, DefaultSnapshotChannel
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks every field and names the first bad one.
func (c Config) Validate() error {
	if err := (LoopConfig{TickRate: c.TickRate}).Validate(); err != nil {
		return fmt.Errorf("%w: Config.TickRate is %d, want 0 (default %d) or 1..%d", ErrInvalidConfig, c.TickRate, DefaultTickRate, MaxTickRate)
	}
	rate := c.TickRate
	if rate == 0 {
		rate = DefaultTickRate
	}
	if c.SnapshotRate < 0 || c.SnapshotRate > rate {
		return fmt.Errorf("%w: Config.SnapshotRate is %d, want 0 (default %d) or 1..TickRate (%d)", ErrInvalidConfig, c.SnapshotRate, DefaultSnapshotRate, rate)
	}
	if err := c.Codec.Validate(); err != nil {
		return fmt.Errorf("%w: Config.Codec: %w", ErrInvalidConfig, err)
	}
	if c.SnapshotHistory != 0 && (c.SnapshotHistory < 2 || c.SnapshotHistory > 1<<16) {
		return fmt.Errorf("%w: Config.SnapshotHistory is %d, want 0 (default %d) or 2..65536", ErrInvalidConfig, c.SnapshotHistory, DefaultSnapshotHistory)
	}
	if c.SnapshotWorkers < 0 || c.SnapshotWorkers > MaxSnapshotWorkers {
		return fmt.Errorf("%w: Config.SnapshotWorkers is %d, want 0 (default 1) or 1..%d", ErrInvalidConfig, c.SnapshotWorkers, MaxSnapshotWorkers)
	}
	if err := c.Input.Validate(); err != nil {
		return fmt.Errorf("Config.Input: %w", err)
	}
	d := c.withDefaults()
	for _, ch := range []struct {
		name string
		v    int
	}{{"ControlChannel", d.ControlChannel}, {"InputChannel", d.InputChannel}, {"SnapshotChannel", d.SnapshotChannel}} {
		if ch.v < 0 || ch.v > 255 {
			return fmt.Errorf("%w: Config.%s is %d, want 0..255", ErrInvalidConfig, ch.name, ch.v)
		}
	}
	if d.InputChannel == d.ControlChannel || d.InputChannel == d.SnapshotChannel {
		return fmt.Errorf("%w: Config.InputChannel is %d, the same as ControlChannel (%d) or SnapshotChannel (%d); want its own channel",
			ErrInvalidConfig, d.InputChannel, d.ControlChannel, d.SnapshotChannel)
	}
	return nil
}

// session is the server's state of one connected client.
type session struct {
	client ClientID
	player PlayerID
	addr   string
	inputs *InputQueue
	// heardInput: an input message arrived, so snapshots carry an input ack.
	heardInput bool
	inputAck   uint32
	inputLead  int32
	phase      uint32 // snapshot stagger phase

	baselines *state.BaselineTracker
	// ignoreAcksUpTo: after a resync request, acks of snapshots up to this
	// tick are ignored (they may be deltas the client could not decode).
	ignoreAcksUpTo uint32
	ignoreAcks     bool
	sentIDs        [sentIDRing]sentID
	sentNext       int
	hasSent        bool
	lastSentTick   uint32

	errLogged    bool   // an encode error was logged...
	errLoggedAt  uint32 // ...at this tick (errors are logged at most every 10 s per client)
	errsUnlogged int

	snap state.Snapshot // scratch for building
	out  []byte         // encoded snapshot message of this tick
	full bool
	err  error
}

const sentIDRing = 64

// sentID maps a snapshot message id to the tick it carried.
type sentID struct {
	id    uint16
	tick  uint32
	valid bool
}

func (s *session) recordSent(id uint16, tick uint32) {
	s.sentIDs[s.sentNext] = sentID{id: id, tick: tick, valid: true}
	s.sentNext = (s.sentNext + 1) % sentIDRing
	s.lastSentTick, s.hasSent = tick, true
}

// tickOf returns the tick carried by snapshot message id, newest first.
func (s *session) tickOf(id uint16) (uint32, bool) {
	for k := 1; k <= sentIDRing; k++ {
		e := &s.sentIDs[(s.sentNext-k+sentIDRing)%sentIDRing]
		if !e.valid {
			return 0, false
		}
		if e.id == id {
			return e.tick, true
		}
	}
	return 0, false
}

// Server runs a Game at a fixed tick over a Transport. See the package
// documentation for the threading model.
type Server struct {
	cfg  Config
	game Game
	tr   Transport
	log  *slog.Logger
	reg  *prometheus.Registry
	m    *metrics
	loop *Loop

	sessions   []*session // by increasing player id
	due        []*session // the sessions whose snapshot is due this tick
	byClient   map[ClientID]*session
	nextPlayer PlayerID

	encoders []*state.Encoder
	inMsg    wire.InputMessage
	welcome  []byte
	tick     uint32 // the tick being simulated
	running  atomic.Bool
	curTick  atomic.Uint32
	clients  atomic.Int32

	lastStatsTick uint32
	overrunsLog   uint64 // overruns already logged
	lastLate      uint64
	lastSkipped   uint64
	wg            sync.WaitGroup
}

// New returns a Server running game over tr. It registers its metrics on
// cfg.Registry (or a new registry). The transport's ack handler is set to
// the server's.
func New(cfg Config, game Game, tr Transport) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if game == nil || tr == nil {
		return nil, fmt.Errorf("%w: New needs a Game and a Transport", ErrInvalidConfig)
	}
	cfg = cfg.withDefaults()
	loop, err := NewLoop(LoopConfig{TickRate: cfg.TickRate, MaxCatchUp: cfg.MaxCatchUp, Clock: cfg.Clock})
	if err != nil {
		return nil, err
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		registerProcessCollectors(reg)
	}
	s := &Server{
		cfg: cfg, game: game, tr: tr, log: cfg.Logger, reg: reg, loop: loop,
		byClient: map[ClientID]*session{}, nextPlayer: 1,
	}
	s.m = newMetrics(reg)
	for range cfg.SnapshotWorkers {
		enc, err := state.NewEncoder(cfg.Codec)
		if err != nil {
			return nil, err
		}
		s.encoders = append(s.encoders, enc)
	}
	tr.SetAckHandler(s.onAck)
	return s, nil
}

// Registry returns the registry holding the server's metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// AdminHandler returns the admin HTTP handler (metrics and pprof) of the
// server's registry; see the package-level AdminHandler.
func (s *Server) AdminHandler() http.Handler { return AdminHandler(s.reg) }

// Tick returns the tick the server is simulating or last simulated. Safe
// from any goroutine.
func (s *Server) Tick() uint32 { return s.curTick.Load() }

// Clients returns the number of connected players. Safe from any goroutine.
func (s *Server) Clients() int { return int(s.clients.Load()) }

// LoopStats returns the tick loop's counters. Safe only after Run returns
// (the metrics give the live values).
func (s *Server) LoopStats() LoopStats { return s.loop.Stats() }

// Run serves the admin address (if configured) and runs the tick loop
// until ctx is done. It then shuts down gracefully: the transport is
// closed (telling every client), players are removed from the game and the
// admin server stops. It returns nil after a shutdown through ctx, or the
// error that stopped it. Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Run called twice", ErrClosed)
	}
	stopAdmin, err := s.startAdmin()
	if err != nil {
		return err
	}
	s.log.Info("server starting", "tick_rate", s.cfg.TickRate, "snapshot_rate", s.cfg.SnapshotRate,
		"snapshot_workers", s.cfg.SnapshotWorkers, "entities_max", s.cfg.Codec.MaxEntities)
	err = s.loop.Run(ctx, s.step, s.tickDone)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	s.shutdown()
	stopAdmin()
	st := s.loop.Stats()
	s.log.Info("server stopped", "ticks", st.Ticks, "overruns", st.Overruns, "late", st.Late, "skipped", st.Skipped)
	return err
}

func (s *Server) startAdmin() (stop func(), err error) {
	ln := s.cfg.AdminListener
	if ln == nil && s.cfg.AdminAddr != "" {
		ln, err = net.Listen("tcp", s.cfg.AdminAddr)
		if err != nil {
			return nil, fmt.Errorf("server: admin listen on Config.AdminAddr %q: %w", s.cfg.AdminAddr, err)
		}
	}
	if ln == nil {
		return func() {}, nil
	}
	hs := &http.Server{Handler: s.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
	s.log.Info("admin listening", "addr", ln.Addr().String())
	s.wg.Go(func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin server", "err", err)
		}
	})
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		s.wg.Wait()
	}, nil
}

func (s *Server) shutdown() {
	n := len(s.sessions)
	s.sampleStats()
	if err := s.tr.Close(); err != nil {
		s.log.Warn("transport close", "err", err)
	}
	for _, ss := range s.sessions {
		s.game.RemovePlayer(ss.player)
	}
	s.sessions = nil
	clear(s.byClient)
	s.clients.Store(0)
	s.m.clients.Set(0)
	s.log.Info("server shut down", "clients_told", n)
}

// step is one tick: events, inputs, simulation, snapshots, flush.
func (s *Server) step(ti TickInfo) error {
	s.tick = uint32(ti.Tick)
	s.curTick.Store(s.tick)
	now := ti.Start
	s.tr.Poll(now, s.onEvent)
	s.readMessages()
	for _, ss := range s.sessions {
		in, src := ss.inputs.Take(s.tick)
		s.m.inputTicks[src].Inc()
		if newest, ok := ss.inputs.Newest(); ok {
			ss.inputLead = int32(int64(newest) - int64(s.tick))
		}
		if ss.heardInput {
			ss.inputAck = s.tick
		}
		if src != InputNone && src != InputMissing {
			s.game.ApplyInput(ss.player, s.tick, in)
		}
	}
	s.game.Step(s.tick)
	s.sendSnapshots()
	s.tr.Flush(s.cfg.Clock.Now())
	if s.tick-s.lastStatsTick >= uint32(s.cfg.TickRate) {
		s.lastStatsTick = s.tick
		s.sampleStats()
	}
	return nil
}

// snapshotDue reports whether tick is a snapshot tick for a client of the
// given phase: ⌊(tick+phase)·S/T⌋ advances (and tick 0 for phase 0).
func (s *Server) snapshotDue(tick, phase uint32) bool {
	r, t := uint64(s.cfg.SnapshotRate), uint64(s.cfg.TickRate)
	n := uint64(tick) + uint64(phase)
	return n == 0 || (n*r)/t != ((n-1)*r)/t
}

// snapshotPhase returns the stagger phase of a player.
func (s *Server) snapshotPhase(p PlayerID) uint32 {
	if s.cfg.AlignSnapshots {
		return 0
	}
	period := (s.cfg.TickRate + s.cfg.SnapshotRate - 1) / s.cfg.SnapshotRate
	return uint32(p) % uint32(period)
}

func (s *Server) tickDone(ti TickInfo, took time.Duration) {
	if s.cfg.OnTick != nil {
		s.cfg.OnTick(ti, took)
	}
	s.m.tickDuration.Observe(took.Seconds())
	s.m.ticks.Inc()
	st := s.loop.Stats()
	if took > s.loop.Interval() {
		s.m.overruns.Inc()
	}
	if d := st.Late - lastOr(&s.lastLate, st.Late); d > 0 {
		s.m.late.Add(float64(d))
	}
	if d := st.Skipped - lastOr(&s.lastSkipped, st.Skipped); d > 0 {
		s.m.skipped.Add(float64(d))
	}
	// Log overruns at most once per second of ticks, as a summary.
	if st.Overruns > s.overrunsLog && ti.Tick%uint64(s.cfg.TickRate) == 0 {
		s.log.Warn("tick overruns", "new", st.Overruns-s.overrunsLog, "total", st.Overruns, "skipped", st.Skipped,
			"last_duration", took, "interval", s.loop.Interval())
		s.overrunsLog = st.Overruns
	}
}

// lastOr swaps *p with v and returns the old value.
func lastOr(p *uint64, v uint64) uint64 {
	old := *p
	*p = v
	return old
}

func (s *Server) onEvent(ev Event) {
	switch ev.Kind {
	case ClientConnected:
		if _, dup := s.byClient[ev.Client]; dup {
			return
		}
		pid := s.nextPlayer
		s.nextPlayer++
		if err := s.game.AddPlayer(pid); err != nil {
			s.log.Warn("player refused", "client", ev.Client, "addr", ev.Addr, "player", pid, "err", err)
			s.tr.Disconnect(ev.Client)
			s.m.disconnects.Inc()
			return
		}
		ss, err := s.newSession(ev, pid)
		if err != nil { // cannot happen with a validated config
			s.log.Error("session", "err", err)
			s.game.RemovePlayer(pid)
			s.tr.Disconnect(ev.Client)
			return
		}
		s.sessions = append(s.sessions, ss)
		s.byClient[ev.Client] = ss
		s.clients.Store(int32(len(s.sessions)))
		s.m.clients.Set(float64(len(s.sessions)))
		s.m.connects.Inc()
		s.welcome = wire.AppendWelcome(s.welcome[:0], wire.Welcome{Player: pid, TickRate: s.cfg.TickRate, SnapshotRate: s.cfg.SnapshotRate, Tick: s.tick})
		if _, err := s.tr.Send(ev.Client, s.cfg.ControlChannel, s.welcome); err != nil {
			s.log.Warn("welcome not sent", "client", ev.Client, "err", err)
		}
		s.log.Info("client connected", "client", ev.Client, "addr", ev.Addr, "player", pid, "tick", s.tick, "clients", len(s.sessions))
	case ClientDisconnected:
		ss, ok := s.byClient[ev.Client]
		if !ok {
			return
		}
		delete(s.byClient, ev.Client)
		for i, o := range s.sessions {
			if o == ss {
				s.sessions = append(s.sessions[:i], s.sessions[i+1:]...)
				break
			}
		}
		s.game.RemovePlayer(ss.player)
		s.clients.Store(int32(len(s.sessions)))
		s.m.clients.Set(float64(len(s.sessions)))
		s.m.disconnects.Inc()
		st := ss.inputs.Stats()
		s.log.Info("client disconnected", "client", ev.Client, "addr", ss.addr, "player", ss.player, "reason", ev.Reason,
			"inputs_fresh", st.Fresh, "inputs_missing", st.Missing, "clients", len(s.sessions))
	}
}

func (s *Server) newSession(ev Event, pid PlayerID) (*session, error) {
	// Connects are handled at the start of a tick, before inputs are
	// taken: the first tick the queue consumes is this one.
	q, err := NewInputQueue(s.cfg.Input, s.tick)
	if err != nil {
		return nil, err
	}
	bt, err := state.NewBaselineTracker(s.cfg.SnapshotHistory)
	if err != nil {
		return nil, err
	}
	return &session{client: ev.Client, player: pid, addr: ev.Addr, inputs: q, baselines: bt, phase: s.snapshotPhase(pid)}, nil
}

// readMessages drains every client's channels: inputs into the queues, the
// rest counted as unexpected.
func (s *Server) readMessages() {
	for _, ss := range s.sessions {
		for {
			msg, ok := s.tr.ReadMessage(ss.client, s.cfg.InputChannel)
			if !ok {
				break
			}
			if err := wire.DecodeInputMessage(msg, &s.inMsg); err != nil {
				s.m.dropInputBad.Inc()
				continue
			}
			ss.heardInput = true
			if s.inMsg.Resync {
				s.resync(ss)
			}
			for i, in := range s.inMsg.Inputs {
				s.m.verdict(ss.inputs.Offer(s.inMsg.NewestTick-uint32(i), in))
			}
		}
		for _, ch := range [2]int{s.cfg.ControlChannel, s.cfg.SnapshotChannel} {
			if ch == s.cfg.InputChannel {
				continue
			}
			for {
				if _, ok := s.tr.ReadMessage(ss.client, ch); !ok {
					break
				}
				s.m.dropUnexpected.Inc()
			}
		}
	}
}

// resync forgets the client's baselines so that the next snapshot is full
// (unless the next one is full anyway), and ignores late acks of the
// snapshots sent so far: they may be deltas the client could not decode.
func (s *Server) resync(ss *session) {
	if ss.baselines.Baseline() == nil {
		return
	}
	ss.baselines.Reset()
	ss.ignoreAcksUpTo, ss.ignoreAcks = ss.lastSentTick, ss.hasSent
	s.log.Debug("client asked for a full snapshot", "client", ss.client, "player", ss.player, "tick", s.tick)
}

// onAck is the transport's ack handler: a snapshot message reached its
// client, so its tick becomes a candidate baseline.
func (s *Server) onAck(client ClientID, channel int, id uint16) {
	if channel != s.cfg.SnapshotChannel {
		return
	}
	ss, ok := s.byClient[client]
	if !ok {
		return
	}
	tick, ok := ss.tickOf(id)
	if !ok || (ss.ignoreAcks && tick <= ss.ignoreAcksUpTo) {
		return
	}
	ss.baselines.Ack(tick)
}

// sendSnapshots builds, encodes and sends every client's snapshot.
func (s *Server) sendSnapshots() {
	s.due = s.due[:0]
	for _, ss := range s.sessions {
		if s.snapshotDue(s.tick, ss.phase) {
			s.due = append(s.due, ss)
		}
	}
	n := len(s.due)
	if n == 0 {
		return
	}
	workers := min(s.cfg.SnapshotWorkers, n)
	if workers == 1 {
		for _, ss := range s.due {
			s.buildSnapshot(s.encoders[0], ss)
		}
	} else {
		var wg sync.WaitGroup
		per := (n + workers - 1) / workers
		for w := range workers {
			lo, hi := w*per, min((w+1)*per, n)
			if lo >= hi {
				break
			}
			enc := s.encoders[w]
			wg.Go(func() {
				for _, ss := range s.due[lo:hi] {
					s.buildSnapshot(enc, ss)
				}
			})
		}
		wg.Wait()
	}
	for _, ss := range s.due {
		if ss.err != nil {
			s.m.dropSnapInvalid.Inc()
			if !ss.errLogged || s.tick-ss.errLoggedAt >= 10*uint32(s.cfg.TickRate) {
				s.log.Error("snapshot not encoded", "client", ss.client, "player", ss.player, "tick", s.tick, "err", ss.err,
					"more_since_last_log", ss.errsUnlogged)
				ss.errLogged, ss.errLoggedAt, ss.errsUnlogged = true, s.tick, 0
			} else {
				ss.errsUnlogged++
			}
			continue
		}
		id, err := s.tr.Send(ss.client, s.cfg.SnapshotChannel, ss.out)
		if err != nil {
			s.m.dropSnapSend.Inc()
			continue
		}
		ss.recordSent(id, s.tick)
		k := 1
		if ss.full {
			k = 0
		}
		s.m.snapshots[k].Inc()
		s.m.snapBytes[k].Add(float64(len(ss.out)))
	}
}

// buildSnapshot fills ss.out with the client's snapshot message of this
// tick, or ss.err. It touches only ss, the game (read-only) and enc, so
// sessions can be built concurrently.
func (s *Server) buildSnapshot(enc *state.Encoder, ss *session) {
	ss.err = nil
	ss.snap.Reset(s.tick, s.cfg.Codec.Schema.NumFields())
	s.game.Snapshot(ss.player, s.tick, &ss.snap)
	ss.snap.Sort()
	base := ss.baselines.Baseline()
	ss.full = base == nil
	h := wire.SnapshotHeader{HasInputAck: ss.heardInput, InputAck: ss.inputAck, InputLead: ss.inputLead}
	ss.out = wire.AppendSnapshotHeader(ss.out[:0], h)
	out, err := enc.Encode(ss.out, &ss.snap, base)
	if err != nil {
		ss.err = err
		return
	}
	ss.out = out
	ss.baselines.Sent(&ss.snap)
}

// sampleStats exports the transport's totals and every client's RTT and
// loss (once per second).
func (s *Server) sampleStats() {
	s.m.transport(s.tr.Counters())
	for _, ss := range s.sessions {
		if st, ok := s.tr.Stats(ss.client); ok {
			s.m.rtt.Observe(st.RTT.Seconds())
			s.m.loss.Observe(st.PacketLoss)
		}
	}
}
