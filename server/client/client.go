package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// Client is the client half of a Tickwire game: it connects (and
// reconnects), keeps a server clock estimate, predicts the own entity and
// reconciles it with the server, interpolates the remote entities, sends
// inputs with redundancy and an adaptive lead, and exchanges typed game
// messages. The game drives it from its frame loop with explicit time: one
// Update per frame, then the accessors for drawing. See the package
// documentation for the frame loop and the start-up order.
//
// The zero Client is not usable (New). A Client is not safe for concurrent
// use: call every method from the game loop's goroutine. It starts no
// goroutine of its own except the short-lived one that dials.
type Client[S, I any] struct {
	cfg     Config[S, I]
	log     *slog.Logger
	dial    func(ctx context.Context) (*netcode.Client, error)
	predCfg state.PredictorConfig[S, I]
	rng     *rand.Rand

	// The connection.
	conn       *netcode.Client
	status     Status
	closed     bool
	dialing    bool
	dialCh     chan dialResult
	dialCancel context.CancelFunc
	retry      bool // a reconnect attempt is scheduled at retryAt
	retryAt    time.Time
	now        time.Time // of the last Update

	// The world of the current connection; reset when it ends.
	reader     *wire.SnapshotReader
	welcome    wire.Welcome
	welcomed   bool
	ownID      uint32
	maxTicks   int
	tickDt     time.Duration
	clock      *state.Clock
	interp     *state.Interpolator
	frame      state.Frame
	newest     state.Snapshot // a copy of the newest applied snapshot
	newestHdr  wire.SnapshotHeader
	haveNewest bool
	batchTick  uint32 // the newest snapshot tick read in this Update
	batchNew   bool
	pred       *state.Predictor[S, I]
	predicting bool            // the first inputs of this prediction were sent
	smoother   *state.Smoother // nil without Config.Correction
	offset     []float64
	corr       []float64
	lead       leadControl
	inputs     inputSender
	inBuf      []byte
	arrivals   *state.RateMeter

	// What the last Update produced.
	events []EntityEvent
	msgs   []any

	sendBuf []byte
	stats   Stats
}

type dialResult struct {
	conn *netcode.Client
	err  error
}

// New returns a Client for cfg. It does not connect yet: the first Update
// starts dialling.
func New[S, I any](cfg Config[S, I]) (*Client[S, I], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client[S, I]{
		cfg: cfg, log: cfg.Logger, dial: cfg.Dial,
		predCfg: state.PredictorConfig[S, I]{Step: cfg.Step, Equal: cfg.Equal, Clone: cfg.Clone},
		rng:     rand.New(rand.NewPCG(cfg.Reconnect.Seed, 0x7469636b77697265)),
		dialCh:  make(chan dialResult, 1),
		inBuf:   make([]byte, 0, 64),
	}
	if c.dial == nil {
		addr, ncfg := cfg.Addr, cfg.Netcode
		c.dial = func(ctx context.Context) (*netcode.Client, error) { return netcode.Dial(ctx, addr, ncfg) }
	}
	var err error
	if c.arrivals, err = state.NewRateMeter(time.Second); err != nil {
		return nil, err
	}
	if c.reader, err = wire.NewSnapshotReader(cfg.Codec, cfg.SnapshotHistory); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return c, nil
}

// Update runs one frame at now with the frame's input: it takes over a
// finished dial (or starts one when a reconnect is due), advances the
// prediction to the clock's target tick applying input to every new tick,
// sends the input messages, updates the connection (receive, timeouts,
// flush), and handles what the server sent (Welcome, snapshots, game
// messages, kick). Call it once per frame, with a now that does not go
// backwards; then read Events, Messages and the accessors for drawing.
// A lost connection is not an error: Status says what happened.
//
// What arrived is handled after the connection's update, in the same
// call, so that each snapshot is timed when it was received, not a frame
// later (a frame that comes late would otherwise set the clock back).
func (c *Client[S, I]) Update(now time.Time, input I) {
	c.events = c.events[:0]
	clear(c.msgs)
	c.msgs = c.msgs[:0]
	if c.closed {
		return
	}
	c.now = now
	if c.conn == nil && !c.connect(now) {
		return
	}
	c.predict(now, input)
	err := c.conn.Update(now)
	if reason, kicked := c.receive(now); kicked {
		err = &KickedError{Reason: reason}
	}
	if err != nil {
		_ = c.conn.Close()
		c.conn = nil
		c.resetWorld()
		c.fail(now, err)
	}
}

