package state

import (
	"fmt"
	"math"
	"time"
)

// PredictorConfig configures a Predictor for state type S and input type I.
type PredictorConfig[S, I any] struct {
	// Step advances state by one tick with one input. It must be
	// deterministic (same state and input, same result, on every machine:
	// use integer or fixed-point rules) and the same function the server
	// runs. Required.
	Step func(state S, input I) S
	// Equal reports whether two states are identical; it decides whether a
	// server state is a misprediction. Required (for a comparable S:
	// EqualComparable[S]).
	Equal func(a, b S) bool
	// Clone returns a deep copy of a state. Needed only when S holds
	// references (slices, maps, pointers) that Step mutates; nil copies S by
	// assignment.
	Clone func(S) S
	// MaxInputs is the input history in ticks: how far the prediction may
	// run ahead of the newest acknowledged input. 0 means 256 (4.3 s at
	// 60 Hz); at most 65536.
	MaxInputs int
}

// EqualComparable is a PredictorConfig.Equal for comparable states.
func EqualComparable[S comparable](a, b S) bool { return a == b }

// Predictor runs the client's own entity ahead of the server and
// reconciles it with the server's authoritative state.
//
// Each tick the client calls Predict with its input, which steps the
// predicted state and records the input (send it to the server tagged with
// the returned tick). When a snapshot says "this is your state after I
// applied your input of tick n", Reconcile compares it with what was
// predicted for that tick; on a mismatch it rewinds to the server state and
// replays the inputs after n with Step. With a deterministic Step, once the
// server has applied the same inputs, the prediction equals the server state
// exactly.
//
// Ticks: State() is the state at Tick(), after the inputs of every tick
// before it; the next Predict applies the input for Tick().
//
// The zero Predictor is not usable (NewPredictor); it is not safe for
// concurrent use.
type Predictor[S, I any] struct {
	cfg   PredictorConfig[S, I]
	tick  uint32
	state S
	n     int // inputs held: ticks [tick-n, tick)
	in    []I
	after []S // state after the input of tick t, at t % len

	acked    uint32
	hasAcked bool
	stats    PredictorStats
}

// PredictorStats counts what a Predictor did.
type PredictorStats struct {
	Predicted   uint64 // Predict calls
	Reconciles  uint64 // Reconcile calls that were not stale
	Corrections uint64 // reconciles where the server disagreed (or a reset)
	Replayed    uint64 // inputs replayed by corrections
	Resets      uint64 // reconciles that could not replay: acked input outside the history
	Stale       uint64 // Reconcile calls for an input not newer than one already reconciled
}

// NewPredictor returns a Predictor whose state at tick is initial (for
// example the state of the first snapshot, with tick = acked input + 1, or
// the prediction tick from the Clock).
func NewPredictor[S, I any](cfg PredictorConfig[S, I], tick uint32, initial S) (*Predictor[S, I], error) {
	if cfg.Step == nil {
		return nil, fmt.Errorf("%w: PredictorConfig.Step is nil, want the game's step function", ErrInvalidConfig)
	}
	if cfg.Equal == nil {
		return nil, fmt.Errorf("%w: PredictorConfig.Equal is nil, want a state comparison (EqualComparable for comparable states)", ErrInvalidConfig)
	}
	if cfg.MaxInputs == 0 {
		cfg.MaxInputs = 256
	}
	if cfg.MaxInputs < 1 || cfg.MaxInputs > 1<<16 {
		return nil, fmt.Errorf("%w: PredictorConfig.MaxInputs is %d, want 0 (default 256) or 1..65536", ErrInvalidConfig, cfg.MaxInputs)
	}
	p := &Predictor[S, I]{cfg: cfg, in: make([]I, cfg.MaxInputs), after: make([]S, cfg.MaxInputs)}
	p.tick, p.state = tick, p.clone(initial)
	return p, nil
}

func (p *Predictor[S, I]) clone(s S) S {
	if p.cfg.Clone != nil {
		return p.cfg.Clone(s)
	}
	return s
}

func (p *Predictor[S, I]) slot(tick uint32) int { return int(tick % uint32(len(p.in))) }

// Tick returns the tick of the predicted state: the tick the next input is
// for.
func (p *Predictor[S, I]) Tick() uint32 { return p.tick }

// State returns the predicted state at Tick(). Do not modify shared memory
// in it.
func (p *Predictor[S, I]) State() S { return p.state }

// Predict applies input for tick Tick(), records it and returns that tick.
// When the history is full the oldest input is forgotten (a later Reconcile
// acking an input before the history resets the prediction).
func (p *Predictor[S, I]) Predict(input I) uint32 {
	t := p.tick
	i := p.slot(t)
	p.in[i] = input
	p.state = p.cfg.Step(p.state, input)
	p.after[i] = p.clone(p.state)
	p.tick++
	p.n = min(p.n+1, len(p.in))
	p.stats.Predicted++
	return t
}

