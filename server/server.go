package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	DefaultKickGrace       = 500 * time.Millisecond
	MaxKickGrace           = 10 * time.Second
)

// Config configures a Server. The zero value of every field except Codec
// means its default; Codec is required (its Schema, or its Kinds).
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
	// Codec is the snapshot codec, shared with clients: the entity fields
	// (Schema for one kind of entity, or Kinds for several: exactly one of
	// them) and the entity limit. Game.Snapshot gets a snapshot whose
	// Stride is Codec.Stride().
	Codec state.CodecConfig
	// SnapshotHistory is how many ticks of the world are kept as possible
	// delta baselines (2..65536; 0 means 64, about a second at 60 Hz): one
	// history shared by every client, plus per client a record of which
	// entities each snapshot carried. A client whose newest acked snapshot
	// is older gets a full snapshot. Clients must keep at least as many
	// ticks.
	SnapshotHistory int
	// SnapshotWorkers is how many goroutines select and encode snapshots
	// (1..MaxSnapshotWorkers; 0 means 1). Above 1, Interest.View is called
	// concurrently for different viewers and must be safe for that (it
	// only reads the world).
	SnapshotWorkers int
	// Input configures every client's InputQueue.
	Input InputConfig
	// Messages is the registry of the game's own message types, shared with
	// the clients (see Server.Send and MessageHandler). Register every type
	// before New. nil: the game sends no messages, and every game message a
	// client sends is dropped.
	Messages *wire.Messages
	// KickGrace bounds how long a kicked client's connection stays open
	// for the kick message to arrive (see Server.Kick): 0 means
	// DefaultKickGrace (500 ms), at most MaxKickGrace; it is counted in
	// ticks, rounded up.
	KickGrace time.Duration
	// Transport channels: ControlChannel (reliable-ordered: the Welcome,
	// game messages both ways and kicks), InputChannel (clients' input
	// messages, unreliable) and SnapshotChannel (unreliable-sequenced).
	// When all three are 0 they take
	// the defaults 0, 1, 2 of endpoint.DefaultConfig; otherwise each must be
	// 0..255 and InputChannel must differ from the other two.
	ControlChannel, InputChannel, SnapshotChannel int
	// Logger receives structured logs; nil means slog.New(slog.DiscardHandler).
	Logger *slog.Logger
	// RoomOf names the room a connecting client joins, from its connect
	// token's user data (in plain mode, its connection request's:
	// netcode.ClientConfig.UserData). nil: every client joins the
	// room "", the Game passed to New. RoomFromUserData reads the name
	// from the user data. See Server.CreateRoom.
	RoomOf func(userData []byte) string
	// NewRoom, when set, creates the room a connecting client names when
	// it does not exist yet: it returns the room's Game (it may keep r, and
	// set r's label). nil: a client naming an unknown room is refused.
	NewRoom func(r *Room) (Game, error)
	// SnapshotBudget caps the snapshot bytes per second to each client
	// (0: no cap): a snapshot that cannot carry the client's whole view
	// carries the entities that matter most to it (see Prioritizer), the
	// others keeping the values the client has. A transport with its own
	// per-connection send budget (LinkStats.SendBudget: netcode's
	// endpoint.Config.SendRate, moved by its CongestionControl) caps the
	// snapshots at 80% of it as well, whatever SnapshotBudget says.
	SnapshotBudget int
	// MaxStaleTicks bounds how old the values of an entity a client sees
	// may get under a budget: an entity last sent this many ticks ago is
	// sent whatever the budget. 0 means SnapshotHistory/2; at most
	// SnapshotHistory/2 (older values would no longer be in the world
	// history the deltas are rebuilt from).
	MaxStaleTicks int
	// MaxRooms caps the rooms of the server (0: no cap); at the cap,
	// CreateRoom fails and clients naming a new room are refused.
	MaxRooms int
	// OnTick, when set, is called after every tick (by Run or Step, on
	// their goroutine) with the tick and how long it took, once Stats
	// counts the tick and after the Observer (for load tests and HUDs;
	// keep it fast). It may call the methods a Game may call. Metrics
	// take their measurements through an Observer instead (see
	// Server.SetObserver and package server/admin).
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
	if c.KickGrace == 0 {
		c.KickGrace = DefaultKickGrace
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
	if c.KickGrace < 0 || c.KickGrace > MaxKickGrace {
		return fmt.Errorf("%w: Config.KickGrace is %v, want 0 (default %v) or up to %v", ErrInvalidConfig, c.KickGrace, DefaultKickGrace, MaxKickGrace)
	}
	if c.SnapshotBudget < 0 {
		return fmt.Errorf("%w: Config.SnapshotBudget is %d, want 0 (no cap) or bytes per second", ErrInvalidConfig, c.SnapshotBudget)
	}
	hist := c.SnapshotHistory
	if hist == 0 {
		hist = DefaultSnapshotHistory
	}
	if c.MaxStaleTicks < 0 || c.MaxStaleTicks > hist/2 {
		return fmt.Errorf("%w: Config.MaxStaleTicks is %d, want 0 (default SnapshotHistory/2) or 1..%d (SnapshotHistory/2)", ErrInvalidConfig, c.MaxStaleTicks, hist/2)
	}
	if c.MaxRooms < 0 {
		return fmt.Errorf("%w: Config.MaxRooms is %d, want 0 (no cap) or more", ErrInvalidConfig, c.MaxRooms)
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
	client   ClientID
	player   PlayerID
	addr     netip.AddrPort
	userData []byte // the connect token's (a copy)
	joined   uint32 // the tick it joined
	// joining: the Game's AddPlayer is running for it; gone: it left or
	// was kicked (a loop over an older sessions slice skips it).
	joining, gone bool
	room          *Room
	inputs        *InputQueue
	// heardInput: an input message arrived, so snapshots carry an input ack.
	heardInput bool
	inputAck   uint32
	inputLead  int32
	phase      uint32 // snapshot stagger phase

	views *state.ViewTracker // what each sent snapshot carried
	// ignoreAcksUpTo: after a resync request, acks of snapshots up to this
	// tick are ignored (they may be deltas the client could not decode).
	ignoreAcksUpTo uint32
	ignoreAcks     bool
	sentIDs        [sentIDRing]sentID
	sentNext       int
	hasSent        bool
	lastSentTick   uint32

	errLog rateLog // encode errors are logged at most every 10 s per client

	view    state.View // what a budgeted client's snapshot carries this tick
	prio    *prioState // the priority accumulator, once its budget was short
	out     []byte     // encoded snapshot message of this tick
	full    bool
	partial bool // this tick's snapshot left entities stale (budget)
	budget  int  // the bytes this tick's snapshot may take (0: no cap)
	// The transport's send budget and rate estimate for the client, told
	// to it in the snapshot header.
	linkBudget, linkEstimate uint32
	err                      error
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
	tr   Transport
	log  *slog.Logger
	loop *Loop
	obs  atomic.Pointer[observerBox]

	stride int // cfg.Codec.Stride()

	// onEventFn is s.onEvent, made once: a method value passed to the
	// Transport interface would be allocated on every Poll.
	onEventFn func(Event)

	// sessions is copied on removal (never changed in place), so a loop
	// over it survives a Kick from a Game callback; it skips gone sessions.
	sessions   []*session // by increasing player id
	due        []*session // the sessions whose snapshot is due this tick
	byClient   map[ClientID]*session
	nextPlayer PlayerID
	kicking    []kicked // kicked clients whose connection is still open
	kickGrace  uint32   // Config.KickGrace in ticks

	workers  []*snapWorker
	viewRing int // the size of each client's ViewTracker
	// linkBudgets: the transport's links may have send budgets (or it
	// cannot tell), so each snapshot asks the client's Stats for them.
	linkBudgets bool
	maxStale    int // Config.MaxStaleTicks with its default

	// rooms are copied on removal (never changed in place), like sessions.
	rooms      []*Room // in creation order
	roomByName map[string]*Room
	roomsPub   []RoomInfo // what Rooms returns (under pubMu)
	roomsBuf   []RoomInfo

	doMu     sync.Mutex
	doQueue  []call // Do and Signal calls for the next tick
	doRun    []call // the queue's other buffer
	doClosed bool
	inMsg    wire.InputMessage
	welcome  []byte
	msgBuf   []byte // the game message being sent
	tick     uint32 // the tick being simulated
	nextTick uint64 // the number of ticks run so far: the next tick
	mode     atomic.Int32
	curTick  atomic.Uint32
	clients  atomic.Int32
	draining atomic.Bool // Drain was called

	st         Stats // the tick goroutine's counters, published each tick
	tickTotal  time.Duration
	pubMu      sync.Mutex
	pub        Stats // what Stats returns
	msgDropLog rateLog
	flushed    bool // the current tick has flushed the transport

	lastStatsTick uint32
	overrunsLog   uint64 // overruns already logged
	skippedLog    uint64 // skipped ticks already logged
	lastLate      uint64
	lastSkipped   uint64
}

// Server modes (Server.mode).
const (
	modeIdle     int32 = iota // between Steps, or before Run
	modeStepping              // a Step is running
	modeRunning               // Run is running
	modeClosed                // Run returned or Close was called
)

// busy returns the error of a call that needs the server idle (Step,
// Run, Close) and found it in mode m.
func busy(call string, m int32) error {
	switch m {
	case modeRunning:
		return fmt.Errorf("%w: %s called while Run is running (drive a server with Run or with Step, not both at once)", ErrBusy, call)
	case modeStepping:
		return fmt.Errorf("%w: %s called during a Step (from the Game, or from another goroutine)", ErrBusy, call)
	}
	return fmt.Errorf("%w: %s called after the server was shut down", ErrClosed, call)
}

// New returns a Server running game over tr. The transport's ack handler
// is set to the server's, and its counters are sampled (Stats.Transport).
// A Game that calls the server (Send, Kick, Player…) keeps the returned
// *Server itself: New does not hand it to the game.
func New(cfg Config, game Game, tr Transport) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if (game == nil && cfg.NewRoom == nil) || tr == nil {
		return nil, fmt.Errorf("%w: New needs a Game (or Config.NewRoom) and a Transport", ErrInvalidConfig)
	}
	cfg = cfg.withDefaults()
	loop, err := NewLoop(LoopConfig{TickRate: cfg.TickRate, MaxCatchUp: cfg.MaxCatchUp, Clock: cfg.Clock})
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, tr: tr, log: cfg.Logger, loop: loop, stride: cfg.Codec.Stride(),
		byClient: map[ClientID]*session{}, nextPlayer: 1, roomByName: map[string]*Room{},
	}
	s.onEventFn = s.onEvent
	// Ticks of grace, rounded up: ⌈KickGrace·TickRate / 1 s⌉.
	s.kickGrace = uint32((int64(cfg.KickGrace)*int64(cfg.TickRate) + int64(time.Second) - 1) / int64(time.Second))
	for range cfg.SnapshotWorkers {
		enc, err := state.NewEncoder(cfg.Codec)
		if err != nil {
			return nil, err
		}
		s.workers = append(s.workers, &snapWorker{enc: enc})
	}
	if game != nil {
		if err := s.addRoom(&Room{srv: s}, game); err != nil {
			return nil, err
		}
	}
	// A client gets a snapshot every ⌈TickRate/SnapshotRate⌉ ticks at
	// least once per ⌊TickRate/SnapshotRate⌋: its tracker needs that many
	// entries to cover the history's ticks, and one more for the snapshot
	// being sent.
	s.viewRing = cfg.SnapshotHistory*cfg.SnapshotRate/cfg.TickRate + 2
	s.maxStale = cfg.MaxStaleTicks
	if s.maxStale == 0 {
		s.maxStale = cfg.SnapshotHistory / 2
	}
	lb, ok := tr.(linkBudgeter)
	s.linkBudgets = !ok || lb.linkBudgets()
	tr.SetAckHandler(s.onAck)
	s.sampleTransport()
	s.publish()
	return s, nil
}

