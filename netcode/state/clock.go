package state

import (
	"fmt"
	"math"
	"time"
)

// ClockConfig configures a Clock. Zero fields take the defaults listed.
type ClockConfig struct {
	// TickInterval is the server's simulation tick (1/60 s for 60 Hz).
	// Required.
	TickInterval time.Duration
	// Smoothing is the weight of a new sample in the moving averages of the
	// clock offset, RTT and jitter, in (0, 1]. Default 0.1.
	Smoothing float64
	// MaxSlew bounds how fast the reported server time may run faster or
	// slower than the local clock while it converges on a new estimate, as a
	// fraction (0.05 = up to 5% fast or slow), in (0, 1). Default 0.05. The
	// reported time is monotonic because MaxSlew < 1.
	MaxSlew float64
	// SnapThreshold: a sample further than this from the estimate resets it
	// (first sample, reconnect, a long stall) instead of slewing.
	// Default 250 ms.
	SnapThreshold time.Duration
	// Buffer is the safety margin the client's prediction runs ahead of the
	// server beyond RTT/2, so inputs arrive before the server needs them.
	// Default 2 ticks (2 × TickInterval). Negative is not allowed.
	Buffer time.Duration
	// JitterFactor adds JitterFactor × measured jitter to the lead, so a
	// jittery link gets a larger margin. 0 means the default 1; use a
	// negative value to disable (treated as 0).
	JitterFactor float64
}

// DefaultClockConfig returns the defaults for a server ticking every
// tickInterval.
func DefaultClockConfig(tickInterval time.Duration) ClockConfig {
	return ClockConfig{TickInterval: tickInterval}.withDefaults()
}

func (c ClockConfig) withDefaults() ClockConfig {
	if c.Smoothing == 0 {
		c.Smoothing = 0.1
	}
	if c.MaxSlew == 0 {
		c.MaxSlew = 0.05
	}
	if c.SnapThreshold == 0 {
		c.SnapThreshold = 250 * time.Millisecond
	}
	if c.Buffer == 0 {
		c.Buffer = 2 * c.TickInterval
	}
	if c.JitterFactor == 0 {
		c.JitterFactor = 1
	}
	if c.JitterFactor < 0 {
		c.JitterFactor = 0
	}
	return c
}

// Validate checks the config (after defaults).
func (c ClockConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.TickInterval <= 0:
		return fmt.Errorf("%w: ClockConfig.TickInterval is %v, want > 0", ErrInvalidConfig, c.TickInterval)
	case !(c.Smoothing > 0 && c.Smoothing <= 1):
		return fmt.Errorf("%w: ClockConfig.Smoothing is %v, want (0, 1]", ErrInvalidConfig, c.Smoothing)
	case !(c.MaxSlew > 0 && c.MaxSlew < 1):
		return fmt.Errorf("%w: ClockConfig.MaxSlew is %v, want (0, 1)", ErrInvalidConfig, c.MaxSlew)
	case c.SnapThreshold < 0:
		return fmt.Errorf("%w: ClockConfig.SnapThreshold is %v, want >= 0", ErrInvalidConfig, c.SnapThreshold)
	case c.Buffer < 0:
		return fmt.Errorf("%w: ClockConfig.Buffer is %v, want >= 0", ErrInvalidConfig, c.Buffer)
	case math.IsNaN(c.JitterFactor) || math.IsInf(c.JitterFactor, 0):
		return fmt.Errorf("%w: ClockConfig.JitterFactor is %v, want a finite number", ErrInvalidConfig, c.JitterFactor)
	}
	return nil
}

// Clock estimates, on the client, the server's current time and tick from
// the snapshots it receives and the RTT the transport measures, and derives
// where the client's prediction should be.
//
// Server time is the time of the server's tick schedule: tick n is at
// n × TickInterval. A snapshot of tick n received at local time now says the
// server was at n × TickInterval about RTT/2 ago; each such sample of
// (server time − local time) is smoothed with a moving average, and the
// reported server time follows the average at most MaxSlew faster or slower
// than real time, so it is smooth and monotonic. A sample more than
// SnapThreshold away resets the estimate.
//
// The zero Clock is not usable (NewClock); it is not safe for concurrent use.
type Clock struct {
	cfg ClockConfig

	synced     bool
	epoch      time.Time     // local reference
	offset     time.Duration // applied: server time = (now-epoch) + offset
	target     time.Duration // smoothed sample
	lastUpdate time.Time     // when offset was last brought toward target
	rtt        time.Duration // smoothed
	jitter     time.Duration // smoothed |sample - target|
	samples    uint64
	snaps      uint64
}