// Input returns the recorded input of tick, if it is still held: use it to
// repeat the last few unacknowledged inputs in every packet.
func (p *Predictor[S, I]) Input(tick uint32) (I, bool) {
	if tick >= p.tick || p.tick-tick > uint32(p.n) {
		var zero I
		return zero, false
	}
	return p.in[p.slot(tick)], true
}

// Unacked returns the ticks [from, to) of the inputs the server has not
// acknowledged yet (from == to when there are none).
func (p *Predictor[S, I]) Unacked() (from, to uint32) {
	return p.tick - uint32(p.n), p.tick
}

// Reconciliation is what Reconcile did.
type Reconciliation[S any] struct {
	// Before is the predicted state at Tick() before reconciling; compare it
	// with State() to feed the visual error to a Smoother.
	Before S
	// Corrected: the server disagreed with the prediction (or the prediction
	// was reset), so State() changed.
	Corrected bool
	// Replayed is the number of inputs replayed.
	Replayed int
	// Reset: the acked input was not in the history (too old, or not yet
	// predicted), so the prediction restarted from the server state at tick
	// ackedInput+1.
	Reset bool
	// Stale: ackedInput was not newer than an input already reconciled;
	// nothing changed.
	Stale bool
}

// Reconcile takes the server's state after it applied this client's input
// of tick ackedInput. When the prediction for that tick differs (by Equal),
// the predicted state is rewound to server and the inputs after ackedInput
// are replayed; when it matches, nothing is replayed. Inputs up to
// ackedInput are acknowledged. Stale acks (not newer than the last one) are
// ignored.
func (p *Predictor[S, I]) Reconcile(ackedInput uint32, server S) Reconciliation[S] {
	r := Reconciliation[S]{Before: p.state}
	if p.hasAcked && ackedInput <= p.acked {
		p.stats.Stale++
		r.Stale = true
		return r
	}
	p.acked, p.hasAcked = ackedInput, true
	p.stats.Reconciles++
	oldest := p.tick - uint32(p.n)
	if ackedInput >= p.tick || ackedInput+1 < oldest {
		// Not predicted yet, or the inputs to replay are gone: restart.
		p.state = p.clone(server)
		p.tick = ackedInput + 1
		p.n = 0
		p.stats.Resets++
		p.stats.Corrections++
		r.Corrected, r.Reset = true, true
		return r
	}
	if ackedInput >= oldest && p.cfg.Equal(p.after[p.slot(ackedInput)], server) {
		p.n = int(p.tick - ackedInput - 1)
		return r
	}
	// Misprediction, or no prediction kept for ackedInput (it is the tick
	// just before the history): rewind and replay.
	s := p.clone(server)
	for t := ackedInput + 1; t != p.tick; t++ {
		i := p.slot(t)
		s = p.cfg.Step(s, p.in[i])
		p.after[i] = p.clone(s)
		r.Replayed++
	}
	p.state = s
	p.n = int(p.tick - ackedInput - 1)
	p.stats.Replayed += uint64(r.Replayed)
	if ackedInput >= oldest || !p.cfg.Equal(s, r.Before) {
		p.stats.Corrections++
		r.Corrected = true
	}
	return r
}

// Stats returns the counters. Corrections per second: the difference of
// Corrections between two calls over the time between them, or feed
// Reconciliation.Corrected to a RateMeter.
func (p *Predictor[S, I]) Stats() PredictorStats { return p.stats }

// SmootherConfig configures a Smoother.
type SmootherConfig struct {
	// Dims is the number of components of the smoothed error (2 for an x/y
	// position). 1..16.
	Dims int
	// SmoothTime is how long a correction takes to fade: the error decays
	// exponentially, to under 1% at SmoothTime, and is zero after it.
	// Default 150 ms.
	SmoothTime time.Duration
	// SnapDistance: when the accumulated error is longer than this
	// (Euclidean norm), it is dropped and the entity snaps to its new
	// place. 0 means never snap.
	SnapDistance float64
}

// Smoother hides prediction corrections: instead of jumping to the
// corrected state, the entity is drawn at corrected + Offset, where the
// offset starts at (before − after) and fades to zero over SmoothTime.
// Corrections larger than SnapDistance snap instead (a teleport should look
// like one).
//
// The zero Smoother is not usable (NewSmoother); it is not safe for
// concurrent use.
type Smoother struct {
	cfg    SmootherConfig
	offset []float64 // at time at
	at     time.Time
	snaps  uint64
}

