package state

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// interpSnap builds a 3-field snapshot: x, angle (8 bits), hp.
func interpSnap(tick uint32, ents ...[4]int32) *Snapshot {
	s := NewSnapshot(tick, 3, len(ents))
	for _, e := range ents {
		copy(s.Add(uint32(e[0])), e[1:])
	}
	return s
}

func newTestInterpolator(t testing.TB, cfg InterpolatorConfig) *Interpolator {
	t.Helper()
	if cfg.TickInterval == 0 {
		cfg.TickInterval = 10 * time.Millisecond
	}
	if cfg.Stride == 0 {
		cfg.Stride = 3
		cfg.Fields = []FieldInterp{{Mode: InterpLinear}, {Mode: InterpAngle, Bits: 8}, {Mode: InterpStep}}
	}
	ip, err := NewInterpolator(cfg)
	require.NoError(t, err)
	return ip
}

func TestInterpolatorBlends(t *testing.T) {
	// Ticks are 10 ms; snapshots at ticks 10 and 20 (100 ms and 200 ms).
	// Delay 50 ms, no jitter adaptation.
	ip := newTestInterpolator(t, InterpolatorConfig{Delay: 50 * time.Millisecond, MaxExtrapolation: 40 * time.Millisecond, JitterFactor: -1})
	t0 := time.Unix(0, 0)
	require.True(t, ip.Add(t0, interpSnap(10, [4]int32{1, 100, 250, 10}, [4]int32{2, 0, 0, 5})))
	require.True(t, ip.Add(t0, interpSnap(20, [4]int32{1, 200, 6, 9}, [4]int32{3, 7, 7, 7})))

	tests := []struct {
		serverNow    time.Duration
		from, to     uint32
		ids          []uint32
		e1           []float64 // entity 1: x, angle, hp
		extrapolated bool
		stalled      bool
	}{
		// Render time 100 ms: exactly the first snapshot. Entity 2 is gone
		// from the newer snapshot, entity 3 is new in it.
		{serverNow: 150 * time.Millisecond, from: 10, to: 20, ids: []uint32{1, 3}, e1: []float64{100, 250, 10}},
		// 125 ms: a quarter of the way; the angle goes 250 → 6 the short way
		// (12 levels through 0), hp holds the old value.
		{serverNow: 175 * time.Millisecond, from: 10, to: 20, ids: []uint32{1, 3}, e1: []float64{125, 253, 10}},
		{serverNow: 230 * time.Millisecond, from: 10, to: 20, ids: []uint32{1, 3}, e1: []float64{180, 3.6, 10}},
		// 200 ms: the newest snapshot, hp switches.
		{serverNow: 250 * time.Millisecond, from: 10, to: 20, ids: []uint32{1, 3}, e1: []float64{200, 6, 9}},
	}
	var f Frame
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.serverNow), func(t *testing.T) {
			require.True(t, ip.Sample(tt.serverNow, &f))
			assert.Equal(t, tt.serverNow-50*time.Millisecond, f.RenderTime)
			assert.Equal(t, [2]uint32{tt.from, tt.to}, [2]uint32{f.From, f.To})
			assert.Equal(t, tt.ids, f.IDs)
			assert.InDeltaSlice(t, tt.e1, f.Fields(0), 1e-9)
			assert.Equal(t, tt.extrapolated, f.Extrapolated)
			assert.Equal(t, tt.stalled, f.Stalled)
		})
	}
}

func TestInterpolatorExtrapolatesThenStalls(t *testing.T) {
	ip := newTestInterpolator(t, InterpolatorConfig{Delay: 50 * time.Millisecond, MaxExtrapolation: 40 * time.Millisecond, JitterFactor: -1})
	t0 := time.Unix(0, 0)
	ip.Add(t0, interpSnap(10, [4]int32{1, 100, 0, 10}))
	ip.Add(t0, interpSnap(20, [4]int32{1, 200, 0, 9}))
	var f Frame
	tests := []struct {
		serverNow    time.Duration
		x, hp        float64
		extrapolated bool
		stalled      bool
	}{
		{serverNow: 240 * time.Millisecond, x: 190, hp: 10},
		{serverNow: 270 * time.Millisecond, x: 220, hp: 9, extrapolated: true}, // 20 ms past the newest
		{serverNow: 290 * time.Millisecond, x: 240, hp: 9, extrapolated: true}, // the 40 ms limit
		{serverNow: 400 * time.Millisecond, x: 240, hp: 9, extrapolated: true, stalled: true},
		{serverNow: 500 * time.Millisecond, x: 240, hp: 9, extrapolated: true, stalled: true},
	}
	for _, tt := range tests {
		require.True(t, ip.Sample(tt.serverNow, &f))
		assert.InDelta(t, tt.x, f.Fields(0)[0], 1e-9, "at %v", tt.serverNow)
		assert.Equal(t, tt.extrapolated, f.Extrapolated, "at %v", tt.serverNow)
		assert.Equal(t, tt.stalled, f.Stalled, "at %v", tt.serverNow)
		assert.Equal(t, tt.hp, f.Fields(0)[2], "step fields do not extrapolate")
	}
	st := ip.Stats()
	assert.Equal(t, uint64(4), st.Extrapolated)
	assert.Equal(t, uint64(2), st.Stalls)

	// A fresh snapshot ends the stall; render time never goes back.
	ip.Add(t0, interpSnap(50, [4]int32{1, 500, 0, 8}))
	require.True(t, ip.Sample(510*time.Millisecond, &f))
	assert.False(t, f.Extrapolated)
	assert.Equal(t, 460*time.Millisecond, f.RenderTime)
	assert.InDelta(t, 460, f.Fields(0)[0], 1e-9)
}