// Tick returns the tick the server is simulating or last simulated. Safe
// from any goroutine.
func (s *Server) Tick() uint32 { return s.curTick.Load() }

// Clients returns the number of connected players. Safe from any goroutine.
func (s *Server) Clients() int { return int(s.clients.Load()) }

// LoopStats returns the tick loop's counters. Safe only after Run returns;
// Stats has the live values, safe from any goroutine, and counts the ticks
// of Step too.
func (s *Server) LoopStats() LoopStats { return s.loop.Stats() }

// Run runs the tick loop until ctx is done: each tick is what Step does,
// at the loop's schedule. It then shuts down gracefully: the transport is
// closed (telling every client) and players are removed from the game.
// It returns nil after a shutdown through ctx, or the error that stopped
// it. Run may be called once, not during a Step; Steps may come before it
// (the tick numbers go on from there), not after.
func (s *Server) Run(ctx context.Context) error {
	if !s.mode.CompareAndSwap(modeIdle, modeRunning) {
		return busy("Run", s.mode.Load())
	}
	defer s.mode.Store(modeClosed)
	s.log.Info("server starting", "tick_rate", s.cfg.TickRate, "snapshot_rate", s.cfg.SnapshotRate,
		"snapshot_workers", s.cfg.SnapshotWorkers, "entities_max", s.cfg.Codec.MaxEntities, "tick", s.nextTick)
	base := s.nextTick // the loop counts from 0
	err := s.loop.Run(ctx, func(ti TickInfo) error {
		ti.Tick += base
		s.runTick(ti, false)
		return nil
	}, func(ti TickInfo, took time.Duration) {
		ti.Tick += base
		s.tickDone(ti, took, true)
	})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	s.shutdown()
	st := s.loop.Stats()
	s.log.Info("server stopped", "ticks", st.Ticks, "overruns", st.Overruns, "late", st.Late, "skipped", st.Skipped)
	return err
}