// NewSmoother returns a Smoother with no error.
func NewSmoother(cfg SmootherConfig) (*Smoother, error) {
	if cfg.Dims < 1 || cfg.Dims > 16 {
		return nil, fmt.Errorf("%w: SmootherConfig.Dims is %d, want 1..16", ErrInvalidConfig, cfg.Dims)
	}
	if cfg.SmoothTime == 0 {
		cfg.SmoothTime = 150 * time.Millisecond
	}
	if cfg.SmoothTime < 0 {
		return nil, fmt.Errorf("%w: SmootherConfig.SmoothTime is %v, want >= 0", ErrInvalidConfig, cfg.SmoothTime)
	}
	if cfg.SnapDistance < 0 || math.IsNaN(cfg.SnapDistance) {
		return nil, fmt.Errorf("%w: SmootherConfig.SnapDistance is %v, want >= 0", ErrInvalidConfig, cfg.SnapDistance)
	}
	return &Smoother{cfg: cfg, offset: make([]float64, cfg.Dims)}, nil
}

// decay returns the factor the offset stored at s.at is scaled by at now.
func (s *Smoother) decay(now time.Time) float64 {
	dt := now.Sub(s.at)
	switch {
	case dt <= 0:
		return 1
	case dt >= s.cfg.SmoothTime:
		return 0
	}
	// e^-5 < 1%: the error is mostly gone well before SmoothTime.
	return math.Exp(-5 * float64(dt) / float64(s.cfg.SmoothTime))
}

// Correct adds a correction at now: delta = before − after for each
// component (the predicted position before reconciling minus the one after).
// It returns true when the total error exceeded SnapDistance and was
// dropped. delta must have Dims components.
func (s *Smoother) Correct(now time.Time, delta []float64) (snapped bool) {
	k := s.decay(now)
	norm := 0.0
	for i := range s.offset {
		var d float64
		if i < len(delta) {
			d = delta[i]
		}
		s.offset[i] = s.offset[i]*k + d
		norm += s.offset[i] * s.offset[i]
	}
	s.at = now
	if s.cfg.SnapDistance > 0 && math.Sqrt(norm) > s.cfg.SnapDistance || math.IsNaN(norm) {
		clear(s.offset)
		s.snaps++
		return true
	}
	return false
}

// Offset appends the current visual error at now to dst[:0] and returns it:
// draw the entity at its predicted position plus this.
func (s *Smoother) Offset(now time.Time, dst []float64) []float64 {
	k := s.decay(now)
	dst = dst[:0]
	for _, o := range s.offset {
		dst = append(dst, o*k)
	}
	return dst
}

// Snaps returns how many corrections snapped.
func (s *Smoother) Snaps() uint64 { return s.snaps }

// RateMeter measures events per second over a sliding window of 10
// buckets, for stats such as corrections, stalls or extrapolations per
// second. The zero
// RateMeter is not usable (NewRateMeter); it is not safe for concurrent use.
type RateMeter struct {
	window  time.Duration
	buckets []uint64
	width   time.Duration
	epoch   time.Time
	head    int64 // index of the newest bucket, in widths since epoch
	started bool
}

// NewRateMeter returns a meter averaging over window (at least 10 ms),
// in 10 buckets.
func NewRateMeter(window time.Duration) (*RateMeter, error) {
	if window < 10*time.Millisecond {
		return nil, fmt.Errorf("%w: RateMeter window is %v, want >= 10ms", ErrInvalidConfig, window)
	}
	return &RateMeter{window: window, buckets: make([]uint64, 10), width: window / 10}, nil
}

func (m *RateMeter) index(now time.Time) int64 {
	if !m.started {
		m.epoch, m.started = now, true
	}
	return int64(max(now.Sub(m.epoch), 0) / m.width)
}

func (m *RateMeter) advance(now time.Time) {
	idx := m.index(now)
	for m.head < idx {
		m.head++
		m.buckets[m.head%int64(len(m.buckets))] = 0
		if idx-m.head > int64(len(m.buckets)) {
			clear(m.buckets)
			m.head = idx
		}
	}
}

// Add records n events at now. Times should not go backwards by more than a
// bucket; events older than the window are dropped.
func (m *RateMeter) Add(now time.Time, n uint64) {
	m.advance(now)
	idx := m.index(now)
	if m.head-idx >= int64(len(m.buckets)) {
		return
	}
	m.buckets[idx%int64(len(m.buckets))] += n
}

// Rate returns events per second over the window ending at now (over the
// time since the first Add when that is shorter, but at least one tenth of
// the window).
func (m *RateMeter) Rate(now time.Time) float64 {
	m.advance(now)
	var sum uint64
	for _, b := range m.buckets {
		sum += b
	}
	if !m.started {
		return 0
	}
	// The newest bucket is partly elapsed: 9 full buckets plus that part.
	since := max(now.Sub(m.epoch), 0)
	span := time.Duration(len(m.buckets)-1)*m.width + since - time.Duration(m.head)*m.width
	span = max(min(span, since), m.width)
	return float64(sum) / span.Seconds()
}