// NewClock returns a Clock for cfg.
func NewClock(cfg ClockConfig) (*Clock, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Clock{cfg: cfg.withDefaults()}, nil
}

// Synced reports whether the clock has had a sample.
func (c *Clock) Synced() bool { return c.synced }

// Observe records that a snapshot of serverTick arrived at local time now,
// with rtt the transport's current round-trip estimate. Samples from
// out-of-order snapshots are fine: they only look older (more delayed).
func (c *Clock) Observe(now time.Time, serverTick uint32, rtt time.Duration) {
	rtt = max(rtt, 0)
	c.samples++
	if !c.synced {
		c.synced = true
		c.epoch = now
		c.offset = time.Duration(serverTick)*c.cfg.TickInterval + rtt/2
		c.target, c.lastUpdate, c.rtt, c.jitter = c.offset, now, rtt, 0
		return
	}
	sample := time.Duration(serverTick)*c.cfg.TickInterval + rtt/2 - now.Sub(c.epoch)
	c.offset = c.slewed(now)
	c.lastUpdate = now
	a := c.cfg.Smoothing
	c.rtt += time.Duration(a * float64(rtt-c.rtt))
	dev := sample - c.target
	if dev > c.cfg.SnapThreshold || -dev > c.cfg.SnapThreshold {
		c.offset, c.target, c.jitter = sample, sample, 0
		c.snaps++
		return
	}
	c.target += time.Duration(a * float64(dev))
	c.jitter += time.Duration(a * float64(absDur(dev)-c.jitter))
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// slewed returns the offset at now: moved from the applied offset toward the
// target by at most MaxSlew of the time since the last update.
func (c *Clock) slewed(now time.Time) time.Duration {
	limit := time.Duration(c.cfg.MaxSlew * float64(max(now.Sub(c.lastUpdate), 0)))
	return c.offset + min(max(c.target-c.offset, -limit), limit)
}

// ServerTime returns the estimated current server time at local time now,
// as the time since server tick 0 (tick n is at n × TickInterval); 0 before
// the first sample.
func (c *Clock) ServerTime(now time.Time) time.Duration {
	if !c.synced {
		return 0
	}
	return now.Sub(c.epoch) + c.slewed(now)
}

// ServerTick returns the estimated current server tick at now, with its
// fraction (3.5 is halfway between ticks 3 and 4).
func (c *Clock) ServerTick(now time.Time) float64 {
	return float64(c.ServerTime(now)) / float64(c.cfg.TickInterval)
}

// Lead returns how far ahead of the server the client's prediction runs:
// RTT/2 + Buffer + JitterFactor × Jitter.
func (c *Clock) Lead() time.Duration {
	return c.rtt/2 + c.cfg.Buffer + time.Duration(c.cfg.JitterFactor*float64(c.jitter))
}

// PredictionTime returns the server time the client should have simulated
// up to at now: ServerTime(now) + Lead(). Inputs for that tick, sent now,
// reach the server about Buffer before it runs the tick.
func (c *Clock) PredictionTime(now time.Time) time.Duration {
	return c.ServerTime(now) + c.Lead()
}

// PredictionTick returns the tick the client should have predicted up to at
// now (PredictionTime in ticks, rounded down): step the prediction until its
// tick reaches it.
func (c *Clock) PredictionTick(now time.Time) uint32 {
	t := c.PredictionTime(now) / c.cfg.TickInterval
	return uint32(max(t, 0))
}

// RTT returns the smoothed round-trip time.
func (c *Clock) RTT() time.Duration { return c.rtt }

// Jitter returns the smoothed absolute deviation of the samples from the
// estimate, a measure of delay jitter.
func (c *Clock) Jitter() time.Duration { return c.jitter }

// ClockStats counts what a Clock saw.
type ClockStats struct {
	Samples uint64 // Observe calls
	Snaps   uint64 // estimate resets after the first sample
}

// Stats returns the counters.
func (c *Clock) Stats() ClockStats { return ClockStats{Samples: c.samples, Snaps: c.snaps} }

// SnapshotTime returns the server time of the snapshots arriving at now:
// ServerTime(now) − RTT/2, the server's time one-way delay ago. Pass it to
// Interpolator.Sample, which draws remote entities a little behind it.
func (c *Clock) SnapshotTime(now time.Time) time.Duration {
	return c.ServerTime(now) - c.rtt/2
}