func TestInterpolatorAddOrdering(t *testing.T) {
	ip := newTestInterpolator(t, InterpolatorConfig{BufferSize: 3, JitterFactor: -1})
	t0 := time.Unix(0, 0)
	var f Frame
	assert.False(t, ip.Sample(time.Second, &f), "nothing to draw yet")
	assert.True(t, ip.Add(t0, interpSnap(30, [4]int32{1, 30})))
	assert.True(t, ip.Add(t0, interpSnap(10, [4]int32{1, 10})), "out of order is fine")
	assert.False(t, ip.Add(t0, interpSnap(30, [4]int32{1, 30})), "duplicate")
	assert.True(t, ip.Add(t0, interpSnap(20, [4]int32{1, 20})))
	assert.True(t, ip.Add(t0, interpSnap(40, [4]int32{1, 40})), "full: the oldest goes")
	assert.False(t, ip.Add(t0, interpSnap(5, [4]int32{1, 5})), "older than a full buffer")
	assert.Equal(t, 3, ip.Buffered())
	assert.False(t, ip.Add(t0, &Snapshot{Tick: 50, Stride: 2}), "wrong stride")
	assert.False(t, ip.Add(t0, &Snapshot{Tick: 50, Stride: 3, IDs: []uint32{1}}), "values missing")

	// Render at 250 ms: between 20 and 30; 10 was evicted.
	require.True(t, ip.Sample(350*time.Millisecond, &f))
	assert.InDelta(t, 25, f.Fields(0)[0], 1e-9)
	assert.False(t, ip.Add(t0, interpSnap(15, [4]int32{1, 15})), "older than the render time")
	st := ip.Stats()
	assert.Equal(t, InterpolatorStats{Snapshots: 4, Duplicates: 1, TooOld: 2, Frames: 1, Empty: 1, Invalid: 2}, st)
}