// connect advances the dial state machine and reports whether a connection
// is up.
func (c *Client[S, I]) connect(now time.Time) bool {
	if c.dialing {
		select {
		case r := <-c.dialCh:
			c.dialing = false
			c.dialCancel()
			if r.err != nil {
				c.fail(now, r.err)
				return false
			}
			c.attach(r.conn)
			return true
		default:
			return false
		}
	}
	if c.status.State == Disconnected {
		if !c.retry {
			return false
		}
		if left := c.retryAt.Sub(now); left > 0 {
			c.status.RetryIn = left
			return false
		}
		c.retry = false
		c.status.Attempt++
		c.log.Info("client: reconnecting", "attempt", c.status.Attempt)
	}
	c.status.State, c.status.RetryIn = Connecting, 0
	ctx, cancel := context.WithCancel(context.Background())
	c.dialing, c.dialCancel = true, cancel
	dial, ch := c.dial, c.dialCh
	go func() {
		conn, err := dial(ctx)
		if err == nil && conn == nil {
			err = errors.New("client: Config.Dial returned no connection and no error")
		}
		ch <- dialResult{conn, err}
	}()
	return false
}

// attach starts a connection with a fresh world.
func (c *Client[S, I]) attach(conn *netcode.Client) {
	c.conn = conn
	c.status = Status{State: Connected}
	c.stats.Connects++
	if c.stats.Connects > 1 {
		// The first connection uses the reader New made; a new one needs
		// a reader with an empty history.
		r, err := wire.NewSnapshotReader(c.cfg.Codec, c.cfg.SnapshotHistory)
		if err == nil { // the config was validated
			c.reader = r
		}
	}
	c.log.Info("client: connected", "server", conn.RemoteAddr().String(), "id", uint64(conn.ID()))
}

// fail records that the connection ended (or could not be made) with err
// and schedules a reconnect when the policy allows one.
func (c *Client[S, I]) fail(now time.Time, err error) {
	c.status = Status{State: Disconnected, Err: err, Attempt: c.status.Attempt}
	c.retry = false
	p := c.cfg.Reconnect
	switch {
	case !p.Enabled, permanent(err):
	case p.MaxAttempts > 0 && c.status.Attempt >= p.MaxAttempts:
		c.log.Info("client: giving up", "attempts", c.status.Attempt, "err", err)
	default:
		d := backoff(p, c.status.Attempt+1, c.rng)
		c.retry, c.retryAt, c.status.RetryIn = true, now.Add(d), d
	}
	c.log.Info("client: disconnected", "err", err, "reconnect_in", c.status.RetryIn)
}

// backoff returns the delay before reconnect attempt n (1, 2, …): the
// bounded exponential delay, its upper half random.
func backoff(p ReconnectPolicy, n int, rng *rand.Rand) time.Duration {
	d := p.MinDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return d - half + time.Duration(rng.Int64N(int64(half)+1))
}

// resetWorld forgets the connection's world and reports every entity of
// the newest snapshot as despawned.
func (c *Client[S, I]) resetWorld() {
	if c.haveNewest {
		c.events = appendDiff(c.events, &c.newest, nil, c.newest.Tick)
	}
	c.welcome, c.welcomed, c.haveNewest, c.batchNew = wire.Welcome{}, false, false, false
	c.newestHdr = wire.SnapshotHeader{}
	c.newest.Reset(0, 0)
	c.clock, c.interp, c.pred, c.smoother, c.predicting = nil, nil, nil, nil, false
	c.lead = leadControl{}
}

// receive handles the messages waiting on the control and snapshot
// channels, and reports a kick (with its reason) if one arrived. The clock
// gets one sample per call, from the newest snapshot: older ones read in
// the same call arrived earlier than now and would look delayed.
func (c *Client[S, I]) receive(now time.Time) (reason string, kicked bool) {
	reason, kicked = c.readChannel(now, c.cfg.ControlChannel)
	if c.cfg.SnapshotChannel != c.cfg.ControlChannel {
		c.readChannel(now, c.cfg.SnapshotChannel)
	}
	c.observeBatch(now)
	return reason, kicked
}

// observeBatch gives the clock the newest snapshot tick read since the
// last call.
func (c *Client[S, I]) observeBatch(now time.Time) {
	if c.batchNew {
		c.clock.Observe(now, c.batchTick, c.rtt())
		c.batchNew = false
	}
}

