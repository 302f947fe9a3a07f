package state

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const tick60 = time.Second / 60

// clockLink simulates a server ticking at 60 Hz and sending a snapshot every
// second tick to a client over a link with a base one-way delay plus uniform
// jitter. Client local time starts at an arbitrary instant.
type clockLink struct {
	rng       *rand.Rand
	base      time.Duration // one-way delay
	jitter    time.Duration // extra delay, uniform in [0, jitter)
	drift     float64       // client clock rate - 1 (0.001 = 0.1% fast)
	serverT0  time.Duration // server time when the simulation starts
	clientT0  time.Time
	inflight  []clockPacket
	lastTick  uint32
	startTick uint32
}

type clockPacket struct {
	arrive time.Duration // true time
	tick   uint32
}

func (l *clockLink) localTime(trueT time.Duration) time.Time {
	return l.clientT0.Add(time.Duration(float64(trueT) * (1 + l.drift)))
}

// trueServerTime at true time t.
func (l *clockLink) serverTime(t time.Duration) time.Duration { return l.serverT0 + t }

// run advances true time in 1 ms frames up to until, sending and delivering
// snapshots, calling frame after each delivery check.
func (l *clockLink) run(c *Clock, from, until time.Duration, frame func(t time.Duration, local time.Time)) {
	rtt := 2 * (l.base + l.jitter/2)
	for t := from; t < until; t += time.Millisecond {
		st := l.serverTime(t)
		tick := uint32(st / tick60)
		if tick != l.lastTick && tick%2 == 0 {
			l.lastTick = tick
			var j time.Duration
			if l.jitter > 0 {
				j = time.Duration(l.rng.Int64N(int64(l.jitter)))
			}
			// The snapshot of tick leaves when the tick starts.
			sent := time.Duration(tick)*tick60 - l.serverT0
			l.inflight = append(l.inflight, clockPacket{arrive: sent + l.base + j, tick: tick})
		}
		keep := l.inflight[:0]
		for _, p := range l.inflight {
			if p.arrive <= t {
				c.Observe(l.localTime(t), p.tick, rtt)
			} else {
				keep = append(keep, p)
			}
		}
		l.inflight = keep
		if frame != nil {
			frame(t, l.localTime(t))
		}
	}
}

func TestClockTracksServerTime(t *testing.T) {
	tests := []struct {
		base, jitter time.Duration
		drift        float64
		tolerance    time.Duration
	}{
		{base: 20 * time.Millisecond, tolerance: 3 * time.Millisecond},
		{base: 50 * time.Millisecond, jitter: 20 * time.Millisecond, tolerance: 8 * time.Millisecond},
		{base: 100 * time.Millisecond, jitter: 60 * time.Millisecond, tolerance: 20 * time.Millisecond},
		{base: 30 * time.Millisecond, jitter: 10 * time.Millisecond, drift: 0.002, tolerance: 8 * time.Millisecond},
		{base: 30 * time.Millisecond, jitter: 10 * time.Millisecond, drift: -0.002, tolerance: 8 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("delay%v_jitter%v_drift%v", tt.base, tt.jitter, tt.drift), func(t *testing.T) {
			c, err := NewClock(ClockConfig{TickInterval: tick60})
			require.NoError(t, err)
			l := &clockLink{
				rng: rand.New(rand.NewPCG(1, 2)), base: tt.base, jitter: tt.jitter, drift: tt.drift,
				serverT0: 1234 * time.Second, clientT0: time.Unix(1_000_000, 0),
			}
			var prev time.Duration
			var worst time.Duration
			l.run(c, 0, 20*time.Second, func(tt time.Duration, local time.Time) {
				if !c.Synced() {
					return
				}
				st := c.ServerTime(local)
				require.GreaterOrEqual(t, st, prev, "server time is monotonic")
				prev = st
				if tt > 5*time.Second { // converged
					worst = max(worst, absDur(st-l.serverTime(tt)))
				}
			})
			t.Logf("worst error after convergence %v, jitter estimate %v, lead %v", worst, c.Jitter(), c.Lead())
			assert.LessOrEqual(t, worst, tt.tolerance)
			assert.Zero(t, c.Stats().Snaps, "no resets on a steady link")

			// The prediction leads by RTT/2 + 2 ticks + jitter.
			local := l.localTime(20 * time.Second)
			want := tt.base + tt.jitter/2 + 2*tick60 + c.Jitter()
			assert.InDelta(t, float64(want), float64(c.PredictionTime(local)-c.ServerTime(local)), float64(time.Millisecond))
			assert.InDelta(t, float64(c.PredictionTime(local))/float64(tick60), float64(c.PredictionTick(local)), 1)
			assert.InDelta(t, float64(c.ServerTime(local))/float64(tick60), c.ServerTick(local), 1e-6)
		})
	}
}

func TestClockSlewsThenSnaps(t *testing.T) {
	c, err := NewClock(ClockConfig{TickInterval: tick60, Smoothing: 1, MaxSlew: 0.1, SnapThreshold: 100 * time.Millisecond})
	require.NoError(t, err)
	t0 := time.Unix(0, 0)
	assert.Equal(t, time.Duration(0), c.ServerTime(t0), "not synced yet")
	c.Observe(t0, 600, 0) // server at 10 s
	assert.InDelta(t, 10*time.Second, c.ServerTime(t0), float64(time.Microsecond))
	assert.InDelta(t, 11*time.Second, c.ServerTime(t0.Add(time.Second)), float64(time.Microsecond))

	// A sample 50 ms ahead: the clock slews at 10%, reaching it after 500 ms.
	t1 := t0.Add(time.Second)
	c.Observe(t1, 663, 0) // 11.05 s
	steps := []struct {
		after time.Duration
		want  time.Duration
	}{
		{0, 11 * time.Second},
		{100 * time.Millisecond, 11*time.Second + 110*time.Millisecond},
		{500 * time.Millisecond, 11*time.Second + 550*time.Millisecond},
		{time.Second, 11*time.Second + 1050*time.Millisecond},
	}
	for _, s := range steps {
		assert.InDelta(t, s.want, c.ServerTime(t1.Add(s.after)), float64(time.Microsecond), "after %v", s.after)
	}

	// A sample 2 s off snaps at once.
	t2 := t1.Add(time.Second)
	c.Observe(t2, 60*14+3, 0) // 14.05 s, estimate was 12.05 s
	assert.InDelta(t, 14*time.Second+50*time.Millisecond, c.ServerTime(t2), float64(time.Microsecond))
	assert.Equal(t, ClockStats{Samples: 3, Snaps: 1}, c.Stats())
}

func TestClockConfigValidate(t *testing.T) {
	tests := []struct {
		cfg ClockConfig
		msg string
	}{
		{ClockConfig{}, "ClockConfig.TickInterval is 0s, want > 0"},
		{ClockConfig{TickInterval: tick60, Smoothing: 2}, "ClockConfig.Smoothing is 2"},
		{ClockConfig{TickInterval: tick60, MaxSlew: 1}, "ClockConfig.MaxSlew is 1, want (0, 1)"},
		{ClockConfig{TickInterval: tick60, Buffer: -1}, "ClockConfig.Buffer is -1ns"},
		{ClockConfig{TickInterval: tick60, SnapThreshold: -1}, "ClockConfig.SnapThreshold"},
	}
	for _, tt := range tests {
		_, err := NewClock(tt.cfg)
		require.ErrorIs(t, err, ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.msg)
	}
	d := DefaultClockConfig(tick60)
	assert.Equal(t, 2*tick60, d.Buffer)
	assert.NoError(t, d.Validate())
}