// TestInterpolatorOverLink runs server, link, Clock and Interpolator with
// fake time: an entity moves at constant speed, snapshots leave at 30 Hz and
// arrive after a delay with jitter and loss. Rendered positions must follow
// the true path closely, render time must be monotonic, the delay must adapt
// to jitter within its bounds, and extrapolation must be rare.
func TestInterpolatorOverLink(t *testing.T) {
	tests := []struct {
		jitter       time.Duration
		loss         int
		maxExtrapPct float64
		minDelay     time.Duration // expected adaptive delay at the end, at least
	}{
		{jitter: 0, loss: 0, maxExtrapPct: 0, minDelay: 100 * time.Millisecond},
		{jitter: 30 * time.Millisecond, loss: 5, maxExtrapPct: 2, minDelay: 110 * time.Millisecond},
		{jitter: 80 * time.Millisecond, loss: 10, maxExtrapPct: 5, minDelay: 140 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("jitter%v_loss%d", tt.jitter, tt.loss), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(tt.jitter)))
			clock, err := NewClock(ClockConfig{TickInterval: tick60})
			require.NoError(t, err)
			ip, err := NewInterpolator(InterpolatorConfig{TickInterval: tick60, Stride: 1})
			require.NoError(t, err)
			const base = 40 * time.Millisecond
			rtt := 2*base + tt.jitter
			x := func(tick uint32) int32 { return int32(tick) * 5 } // 5 units per tick
			type pkt struct {
				at   time.Duration
				tick uint32
			}
			var inflight []pkt
			clientT0 := time.Unix(5000, 0)
			var f Frame
			var frames, extrap int
			lastRT := time.Duration(math.MinInt64)
			worst := 0.0
			for now := time.Duration(0); now < 20*time.Second; now += time.Millisecond {
				if now%tick60 < time.Millisecond && (now/tick60)%2 == 0 && rng.IntN(100) >= tt.loss {
					var j time.Duration
					if tt.jitter > 0 {
						j = time.Duration(rng.Int64N(int64(tt.jitter)))
					}
					inflight = append(inflight, pkt{at: now + base + j, tick: uint32(now / tick60)})
				}
				local := clientT0.Add(now)
				keep := inflight[:0]
				for _, p := range inflight {
					if p.at > now {
						keep = append(keep, p)
						continue
					}
					clock.Observe(local, p.tick, rtt)
					s := NewSnapshot(p.tick, 1, 1)
					s.Add(1)[0] = x(p.tick)
					ip.Add(local, s)
				}
				inflight = keep
				if now%(16*time.Millisecond) != 0 || !clock.Synced() {
					continue
				}
				require.True(t, ip.Sample(clock.SnapshotTime(local), &f))
				require.GreaterOrEqual(t, f.RenderTime, lastRT, "render time is monotonic")
				lastRT = f.RenderTime
				if now < 3*time.Second {
					continue // warm-up
				}
				frames++
				if f.Extrapolated {
					extrap++
				}
				// The entity is where it truly was at the render time.
				want := float64(f.RenderTime) / float64(tick60) * 5
				worst = max(worst, abs(f.Fields(0)[0]-want))
				// And the render time is about delay behind the true time.
				behind := now - f.RenderTime
				assert.Less(t, behind, rtt/2+ip.cfg.MaxDelay+30*time.Millisecond)
			}
			pct := 100 * float64(extrap) / float64(frames)
			t.Logf("frames %d, extrapolated %.2f%%, stalls %d, jitter %v, delay %v, worst position error %.3f",
				frames, pct, ip.Stats().Stalls, ip.Jitter(), ip.Delay(), worst)
			assert.LessOrEqual(t, pct, tt.maxExtrapPct)
			assert.Zero(t, ip.Stats().Stalls)
			assert.GreaterOrEqual(t, ip.Delay(), tt.minDelay)
			assert.LessOrEqual(t, ip.Delay(), 300*time.Millisecond)
			assert.Less(t, worst, 0.01, "linear motion is reproduced exactly, extrapolation included")
		})
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestInterpolatorConfigValidate(t *testing.T) {
	tests := []struct {
		cfg InterpolatorConfig
		msg string
	}{
		{InterpolatorConfig{Stride: 1}, "InterpolatorConfig.TickInterval is 0s"},
		{InterpolatorConfig{TickInterval: tick60}, "InterpolatorConfig.Stride is 0, want 1..256"},
		{InterpolatorConfig{TickInterval: tick60, Stride: 2, Fields: []FieldInterp{{}}}, "Fields has 1 entries, want Stride (2)"},
		{InterpolatorConfig{TickInterval: tick60, Stride: 1, Fields: []FieldInterp{{Mode: InterpAngle}}}, "Fields[0].Bits is 0"},
		{InterpolatorConfig{TickInterval: tick60, Stride: 1, Fields: []FieldInterp{{Mode: 9}}}, "Fields[0].Mode is 9"},
		{InterpolatorConfig{TickInterval: tick60, Stride: 1, MinDelay: time.Second, MaxDelay: time.Millisecond}, "MinDelay/MaxDelay are 1s/1ms"},
		{InterpolatorConfig{TickInterval: tick60, Stride: 1, BufferSize: 1}, "BufferSize is 1, want 2..1024"},
	}
	for _, tt := range tests {
		_, err := NewInterpolator(tt.cfg)
		require.ErrorIs(t, err, ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.msg)
	}
}

func BenchmarkInterpolatorSample(b *testing.B) {
	ip, err := NewInterpolator(InterpolatorConfig{TickInterval: tick60, Stride: 5})
	require.NoError(b, err)
	_, cur := benchSnapshots(1000, 100)
	t0 := time.Unix(0, 0)
	for i := range 10 {
		cur.Tick = uint32(i * 2)
		s := NewSnapshot(cur.Tick, 5, cur.Len())
		for j := range cur.Len() {
			copy(s.Add(cur.IDs[j]), cur.Fields(j)[:5])
		}
		ip.Add(t0, s)
	}
	var f Frame
	b.ReportAllocs()
	for b.Loop() {
		ip.Sample(150*time.Millisecond, &f)
	}
}