// Step runs one tick at now, without Run's loop: it polls the transport
// (connects, disconnects, acks), ends the connections of kicked clients
// whose kick arrived, reads every client's messages (game messages to
// MessageHandler, inputs to the input queues), applies the inputs, steps
// the game, sends the snapshots that are due and flushes the transport at
// now. The tick number is the number of ticks run before (0 first); it
// does not depend on now, and neither does anything else the server
// decides, so a test or an in-process host that calls Step with explicit
// times gets the same ticks every time. OnTick and Stats see a Step as a
// tick whose duration is measured on Config.Clock.
//
// Step must not run concurrently with Run or with another Step, nor be
// called from the Game; it returns an error wrapping ErrBusy then, and one
// wrapping ErrClosed after Close or Run. Between Steps, the goroutine that
// calls Step may call the methods a Game may call (Send, Kick, Player…).
func (s *Server) Step(now time.Time) error {
	if !s.mode.CompareAndSwap(modeIdle, modeStepping) {
		return busy("Step", s.mode.Load())
	}
	defer s.mode.Store(modeIdle)
	ti := TickInfo{Tick: s.nextTick, Scheduled: now, Start: now}
	start := s.cfg.Clock.Now()
	s.runTick(ti, true)
	s.tickDone(ti, s.cfg.Clock.Now().Sub(start), false)
	return nil
}