// readChannel handles every message waiting on channel ch and reports a
// kick (with its reason) if one arrived.
func (c *Client[S, I]) readChannel(now time.Time, ch int) (reason string, kicked bool) {
	for {
		msg, ok := c.conn.ReadMessage(ch)
		if !ok {
			return reason, kicked
		}
		if r, k := c.handle(now, msg); k && !kicked {
			reason, kicked = r, true
		}
	}
}

// handle processes one message from the server; it returns the reason of
// a kick message. Malformed and unexpected messages are dropped and
// counted.
func (c *Client[S, I]) handle(now time.Time, msg []byte) (kickReason string, kicked bool) {
	switch wire.MessageKind(msg) {
	case wire.KindSnapshot:
		c.handleSnapshot(now, msg)
	case wire.KindWelcome:
		c.handleWelcome(msg)
	case wire.KindGame:
		v, err := c.cfg.Messages.Decode(msg)
		if err != nil {
			c.stats.BadMessages++
			return "", false
		}
		c.stats.GameMessages++
		c.msgs = append(c.msgs, v)
	case wire.KindKick:
		reason, err := wire.DecodeKick(msg)
		if err != nil {
			// A malformed kick is still the server ending the session.
			reason = "(malformed kick message)"
			c.stats.BadMessages++
		}
		return reason, true
	default:
		c.stats.BadMessages++
	}
	return "", false
}

func (c *Client[S, I]) handleWelcome(msg []byte) {
	w, err := wire.DecodeWelcome(msg)
	if err != nil || c.welcomed {
		c.stats.BadMessages++ // malformed, or a second welcome on one connection
		return
	}
	tickDt := time.Second / time.Duration(w.TickRate)
	clock, err := state.NewClock(state.DefaultClockConfig(tickDt))
	if err != nil { // a validated welcome gives a valid tick interval
		c.stats.BadMessages++
		return
	}
	interp, err := state.NewInterpolator(interpConfig(c.cfg.Codec, c.cfg.Interp, tickDt, c.cfg.InterpDelay, c.cfg.MaxExtrapolation))
	if err != nil {
		c.stats.BadMessages++
		return
	}
	if c.cfg.Correction != nil {
		c.smoother, err = state.NewSmoother(state.SmootherConfig{
			Dims: c.cfg.CorrectionDims, SmoothTime: c.cfg.SmoothTime, SnapDistance: c.cfg.SnapDistance,
		})
		if err != nil {
			c.stats.BadMessages++
			return
		}
	}
	c.welcome, c.welcomed = w, true
	c.status.Welcomed = true
	c.clock, c.interp = clock, interp
	c.ownID = c.cfg.OwnEntity(w.Player)
	c.maxTicks, c.tickDt = maxTicksPerUpdate(w.TickRate), tickDt
	c.inputs.reset(c.cfg.InputRedundancy, w.TickRate)
	c.log.Info("client: welcome", "player", uint32(w.Player), "tick_rate", w.TickRate, "snapshot_rate", w.SnapshotRate, "tick", w.Tick)
}

func (c *Client[S, I]) handleSnapshot(now time.Time, msg []byte) {
	snap, hdr, err := c.reader.Read(msg)
	if err != nil {
		switch {
		case errors.Is(err, state.ErrMissingBaseline):
			c.stats.MissingBaselines++
		case errors.Is(err, state.ErrStaleSnapshot):
			c.stats.StaleSnapshots++
		default:
			c.stats.BadMessages++
		}
		return
	}
	if !c.welcomed {
		// Before the welcome the snapshot is only a delta baseline: the
		// server may encode the next ones against it once acknowledged.
		c.stats.EarlySnapshots++
		return
	}
	c.stats.Snapshots++
	c.arrivals.Add(now, 1)
	if !c.batchNew || snap.Tick > c.batchTick {
		c.batchTick, c.batchNew = snap.Tick, true
	}
	c.interp.Add(now, snap)
	if c.haveNewest && snap.Tick <= c.newest.Tick {
		return // older or repeated: only the clock and the interpolator use it
	}
	c.events = appendDiff(c.events, &c.newest, snap, snap.Tick)
	c.newest.CopyFrom(snap)
	c.newestHdr, c.haveNewest = hdr, true
	if hdr.HasInputAck {
		c.lead.observe(now, hdr.InputLead)
		c.inputs.ack(hdr.InputAck)
	}
	i, ok := snap.Find(c.ownID)
	if !ok {
		return
	}
	own, err := c.cfg.OwnState(snap.Fields(i))
	if err != nil {
		c.stats.BadStates++
		return
	}
	acked := snap.Tick
	if hdr.HasInputAck {
		acked = hdr.InputAck
	}
	c.reconcile(now, acked, own)
}

