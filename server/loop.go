package server

import (
	"context"
	"fmt"
	"time"

	"github.com/tickwire/tickwire/server/wire"
)

// Clock is the time source of a Loop and a Server. Now returns the current
// time; Sleep blocks until d has passed or ctx is done, and returns ctx.Err()
// in the second case. SystemClock is the real one; tests either run the
// SystemClock inside a testing/synctest bubble (whose time is simulated) or
// pass their own.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the Clock of the time package.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d or for ctx to be done, whichever comes first.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Defaults of LoopConfig.
const (
	DefaultTickRate   = 60
	DefaultMaxCatchUp = 5
	MaxTickRate       = wire.MaxTickRate
)

// LoopConfig configures a Loop. The zero value means the defaults.
type LoopConfig struct {
	// TickRate is the number of ticks per second: 1..MaxTickRate; 0 means
	// DefaultTickRate (60).
	TickRate int
	// MaxCatchUp is how many overdue ticks the loop runs back to back after
	// falling behind, before it skips the rest (see Loop). 0 means
	// DefaultMaxCatchUp; a negative value means never catch up: every
	// overdue tick is skipped.
	MaxCatchUp int
	// Clock is the time source; nil means SystemClock.
	Clock Clock
}

func (c LoopConfig) withDefaults() LoopConfig {
	if c.TickRate == 0 {
		c.TickRate = DefaultTickRate
	}
	if c.MaxCatchUp == 0 {
		c.MaxCatchUp = DefaultMaxCatchUp
	}
	if c.MaxCatchUp < 0 {
		c.MaxCatchUp = 0
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	return c
}

// Validate checks TickRate (0 or 1..MaxTickRate).
func (c LoopConfig) Validate() error {
	if c.TickRate < 0 || c.TickRate > MaxTickRate {
		return fmt.Errorf("%w: LoopConfig.TickRate is %d, want 0 (default %d) or 1..%d", ErrInvalidConfig, c.TickRate, DefaultTickRate, MaxTickRate)
	}
	return nil
}

// TickInfo describes one tick to the step function of a Loop.
type TickInfo struct {
	// Tick counts the ticks run so far, from 0. It has no gaps: skipped
	// ticks are dropped from the schedule, not from the count.
	Tick uint64
	// Scheduled is when the tick was due; Start is when it started
	// (Start >= Scheduled; Start-Scheduled is the lateness).
	Scheduled, Start time.Time
}

// LoopStats counts what a Loop did. Overruns and Skipped are the two
// signs of an overloaded server.
type LoopStats struct {
	Ticks    uint64 // step calls
	Overruns uint64 // steps that took longer than one tick interval
	Late     uint64 // steps that started one interval or more after they were due (catch-up ticks)
	Skipped  uint64 // ticks dropped from the schedule because the loop was too far behind
}

// Loop runs a step function at a fixed rate without drift: tick n is due at
// origin + n·dt, computed from n (never by adding up sleeps), so sleep
// overshoot and step time never accumulate. Tick 0 is due when Run starts.
//
// Catch-up and skip policy: when a step runs long (an overrun: its duration
// exceeds dt, counted in Overruns), the ticks that became due meanwhile run
// back to back with no sleep, each counted in Late, until the loop is on
// schedule again. When the loop is more than MaxCatchUp ticks behind at the
// start of a tick, it skips the excess: the origin moves forward so that
// exactly MaxCatchUp overdue ticks remain, and the dropped ticks are counted in
// Skipped. Tick numbers stay contiguous (the simulation never sees a gap); the
// simulation falls behind wall-clock time by the skipped ticks instead of
// running a long burst of ticks that would only make it later still.
//
// A Loop is not safe for concurrent use: Run it from one goroutine. Stats
// may be read only after Run returns or from inside the step function.
type Loop struct {
	cfg   LoopConfig
	dt    time.Duration
	stats LoopStats
}

// NewLoop returns a Loop for cfg.
func NewLoop(cfg LoopConfig) (*Loop, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Loop{cfg: cfg, dt: time.Second / time.Duration(cfg.TickRate)}, nil
}

// Interval returns the nominal tick interval, time.Second/TickRate rounded
// down to the nanosecond. (Tick times are computed exactly as
// n·time.Second/TickRate, so the rounding does not accumulate.)
func (l *Loop) Interval() time.Duration { return l.dt }

// Stats returns the counters so far.
func (l *Loop) Stats() LoopStats { return l.stats }

// offset returns n·time.Second/TickRate exactly (n < 2^63/1e9·rate).
func (l *Loop) offset(n uint64) time.Duration {
	r := uint64(l.cfg.TickRate)
	return time.Duration(n/r)*time.Second + time.Duration(n%r)*time.Second/time.Duration(r)
}

// Run calls step once per tick until ctx is done, then returns ctx.Err()
// (or the step's error, which also stops the loop). The duration of each
// step is reported to onDone, when it is not nil, after the step returns.
func (l *Loop) Run(ctx context.Context, step func(TickInfo) error, onDone func(TickInfo, time.Duration)) error {
	clock := l.cfg.Clock
	origin := clock.Now()
	var n uint64     // the next tick to run
	var sched uint64 // its index on the schedule (n plus the ticks skipped so far)
	maxCatchUp := uint64(l.cfg.MaxCatchUp)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		due := origin.Add(l.offset(sched))
		now := clock.Now()
		if wait := due.Sub(now); wait > 0 {
			if err := clock.Sleep(ctx, wait); err != nil {
				return err
			}
			now = clock.Now()
		}
		if behind := uint64(now.Sub(due) / l.dt); behind > maxCatchUp {
			skip := behind - maxCatchUp
			sched += skip
			l.stats.Skipped += skip
			due = origin.Add(l.offset(sched))
		}
		if now.Sub(due) >= l.dt {
			l.stats.Late++
		}
		info := TickInfo{Tick: n, Scheduled: due, Start: now}
		err := step(info)
		took := clock.Now().Sub(now)
		l.stats.Ticks++
		if took > l.dt {
			l.stats.Overruns++
		}
		if onDone != nil {
			onDone(info, took)
		}
		if err != nil {
			return err
		}
		n++
		sched++
	}
}