// Close shuts down a server driven by Step, as Run does when its context
// ends: the transport is closed (telling every client) and the players are
// removed from the game. It returns an error wrapping ErrBusy during Run
// or a Step (cancel Run's context instead), and one wrapping ErrClosed
// when the server was already shut down (by Close or Run).
func (s *Server) Close() error {
	if !s.mode.CompareAndSwap(modeIdle, modeClosed) {
		return busy("Close", s.mode.Load())
	}
	s.shutdown()
	return nil
}

// shutdown closes the transport (telling every client, the kicked ones
// too) and removes the players from the game.
func (s *Server) shutdown() {
	n := len(s.sessions)
	s.sampleStats(s.observer())
	if err := s.tr.Close(); err != nil {
		s.log.Warn("transport close", "err", err)
	}
	// Forget the players first: a RemovePlayer that sends to the others
	// finds nobody, instead of a closed transport.
	s.closeCalls()
	gone := s.sessions
	s.sessions = nil
	clear(s.byClient)
	s.kicking = nil
	for _, r := range s.rooms {
		r.sessions = nil
	}
	for _, ss := range gone {
		ss.gone = true
		ss.room.game.RemovePlayer(ss.player)
	}
	s.setClients()
	s.publish()
	s.log.Info("server shut down", "clients_told", n)
}