// rtt returns the link's RTT, or AssumedRTT before it was measured.
func (c *Client[S, I]) rtt() time.Duration {
	if c.conn != nil {
		if rtt := c.conn.Stats().RTT; rtt > 0 {
			return rtt
		}
	}
	return AssumedRTT
}

// reconcile hands the server's own state after input tick acked to the
// predictor (starting it on the first), and smooths the correction.
func (c *Client[S, I]) reconcile(now time.Time, acked uint32, own S) {
	if c.pred == nil {
		// Start predicting from the server's state; the first input goes
		// to the tick after the acknowledged one.
		p, err := state.NewPredictor(c.predCfg, acked+1, own)
		if err == nil { // the config was validated
			c.pred = p
		}
		return
	}
	r := c.pred.Reconcile(acked, own)
	if !r.Corrected {
		return
	}
	size := 0.0
	if c.cfg.Correction != nil {
		c.corr = c.cfg.Correction(c.corr[:0], r.Before, c.pred.State())
		for _, v := range c.corr {
			size += v * v
		}
		size = math.Sqrt(size)
		if size == 0 {
			return // nothing visible changed (a field the client does not predict)
		}
		if len(c.corr) == c.cfg.CorrectionDims && c.smoother.Correct(now, c.corr) {
			c.stats.SnappedCorrections++
		}
	}
	c.stats.Corrections++
	c.stats.CorrectionSize += size
	c.stats.MaxCorrection = max(c.stats.MaxCorrection, size)
}

// predict advances the prediction to the clock's target tick with input
// and sends the input messages.
func (c *Client[S, I]) predict(now time.Time, input I) {
	if c.pred == nil || !c.clock.Synced() {
		return
	}
	c.lead.frameAt(now, c.conn.Stats().PacketLoss, c.cfg.InputRedundancy, c.tickDt)
	target := c.clock.PredictionTick(now) + uint32(c.lead.extra())
	if next := c.pred.Tick(); target >= next {
		if target-next >= uint32(c.maxTicks) {
			// Far behind (a long stall, a clock jump): jump ahead from the
			// current state. The skipped ticks get the server's
			// missing-input policy and a snapshot corrects the prediction.
			c.stats.InputJumps++
			p, err := state.NewPredictor(c.predCfg, target-uint32(c.maxTicks)+1, c.pred.State())
			if err == nil {
				c.pred = p
			}
		}
		if !c.predicting {
			// The first inputs: the ticks the server runs before any input
			// of ours can reach it (it is at about ServerTick now, and an
			// input takes half a round trip) get no input there, whatever
			// we send. Predict them with the zero input too, so the first
			// snapshots agree with the prediction instead of correcting it.
			c.predicting = true
			arrives := c.clock.ServerTick(now) + float64(c.clock.RTT()/2)/float64(c.tickDt)
			var none I
			c.inBuf = c.cfg.AppendInput(c.inBuf[:0], none)
			for float64(c.pred.Tick()) < arrives && c.pred.Tick() <= target {
				c.inputs.push(c.pred.Predict(none), c.inBuf)
				c.stats.InputsSent++
			}
		}
		c.inBuf = c.cfg.AppendInput(c.inBuf[:0], input)
		if len(c.inBuf) > wire.MaxInputSize {
			panic(fmt.Sprintf("client: Config.AppendInput returned %d bytes, want at most %d", len(c.inBuf), wire.MaxInputSize))
		}
		for c.pred.Tick() <= target {
			c.inputs.push(c.pred.Predict(input), c.inBuf)
			c.stats.InputsSent++
		}
	}
	n, err := c.inputs.flush(c.conn, c.cfg.InputChannel, c.reader.NeedResync())
	c.stats.InputMessages += uint64(n)
	if err != nil {
		c.stats.InputSendErrors++ // a full queue; a lost connection shows in Update
	}
}

