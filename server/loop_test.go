package server

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runLoopFor runs a loop with cfg for d of simulated time inside the
// current synctest bubble and returns the tick infos it saw and its stats.
func runLoopFor(t *testing.T, cfg LoopConfig, d time.Duration, work func(TickInfo)) ([]TickInfo, LoopStats) {
	t.Helper()
	l, err := NewLoop(cfg)
	require.NoError(t, err)
	// Stop just before d: a tick due exactly at d would race the deadline.
	ctx, cancel := context.WithTimeout(t.Context(), d-time.Nanosecond)
	defer cancel()
	var ticks []TickInfo
	err = l.Run(ctx, func(ti TickInfo) error {
		ticks = append(ticks, ti)
		if work != nil {
			work(ti)
		}
		return nil
	}, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	return ticks, l.Stats()
}

func TestLoopKeepsRateWithoutDrift(t *testing.T) {
	for _, rate := range []int{60, 30, 64, 7} {
		t.Run(time.Duration(rate).String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				// Each step takes a little simulated time, as real work does;
				// with drift (sleeping dt after each step) 10 s would lose ticks.
				ticks, st := runLoopFor(t, LoopConfig{TickRate: rate}, 10*time.Second, func(TickInfo) {
					time.Sleep(time.Millisecond)
				})
				require.Len(t, ticks, 10*rate, "ticks in 10 simulated seconds")
				for i, ti := range ticks {
					want := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
					require.Equal(t, uint64(i), ti.Tick)
					require.True(t, want.Equal(ti.Scheduled), "tick %d scheduled at %v, want %v", i, ti.Scheduled.Sub(start), want.Sub(start))
					require.True(t, want.Equal(ti.Start), "tick %d started at %v, want %v", i, ti.Start.Sub(start), want.Sub(start))
				}
				assert.Equal(t, LoopStats{Ticks: uint64(10 * rate)}, st)
			})
		})
	}
}

func TestLoopOverrunsCatchUpAndSkip(t *testing.T) {
	dt := time.Second / 60
	tests := []struct {
		name       string
		maxCatchUp int
		slow       map[uint64]time.Duration // tick → step duration
		want       LoopStats
		wantTicks  int // in 10 s
	}{
		{
			name: "no slow step",
			want: LoopStats{Ticks: 600}, wantTicks: 600,
		},
		{
			// 25 ms is 1.5 intervals: one overrun; tick 101 starts 8.3 ms
			// after it was due, less than one interval, so it is not late.
			name: "one slightly slow step",
			slow: map[uint64]time.Duration{100: 25 * time.Millisecond},
			want: LoopStats{Ticks: 600, Overruns: 1}, wantTicks: 600,
		},
		{
			// 50 ms: ticks 101 and 102 are overdue by ≥ dt and run back to back.
			name: "slow step caught up",
			slow: map[uint64]time.Duration{100: 50 * time.Millisecond},
			want: LoopStats{Ticks: 600, Overruns: 1, Late: 2}, wantTicks: 600,
		},
		{
			// 200 ms = 12 intervals: at tick 101 the loop is 11 behind; it
			// keeps 5 to catch up and skips 6.
			name:       "very slow step skips the excess",
			maxCatchUp: 5,
			slow:       map[uint64]time.Duration{100: 200 * time.Millisecond},
			want:       LoopStats{Ticks: 594, Overruns: 1, Late: 5, Skipped: 6}, wantTicks: 594,
		},
		{
			name:       "never catch up",
			maxCatchUp: -1,
			slow:       map[uint64]time.Duration{100: 200 * time.Millisecond},
			want:       LoopStats{Ticks: 589, Overruns: 1, Skipped: 11}, wantTicks: 589,
		},
		{
			name: "every step slow",
			slow: func() map[uint64]time.Duration {
				m := map[uint64]time.Duration{}
				for i := range uint64(1000) {
					m[i] = dt + time.Millisecond
				}
				return m
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, st := runLoopFor(t, LoopConfig{MaxCatchUp: tt.maxCatchUp}, 10*time.Second, func(ti TickInfo) {
					if d, ok := tt.slow[ti.Tick]; ok {
						time.Sleep(d)
					}
				})
				if tt.wantTicks == 0 {
					// Every step is slower than dt: every step is an overrun and
					// the loop runs flat out, skipping what it cannot catch up.
					assert.Equal(t, st.Ticks, st.Overruns)
					assert.Positive(t, st.Skipped)
					// Every slot before the end is run or skipped, except the
					// at most MaxCatchUp+1 still pending when time ran out.
					pending := 600 - int(st.Ticks+st.Skipped)
					assert.GreaterOrEqual(t, pending, 0)
					assert.LessOrEqual(t, pending, DefaultMaxCatchUp+1)
					assert.Positive(t, st.Late)
					return
				}
				assert.Equal(t, tt.want, st)
			})
		})
	}
}

func TestLoopStepErrorStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := NewLoop(LoopConfig{})
		require.NoError(t, err)
		boom := errors.New("boom")
		var durations []time.Duration
		err = l.Run(t.Context(), func(ti TickInfo) error {
			time.Sleep(2 * time.Millisecond)
			if ti.Tick == 3 {
				return boom
			}
			return nil
		}, func(_ TickInfo, d time.Duration) { durations = append(durations, d) })
		require.ErrorIs(t, err, boom)
		assert.Equal(t, []time.Duration{2 * time.Millisecond, 2 * time.Millisecond, 2 * time.Millisecond, 2 * time.Millisecond}, durations)
		assert.Equal(t, uint64(4), l.Stats().Ticks)
	})
}

func TestLoopConfigValidate(t *testing.T) {
	for _, rate := range []int{-1, MaxTickRate + 1} {
		_, err := NewLoop(LoopConfig{TickRate: rate})
		require.ErrorIs(t, err, ErrInvalidConfig)
		assert.Contains(t, err.Error(), "LoopConfig.TickRate")
	}
	l, err := NewLoop(LoopConfig{})
	require.NoError(t, err)
	assert.Equal(t, 16666666*time.Nanosecond, l.Interval())
}