// runTick is one tick: events, kicks, messages, inputs, simulation,
// snapshots, flush (at ti.Start when flushAtStart, else at the clock's
// time).
func (s *Server) runTick(ti TickInfo, flushAtStart bool) {
	s.tick = uint32(ti.Tick)
	s.nextTick = ti.Tick + 1
	s.curTick.Store(s.tick)
	s.flushed = false
	now := ti.Start
	s.runCalls()
	s.tr.Poll(now, s.onEventFn)
	s.endKicks()
	s.readMessages()
	for _, ss := range s.sessions {
		if ss.gone { // kicked by HandleMessage or an earlier ApplyInput
			continue
		}
		in, src := ss.inputs.Take(s.tick)
		s.st.InputTicks[src]++
		if newest, ok := ss.inputs.Newest(); ok {
			ss.inputLead = int32(int64(newest) - int64(s.tick))
		}
		if ss.heardInput {
			ss.inputAck = s.tick
		}
		if src != InputNone && src != InputMissing {
			ss.room.game.ApplyInput(ss.player, s.tick, in)
		}
	}
	for _, r := range s.rooms {
		if r.closed { // closed by an earlier room's Step
			continue
		}
		start := s.cfg.Clock.Now()
		r.game.Step(s.tick)
		r.tickTime = s.cfg.Clock.Now().Sub(start)
	}
	s.sendSnapshots()
	if !flushAtStart {
		now = s.cfg.Clock.Now()
	}
	s.tr.Flush(now)
	s.flushed = true
	if s.tick-s.lastStatsTick >= uint32(s.cfg.TickRate) {
		s.lastStatsTick = s.tick
		s.sampleStats(s.observer())
	}
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

// tickDone counts a tick that took took (fromLoop: Run's loop ran it, so
// its Late and Skipped counts are current) and publishes the stats.
func (s *Server) tickDone(ti TickInfo, took time.Duration, fromLoop bool) {
	s.st.Ticks++
	s.st.LastTickDuration = took
	s.tickTotal += took
	s.st.AvgTickDuration = s.tickTotal / time.Duration(s.st.Ticks)
	if took > s.loop.Interval() {
		s.st.Overruns++
	}
	if fromLoop {
		st := s.loop.Stats()
		s.st.Late += st.Late - lastOr(&s.lastLate, st.Late)
		s.st.Skipped += st.Skipped - lastOr(&s.lastSkipped, st.Skipped)
	}
	// Log overruns and skipped ticks at most once per second of ticks, as
	// a summary.
	if (s.st.Overruns > s.overrunsLog || s.st.Skipped > s.skippedLog) && ti.Tick%uint64(s.cfg.TickRate) == 0 {
		s.log.Warn("tick overruns", "new", s.st.Overruns-s.overrunsLog, "total", s.st.Overruns,
			"skipped_new", s.st.Skipped-s.skippedLog, "skipped", s.st.Skipped,
			"last_duration", took, "interval", s.loop.Interval())
		s.overrunsLog, s.skippedLog = s.st.Overruns, s.st.Skipped
	}
	s.publish()
	if o := s.observer(); o != nil {
		o.ObserveTick(ti, took)
	}
	if s.cfg.OnTick != nil {
		s.cfg.OnTick(ti, took)
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
		if s.draining.Load() {
			s.refuse(ev, "the server is shutting down")
			return
		}
		r, err := s.roomFor(ev)
		if err != nil {
			s.refuse(ev, err.Error())
			return
		}
		pid := s.nextPlayer
		if r.joiner != nil {
			info := PlayerInfo{ID: pid, Client: ev.Client, Addr: ev.Addr, UserData: bytes.Clone(ev.UserData), JoinedTick: s.tick, Room: r.name}
			if err := r.joiner.JoinAttempt(info); err != nil {
				s.refuse(ev, err.Error())
				return
			}
		}
		s.nextPlayer++
		ss, err := s.newSession(ev, pid)
		if err != nil { // cannot happen with a validated config
			s.log.Error("session", "err", err)
			s.tr.Disconnect(ev.Client)
			return
		}
		ss.room = r
		r.sessions = append(r.sessions, ss)
		// The player is known (to Send, Player…) from AddPlayer on, and
		// the Welcome goes first, so what AddPlayer sends follows it.
		s.sessions = append(s.sessions, ss)
		s.byClient[ev.Client] = ss
		s.welcome = wire.AppendWelcome(s.welcome[:0], wire.Welcome{Player: pid, TickRate: s.cfg.TickRate, SnapshotRate: s.cfg.SnapshotRate, Tick: s.tick})
		if _, err := s.tr.Send(ev.Client, s.cfg.ControlChannel, s.welcome); err != nil {
			s.log.Warn("welcome not sent", "client", ev.Client, "err", err)
		}
		ss.joining = true
		err = r.game.AddPlayer(pid)
		ss.joining = false
		if err != nil {
			// The Welcome and what AddPlayer sent never leave: the
			// transport drops the connection's queue.
			s.removeSession(ss)
			s.log.Warn("player refused", "client", ev.Client, "addr", ev.Addr, "player", pid, "err", err)
			s.tr.Disconnect(ev.Client)
			s.st.Disconnects++
			s.st.Refused++
			return
		}
		s.setClients()
		s.st.Connects++
		s.log.Info("client connected", "client", ev.Client, "addr", ev.Addr, "player", pid, "tick", s.tick, "clients", len(s.sessions))
	case ClientDisconnected:
		ss, ok := s.byClient[ev.Client]
		if !ok {
			s.kickDone(ev.Client, ev.Reason)
			return
		}
		s.removeSession(ss)
		ss.room.game.RemovePlayer(ss.player)
		s.setClients()
		s.st.Disconnects++
		st := ss.inputs.Stats()
		s.log.Info("client disconnected", "client", ev.Client, "addr", ss.addr, "player", ss.player, "reason", ev.Reason,
			"inputs_fresh", st.Fresh, "inputs_missing", st.Missing, "clients", len(s.sessions))
	}
}

// removeSession forgets ss. The sessions slice is copied, not changed in
// place: a loop over it that is running a Game callback goes on safely
// (and skips ss, now gone).
func (s *Server) removeSession(ss *session) {
	ss.gone = true
	delete(s.byClient, ss.client)
	if i := slices.Index(s.sessions, ss); i >= 0 {
		s.sessions = append(s.sessions[:i:i], s.sessions[i+1:]...)
	}
	if r := ss.room; r != nil {
		if i := slices.Index(r.sessions, ss); i >= 0 {
			r.sessions = append(r.sessions[:i:i], r.sessions[i+1:]...)
		}
	}
}

// setClients publishes the number of players.
func (s *Server) setClients() {
	s.clients.Store(int32(len(s.sessions)))
	s.st.Clients = len(s.sessions)
}

func (s *Server) newSession(ev Event, pid PlayerID) (*session, error) {
	// Connects are handled at the start of a tick, before inputs are
	// taken: the first tick the queue consumes is this one.
	q, err := NewInputQueue(s.cfg.Input, s.tick)
	if err != nil {
		return nil, err
	}
	vt, err := state.NewViewTracker(s.viewRing)
	if err != nil {
		return nil, err
	}
	return &session{client: ev.Client, player: pid, addr: ev.Addr, userData: bytes.Clone(ev.UserData), joined: s.tick,
		inputs: q, views: vt, phase: s.snapshotPhase(pid)}, nil
}

// readMessages drains every client's channels: game messages (control
// channel) to the Game's MessageHandler, inputs into the queues, the rest
// counted as unexpected.
func (s *Server) readMessages() {
	for _, ss := range s.sessions {
		for !ss.gone {
			msg, ok := s.tr.ReadMessage(ss.client, s.cfg.ControlChannel)
			if !ok {
				break
			}
			s.controlMessage(ss, msg)
		}
		if ss.gone { // kicked by HandleMessage
			continue
		}
		for {
			msg, ok := s.tr.ReadMessage(ss.client, s.cfg.InputChannel)
			if !ok {
				break
			}
			if err := wire.DecodeInputMessage(msg, &s.inMsg); err != nil {
				s.drop(DropInputMalformed)
				continue
			}
			ss.heardInput = true
			if s.inMsg.Resync {
				s.resync(ss)
			}
			for i, in := range s.inMsg.Inputs {
				s.verdict(ss.inputs.Offer(s.inMsg.NewestTick-uint32(i), in))
			}
		}
		if s.cfg.SnapshotChannel == s.cfg.ControlChannel {
			continue
		}
		for {
			if _, ok := s.tr.ReadMessage(ss.client, s.cfg.SnapshotChannel); !ok {
				break
			}
			s.dropMessage(ss, DropUnexpectedMsg, nil)
		}
	}
}

// resync forgets the client's baselines so that the next snapshot is full
// (unless the next one is full anyway), and ignores late acks of the
// snapshots sent so far: they may be deltas the client could not decode.
func (s *Server) resync(ss *session) {
	if _, acked := ss.views.AckedTick(); !acked {
		return
	}
	ss.views.Reset()
	ss.ignoreAcksUpTo, ss.ignoreAcks = ss.lastSentTick, ss.hasSent
	s.log.Debug("client asked for a full snapshot", "client", ss.client, "player", ss.player, "tick", s.tick)
}

// onAck is the transport's ack handler: a snapshot message reached its
// client, so its tick becomes a candidate baseline; or a kick message
// reached its client, so its connection can end.
func (s *Server) onAck(client ClientID, channel int, id uint16) {
	if channel == s.cfg.ControlChannel && len(s.kicking) > 0 {
		s.kickAcked(client, id)
	}
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
	ss.views.Ack(tick)
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
	for _, ss := range s.due { // every room's world, once, and each budget, before the workers
		if r := ss.room; r.worldAt != uint64(s.tick)+1 {
			s.takeWorld(r)
		}
		// The transport is asked here, on the tick's goroutine.
		var st LinkStats
		if s.linkBudgets {
			st, _ = s.tr.Stats(ss.client)
		}
		ss.budget = s.budgetBytes(st)
		ss.linkBudget, ss.linkEstimate = clampU32(st.SendBudget), clampU32(st.EstimatedRate)
	}
	workers := min(s.cfg.SnapshotWorkers, n)
	if workers == 1 {
		for _, ss := range s.due {
			s.buildSnapshot(s.workers[0], ss)
		}
	} else {
		var wg sync.WaitGroup
		per := (n + workers - 1) / workers
		for w := range workers {
			lo, hi := w*per, min((w+1)*per, n)
			if lo >= hi {
				break
			}
			sw := s.workers[w]
			wg.Go(func() {
				for _, ss := range s.due[lo:hi] {
					s.buildSnapshot(sw, ss)
				}
			})
		}
		wg.Wait()
	}
	for _, ss := range s.due {
		if ss.err == errNoWorld {
			continue
		}
		if ss.err != nil {
			s.drop(DropSnapshotInvalid)
			if more, ok := ss.errLog.allow(s.tick, 10*uint32(s.cfg.TickRate)); ok {
				s.log.Error("snapshot not encoded", "client", ss.client, "player", ss.player, "tick", s.tick, "err", ss.err,
					"more_since_last_log", more)
			}
			continue
		}
		id, err := s.tr.Send(ss.client, s.cfg.SnapshotChannel, ss.out)
		if err != nil {
			s.drop(DropSnapshotSendFail)
			continue
		}
		ss.recordSent(id, s.tick)
		if ss.partial {
			s.st.SnapshotsPartial++
		}
		if ss.full {
			s.st.SnapshotsFull++
			s.st.SnapshotBytesFull += uint64(len(ss.out))
		} else {
			s.st.SnapshotsDelta++
			s.st.SnapshotBytesDelta += uint64(len(ss.out))
		}
	}
}

// snapWorker is what one snapshot worker reuses from tick to tick.
type snapWorker struct {
	enc       *state.Encoder
	cur, base state.Snapshot // a client's snapshot and baseline, selected from the worlds
	iv        state.View     // the client's view (Interest)
	ranks     []rank         // a budgeted client's candidates, by priority
	must      []bool         // … that must go fresh (by index in its records)
	isFresh   []bool         // … that go fresh this tick
}

// appendHeader returns ss.out holding the snapshot message header.
func (s *Server) appendHeader(ss *session) []byte {
	h := wire.SnapshotHeader{HasInputAck: ss.heardInput, InputAck: ss.inputAck, InputLead: ss.inputLead,
		SendBudget: ss.linkBudget, EstimatedRate: ss.linkEstimate}
	return wire.AppendSnapshotHeader(ss.out[:0], h)
}

// clampU32 returns v as a uint32, 0 below 0 and the largest above it.
func clampU32(v int) uint32 {
	return uint32(min(max(v, 0), math.MaxUint32))
}

// errNoWorld: the room's world of this tick was not taken (counted and
// logged once for the room), so its players get no snapshot this tick.
var errNoWorld = errors.New("server: no world this tick")

// takeWorld asks r's Game for this tick's world, sorts it and stores it in
// r's history. A world whose ids repeat is counted and logged, and r's
// players get no snapshot this tick.
func (s *Server) takeWorld(r *Room) {
	start := s.cfg.Clock.Now()
	r.worldAt, r.world = uint64(s.tick)+1, nil
	w := &r.worldBuf
	w.Reset(s.tick, s.stride)
	r.game.Snapshot(s.tick, w)
	w.Sort()
	for i := 1; i < len(w.IDs); i++ {
		if w.IDs[i] == w.IDs[i-1] {
			s.drop(DropSnapshotInvalid)
			if more, ok := r.errLog.allow(s.tick, 10*uint32(s.cfg.TickRate)); ok {
				s.log.Error("world not sent: an entity id appears twice", "room", r.name, "tick", s.tick, "id", w.IDs[i], "more_since_last_log", more)
			}
			return
		}
	}
	r.worlds.Put(w)
	r.world, _ = r.worlds.Get(s.tick)
	r.tickTime += s.cfg.Clock.Now().Sub(start)
}

// buildSnapshot fills ss.out with the client's snapshot message of this
// tick, or ss.err: the entities of its room's world the client sees,
// delta-encoded against its newest acked snapshot, rebuilt from the room's
// worlds. It touches only ss, sw and the room's game and worlds
// (read-only), so sessions can be built concurrently.
func (s *Server) buildSnapshot(sw *snapWorker, ss *session) {
	ss.err, ss.partial = nil, false
	r := ss.room
	world := r.world
	if world == nil {
		ss.err = errNoWorld
		return
	}
	budget := ss.budget
	// The view is built in the worker's View, whose memory stays in cache
	// from one client to the next (the client's tracker keeps what it
	// needs of it); a budgeted client's ss.view becomes what its snapshot
	// carries.
	iv := &sw.iv
	if r.interest != nil {
		iv.Reset(world.Len())
		r.interest.View(ss.player, world, iv)
	} else {
		iv.SetAll(world.Len())
	}
	if budget > 0 || ss.prio != nil {
		if budget == 0 {
			budget = unlimited
		}
		s.buildBudgeted(sw, ss, world, iv, budget)
		if ss.err == nil {
			ss.views.SentStale(s.tick, &ss.view, ss.prio.stale)
		}
		return
	}
	// The view's entities, delta-encoded against the acked snapshot's, are
	// read from the room's worlds in place: no copy per client.
	ss.out = s.appendHeader(ss)
	out, full, err := ss.views.Encode(sw.enc, ss.out, r.worlds, s.tick, iv)
	if err != nil {
		ss.err = err
		return
	}
	ss.out, ss.full = out, full
}

// sampleStats samples the transport's totals, and every client's RTT and
// loss for o (once per second, and at shutdown).
func (s *Server) sampleStats(o Observer) {
	s.sampleTransport()
	if o == nil {
		return
	}
	for _, ss := range s.sessions {
		if st, ok := s.tr.Stats(ss.client); ok {
			o.ObserveLink(ss.player, st)
		}
	}
}