// Events returns the entities that spawned and despawned during the last
// Update, in order. The slice is reused by the next Update.
func (c *Client[S, I]) Events() []EntityEvent { return c.events }

// Messages returns the game messages received during the last Update, in
// order, each a value of a type registered in Config.Messages (type-switch
// on it). The slice is reused by the next Update.
func (c *Client[S, I]) Messages() []any { return c.msgs }

// Send sends a game message (a value, or a pointer to one, of a type
// registered in Config.Messages) to the server on the control channel,
// reliably and in order. It fails with ErrNotConnected while no connection
// is up and ErrClosed after Close. Game messages are not for the hot path:
// they go through msgpack and allocate.
func (c *Client[S, I]) Send(msg any) error {
	switch {
	case c.closed:
		return ErrClosed
	case c.conn == nil:
		return ErrNotConnected
	}
	b, err := c.cfg.Messages.Append(c.sendBuf[:0], msg)
	if err != nil {
		return fmt.Errorf("client: send: %w", err)
	}
	c.sendBuf = b
	if _, err := c.conn.Send(c.cfg.ControlChannel, b); err != nil {
		return fmt.Errorf("client: send: %w", err)
	}
	return nil
}

// Status returns the connection's state, as of the last Update.
func (c *Client[S, I]) Status() Status { return c.status }

// Welcome returns the server's Welcome of the current connection (the
// own player ID, tick and snapshot rates); ok is false before it arrived.
func (c *Client[S, I]) Welcome() (w wire.Welcome, ok bool) { return c.welcome, c.welcomed }

// Predicted returns the predicted own state at tick: the server's state
// with the inputs up to tick-1 applied. ok is false before prediction
// starts (see the package documentation). Draw it displaced by
// SmoothOffset.
func (c *Client[S, I]) Predicted() (s S, tick uint32, ok bool) {
	if c.pred == nil {
		return s, 0, false
	}
	return c.pred.State(), c.pred.Tick(), true
}

// SmoothOffset returns the fading visual error of the last corrections
// at now, in Correction's units (dx, dy, …): draw the own state displaced
// by it. It is empty without Config.Correction or before the welcome.
// The slice is reused by the next call.
func (c *Client[S, I]) SmoothOffset(now time.Time) []float64 {
	if c.smoother == nil {
		return c.offset[:0]
	}
	c.offset = c.smoother.Offset(now, c.offset)
	return c.offset
}

// Remote returns the entities interpolated at now for drawing (about
// InterpDelay behind the newest snapshots): IDs and fractional field
// values (Frame.Fields). The own entity is in it too, as the server last
// had it; draw it from Predicted instead. ok is false before the first
// snapshot after the welcome. Call it once per drawn frame: each call
// counts in Stats.Frames (and Extrapolated or Stalls). The Frame is reused
// by the next call.
func (c *Client[S, I]) Remote(now time.Time) (f *state.Frame, ok bool) {
	if c.interp == nil || !c.clock.Synced() || !c.interp.Sample(c.clock.SnapshotTime(now), &c.frame) {
		return nil, false
	}
	c.stats.Frames++
	switch {
	case c.frame.Stalled:
		c.stats.Stalls++
	case c.frame.Extrapolated:
		c.stats.Extrapolated++
	}
	return &c.frame, true
}

// Newest returns the newest snapshot applied and its header; ok is false
// before the first one after the welcome. The snapshot is the Client's
// copy, valid until the next Update; do not modify it.
func (c *Client[S, I]) Newest() (snap *state.Snapshot, hdr wire.SnapshotHeader, ok bool) {
	if !c.haveNewest {
		return nil, hdr, false
	}
	return &c.newest, c.newestHdr, true
}

// Close ends the connection (telling the server) or cancels the dial in
// progress, and waits for the dial goroutine. The Client is Disconnected
// with ErrClosed for good. Calling it again returns ErrClosed.
func (c *Client[S, I]) Close() error {
	if c.closed {
		return ErrClosed
	}
	c.closed = true
	if c.dialing {
		c.dialCancel()
		if r := <-c.dialCh; r.conn != nil {
			_ = r.conn.Close()
		}
		c.dialing = false
	}
	var err error
	if c.conn != nil {
		err = c.conn.Close()
		c.conn = nil
	}
	c.resetWorld()
	c.events = c.events[:0]
	c.status = Status{State: Disconnected, Err: ErrClosed}
	return err
}
