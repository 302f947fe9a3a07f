package netsim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newLink(t testing.TB, cfg Config, seed uint64) *Link {
	t.Helper()
	l, err := NewLink(cfg, seed)
	require.NoError(t, err)
	return l
}

// trace sends count datagrams, one every step, and returns the delivery
// time of each (zero: never delivered) after draining the link. Datagram i
// carries i in its first four bytes.
func trace(t testing.TB, l *Link, count int, step time.Duration, size int) []time.Duration {
	t.Helper()
	got := make([]time.Duration, count)
	buf := make([]byte, max(size, 4))
	now := epoch
	deliver := func(b []byte) {
		i := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
		if got[i] == 0 {
			got[i] = now.Sub(epoch) + 1 // +1 so that "arrived at 0" is not "lost"
		}
	}
	for i := range count {
		buf[0], buf[1], buf[2], buf[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
		l.Send(now, buf[:size])
		l.Deliver(now, deliver)
		now = now.Add(step)
	}
	for {
		at, ok := l.NextDelivery()
		if !ok {
			return got
		}
		if at.After(now) {
			now = at
		}
		l.Deliver(now, deliver)
	}
}

func TestLinkSameSeedSameOutcome(t *testing.T) {
	cfg := Config{Loss: 0.2, Burst: BurstLoss(0.05, 3), Latency: 30 * time.Millisecond,
		Jitter: 10 * time.Millisecond, Duplicate: 0.05, Reorder: 0.05, Bandwidth: 200_000}
	run := func(seed uint64) ([]time.Duration, Stats) {
		l := newLink(t, cfg, seed)
		return trace(t, l, 5000, time.Millisecond, 100), l.Stats()
	}
	a, sa := run(42)
	b, sb := run(42)
	c, _ := run(43)
	assert.Equal(t, a, b, "same seed, same traffic: same drops and delays")
	assert.Equal(t, sa, sb)
	assert.NotEqual(t, a, c, "another seed gives another outcome")
}

func TestLinkLossIndependentOfDelaySettings(t *testing.T) {
	lost := func(cfg Config) []bool {
		got := trace(t, newLink(t, cfg, 9), 2000, time.Millisecond, 8)
		out := make([]bool, len(got))
		for i, d := range got {
			out[i] = d == 0
		}
		return out
	}
	plain := lost(Config{Loss: 0.1})
	delayed := lost(Config{Loss: 0.1, Latency: 50 * time.Millisecond, Jitter: 20 * time.Millisecond, Reorder: 0.1})
	assert.Equal(t, plain, delayed)
}

func TestLinkLossRate(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	tests := []struct {
		name string
		cfg  Config
		want float64
	}{
		{"none", Config{}, 0},
		{"uniform 1%", Config{Loss: 0.01}, 0.01},
		{"uniform 10%", Config{Loss: 0.10}, 0.10},
		{"uniform 50%", Config{Loss: 0.50}, 0.50},
		{"all", Config{Loss: 1}, 1},
		{"burst 10% x4", Config{Burst: BurstLoss(0.10, 4)}, 0.10},
		{"burst + uniform", Config{Loss: 0.05, Burst: BurstLoss(0.10, 4)}, 1 - 0.95*0.90},
		{"gilbert-elliott lossy good state", Config{Burst: GilbertElliott{GoodToBad: 0.02, BadToGood: 0.2, LossGood: 0.01, LossBad: 0.6}},
			GilbertElliott{GoodToBad: 0.02, BadToGood: 0.2, LossGood: 0.01, LossBad: 0.6}.LossRate()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLink(t, tt.cfg, 1)
			b := make([]byte, 8)
			for range n {
				l.Send(epoch, b)
				l.Deliver(epoch, func([]byte) {})
			}
			s := l.Stats()
			got := float64(s.DroppedLoss) / float64(n)
			// Bursty loss has a larger variance than independent loss.
			tol := 0.006
			if tt.cfg.Burst.Enabled() {
				tol = 0.015
			}
			assert.InDelta(t, tt.want, got, tol, "measured loss")
			assert.Equal(t, uint64(n), s.Sent)
			assert.Equal(t, uint64(n)-s.DroppedLoss, s.Delivered)
		})
	}
}

func TestLinkGilbertElliottBurstLength(t *testing.T) {
	tests := []struct {
		rate, burst float64
	}{
		{0.05, 1.5},
		{0.10, 3},
		{0.20, 8},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.0f%% x%.1f", tt.rate*100, tt.burst), func(t *testing.T) {
			l := newLink(t, Config{Burst: BurstLoss(tt.rate, tt.burst)}, 5)
			b := make([]byte, 1)
			var runs, lost, run int
			for range 200_000 {
				if l.Send(epoch, b) {
					if run > 0 {
						runs++
						lost += run
					}
					run = 0
				} else {
					run++
				}
				l.Deliver(epoch, func([]byte) {})
			}
			mean := float64(lost) / float64(runs)
			assert.InEpsilon(t, tt.burst, mean, 0.1, "mean burst length")
			assert.InDelta(t, tt.rate, float64(lost)/200_000, 0.02, "loss rate")
			// Independent loss at the same rate has mean run 1/(1-rate):
			// the bursts are real, not an artefact of the rate.
			if tt.burst >= 3 {
				assert.Greater(t, mean, 2/(1-tt.rate))
			}
		})
	}
}

func TestLinkLatencyJitterBounds(t *testing.T) {
	tests := []struct {
		name            string
		latency, jitter time.Duration
		lo, hi          time.Duration
		inOrder         bool
	}{
		{"latency only", 80 * time.Millisecond, 0, 80 * time.Millisecond, 80 * time.Millisecond, false},
		{"latency and jitter", 80 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond, false},
		{"jitter larger than latency clamps at 0", 5 * time.Millisecond, 20 * time.Millisecond, 0, 25 * time.Millisecond, false},
		{"jitter in order", 80 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLink(t, Config{Latency: tt.latency, Jitter: tt.jitter, PreserveOrder: tt.inOrder}, 3)
			const step = time.Millisecond
			got := trace(t, l, 10_000, step, 8)
			var sum time.Duration
			lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
			for i, at := range got {
				require.NotZero(t, at, "datagram %d lost", i)
				d := at - 1 - time.Duration(i)*step
				lo, hi = min(lo, d), max(hi, d)
				sum += d
			}
			assert.GreaterOrEqual(t, lo, tt.lo)
			assert.LessOrEqual(t, hi, tt.hi)
			if tt.jitter > 0 {
				if !tt.inOrder { // in order, a low draw mostly waits for the datagram before it
					assert.Less(t, lo, tt.lo+tt.jitter/4, "jitter spreads to near its low end")
				}
				assert.Greater(t, hi, tt.hi-tt.jitter/4, "jitter spreads to near its high end")
			}
			reordered := l.Stats().Reordered
			switch {
			case tt.inOrder:
				assert.Zero(t, reordered, "PreserveOrder: jitter makes clumps, not reordering")
			case tt.jitter > 0:
				// 1 ms apart with a 40 ms spread: jitter reorders, as netem does.
				assert.Greater(t, reordered, uint64(len(got)/4))
			}
			if tt.latency >= tt.jitter && !tt.inOrder {
				mean := sum / time.Duration(len(got))
				assert.InDelta(t, float64(tt.latency), float64(mean), float64(time.Millisecond), "mean delay")
			}
		})
	}
}

func TestLinkDuplicateAndReorder(t *testing.T) {
	const n = 50_000
	tests := []struct {
		name                      string
		cfg                       Config
		wantDup, wantReorder, tol float64
	}{
		{"none", Config{Latency: 10 * time.Millisecond}, 0, 0, 0},
		{"duplicate 5%", Config{Duplicate: 0.05}, 0.05, 0, 0.005},
		// Datagrams 1 ms apart, reordered ones held 10 ms: each reordered
		// datagram is overtaken and counted.
		{"reorder 5%", Config{Reorder: 0.05}, 0, 0.05, 0.005},
		{"reorder 20% with latency", Config{Latency: 20 * time.Millisecond, Reorder: 0.2, ReorderDelay: 5 * time.Millisecond}, 0, 0.2, 0.01},
		{"reorder 5% with in-order jitter", Config{Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, PreserveOrder: true, Reorder: 0.05, ReorderDelay: 30 * time.Millisecond}, 0, 0.05, 0.005},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLink(t, tt.cfg, 11)
			copies := make([]int, n)
			buf := make([]byte, 4)
			now := epoch
			count := func(b []byte) {
				copies[int(b[0])|int(b[1])<<8|int(b[2])<<16]++
			}
			for i := range n {
				buf[0], buf[1], buf[2] = byte(i), byte(i>>8), byte(i>>16)
				require.True(t, l.Send(now, buf))
				now = now.Add(time.Millisecond)
				l.Deliver(now, count)
			}
			l.Deliver(now.Add(time.Minute), count)
			s := l.Stats()
			dups := 0
			for i, c := range copies {
				require.NotZero(t, c, "datagram %d lost", i)
				dups += c - 1
			}
			assert.Equal(t, uint64(dups), s.Duplicated)
			assert.InDelta(t, tt.wantDup, float64(dups)/n, tt.tol, "duplicate rate")
			assert.InDelta(t, tt.wantReorder, float64(s.Reordered)/n, tt.tol, "reorder rate")
			assert.Equal(t, uint64(n+dups), s.Delivered)
		})
	}
}

func TestLinkBandwidthCap(t *testing.T) {
	const (
		bandwidth = 100_000 // bytes/s
		size      = 1000
	)
	tests := []struct {
		name       string
		sendEvery  time.Duration
		queue      int
		wantRate   float64 // delivered bytes/s
		wantDrops  bool
		maxQueued  int
		latencyMax time.Duration
	}{
		// 50 kB/s offered: all of it passes, no queue builds up.
		{"under the cap", 20 * time.Millisecond, 100, 50_000, false, 1, 10 * time.Millisecond},
		// 200 kB/s offered: the cap holds, the queue fills and tail-drops.
		{"twice the cap", 5 * time.Millisecond, 20, bandwidth, true, 20, 20 * 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLink(t, Config{Bandwidth: bandwidth, QueuePackets: tt.queue}, 1)
			buf := make([]byte, size)
			now := epoch
			var deliveredBytes int
			var first, last time.Time
			sent := map[int]time.Time{}
			var worst time.Duration
			deliver := func(b []byte) {
				deliveredBytes += len(b)
				if first.IsZero() {
					first = now
				}
				last = now
				id := int(b[0]) | int(b[1])<<8
				worst = max(worst, now.Sub(sent[id]))
			}
			maxQueued := 0
			const duration = 10 * time.Second
			for i := 0; now.Sub(epoch) < duration; i++ {
				buf[0], buf[1] = byte(i), byte(i>>8)
				sent[i&0xffff] = now
				l.Send(now, buf)
				maxQueued = max(maxQueued, l.Stats().Queued)
				// Deliver at 1 ms resolution until the next send.
				for next := now.Add(tt.sendEvery); now.Before(next); now = now.Add(time.Millisecond) {
					l.Deliver(now, deliver)
				}
			}
			rate := float64(deliveredBytes) / last.Sub(epoch).Seconds()
			assert.InEpsilon(t, tt.wantRate, rate, 0.03, "delivered bytes/s")
			assert.LessOrEqual(t, maxQueued, tt.maxQueued, "queue bound")
			assert.LessOrEqual(t, worst, tt.latencyMax+time.Millisecond, "queueing delay")
			s := l.Stats()
			if tt.wantDrops {
				assert.NotZero(t, s.DroppedQueueFull)
			} else {
				assert.Zero(t, s.DroppedQueueFull)
			}
			assert.Equal(t, s.Sent, s.Delivered+s.DroppedQueueFull+uint64(s.Queued))
		})
	}
}

func TestLinkQueueBounds(t *testing.T) {
	tests := []struct {
		name                string
		cfg                 Config
		size, send          int
		wantHeld, wantDrops int
	}{
		{"packets", Config{Latency: time.Second, QueuePackets: 10}, 100, 25, 10, 15},
		{"bytes", Config{Latency: time.Second, QueueBytes: 1000}, 300, 10, 3, 7},
		{"default packets", Config{Latency: time.Second}, 1, DefaultQueuePackets + 5, DefaultQueuePackets, 5},
		{"default bytes", Config{Latency: time.Second}, 60_000, 100, DefaultQueueBytes / 60_000, 100 - DefaultQueueBytes/60_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLink(t, tt.cfg, 1)
			b := make([]byte, tt.size)
			for range tt.send {
				l.Send(epoch, b)
			}
			s := l.Stats()
			assert.Equal(t, tt.wantHeld, s.Queued)
			assert.Equal(t, tt.wantHeld*tt.size, s.QueuedBytes)
			assert.Equal(t, uint64(tt.wantDrops), s.DroppedQueueFull)
			// Draining frees room again.
			assert.Equal(t, tt.wantHeld, l.Deliver(epoch.Add(time.Second), func([]byte) {}))
			assert.True(t, l.Send(epoch.Add(time.Second), b))
		})
	}
}

func TestLinkOversize(t *testing.T) {
	tests := []struct {
		name string
		max  int
		size int
		ok   bool
	}{
		{"at the limit", 1200, 1200, true},
		{"one over", 1200, 1201, false},
		{"default limit", 0, DefaultMaxDatagramSize, true},
		{"over default", 0, DefaultMaxDatagramSize + 1, false},
		{"empty datagram", 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLink(t, Config{MaxDatagramSize: tt.max}, 1)
			assert.Equal(t, tt.ok, l.Send(epoch, make([]byte, tt.size)))
			s := l.Stats()
			if tt.ok {
				assert.Zero(t, s.DroppedOversize)
				assert.Equal(t, 1, l.Deliver(epoch, func(b []byte) { assert.Len(t, b, tt.size) }))
			} else {
				assert.Equal(t, uint64(1), s.DroppedOversize)
				assert.Equal(t, uint64(1), s.Dropped())
			}
		})
	}
}

func TestLinkLiveConfigChange(t *testing.T) {
	l := newLink(t, Config{Latency: 100 * time.Millisecond}, 1)
	b := []byte("x")
	require.True(t, l.Send(epoch, b))
	require.NoError(t, l.SetConfig(Config{Latency: 10 * time.Millisecond, Loss: 1}))
	assert.False(t, l.Send(epoch, b), "new loss applies at once")
	require.NoError(t, l.SetConfig(Config{Latency: 10 * time.Millisecond}))
	require.True(t, l.Send(epoch, b))

	at, ok := l.NextDelivery()
	require.True(t, ok)
	assert.Equal(t, epoch.Add(10*time.Millisecond), at, "new latency applies to new datagrams")
	assert.Equal(t, 1, l.Deliver(at, func([]byte) {}))
	at, _ = l.NextDelivery()
	assert.Equal(t, epoch.Add(100*time.Millisecond), at, "held datagrams keep their time")

	err := l.SetConfig(Config{Loss: 2})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Equal(t, 10*time.Millisecond, l.Config().Latency, "invalid config is refused")
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"zero", Config{}, ""},
		{"full", Config{Loss: 0.1, Burst: BurstLoss(0.1, 3), Latency: time.Second, Jitter: time.Millisecond,
			Duplicate: 1, Reorder: 0.5, ReorderDelay: time.Second, Bandwidth: 1, QueuePackets: 1, QueueBytes: 1, MaxDatagramSize: 1}, ""},
		{"loss above 1", Config{Loss: 1.5}, "Loss = 1.5: must be a probability between 0 and 1"},
		{"loss NaN", Config{Loss: math.NaN()}, "Loss = NaN"},
		{"negative duplicate", Config{Duplicate: -0.1}, "Duplicate = -0.1"},
		{"reorder", Config{Reorder: 2}, "Reorder = 2"},
		{"burst stuck", Config{Burst: GilbertElliott{GoodToBad: 0.1, LossBad: 1}}, "Burst.BadToGood = 0"},
		{"burst loss", Config{Burst: GilbertElliott{GoodToBad: 0.1, BadToGood: 0.5, LossBad: 3}}, "Burst.LossBad = 3"},
		{"negative latency", Config{Latency: -time.Millisecond}, "Latency = -1ms: must not be negative"},
		{"huge jitter", Config{Jitter: 2 * time.Hour}, "Jitter = 2h0m0s: must be at most 1h"},
		{"negative bandwidth", Config{Bandwidth: -1}, "Bandwidth = -1"},
		{"negative queue", Config{QueuePackets: -1}, "QueuePackets = -1"},
		{"negative queue bytes", Config{QueueBytes: -1}, "QueueBytes = -1"},
		{"negative mtu", Config{MaxDatagramSize: -1}, "MaxDatagramSize = -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "netsim: ")
			_, err = NewLink(tt.cfg, 1)
			assert.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
}

func TestBurstLoss(t *testing.T) {
	g := BurstLoss(0.1, 4)
	assert.InDelta(t, 0.1, g.LossRate(), 1e-12)
	assert.InDelta(t, 0.25, g.BadToGood, 1e-12)
	assert.False(t, BurstLoss(0, 4).Enabled())
	assert.False(t, BurstLoss(0.1, 0.5).Enabled())
	assert.False(t, BurstLoss(math.NaN(), 3).Enabled())
	// Bursts of 3 on average cannot lose more than 75%.
	assert.InDelta(t, 0.75, MaxBurstLossRate(3), 1e-12)
	assert.InDelta(t, 0.75, BurstLoss(0.92, 3).LossRate(), 1e-12)
	assert.NoError(t, Config{Burst: BurstLoss(0.92, 3)}.Validate())
	assert.Zero(t, GilbertElliott{}.LossRate())
}

func BenchmarkLink(b *testing.B) {
	payload := make([]byte, 64)
	cases := []struct {
		name string
		cfg  Config
	}{
		{"perfect", Config{}},
		{"lossy", Config{Loss: 0.1, Burst: BurstLoss(0.05, 3), Duplicate: 0.01}},
		{"latency+jitter+reorder", Config{Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Reorder: 0.05}},
		{"bandwidth", Config{Bandwidth: 1 << 30, Latency: time.Millisecond}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			l := newLink(b, c.cfg, 1)
			now := epoch
			sink := func([]byte) {}
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				l.Send(now, payload)
				now = now.Add(10 * time.Microsecond)
				l.Deliver(now, sink)
			}
		})
	}
}

// FuzzLink drives a Link with arbitrary configs and traffic and checks its
// bookkeeping: every datagram is delivered, dropped or still held; the
// bounds hold; nothing panics.
func FuzzLink(f *testing.F) {
	f.Add(uint64(1), uint8(10), uint8(0), uint16(50), uint16(10), uint8(5), uint8(5), uint32(100_000), uint16(8), []byte("\x10\x20\x30\x40\xff\x00\x05"))
	f.Add(uint64(2), uint8(0), uint8(30), uint16(0), uint16(0), uint8(0), uint8(50), uint32(0), uint16(2), []byte{200, 200, 200, 1, 1, 1})
	f.Fuzz(func(t *testing.T, seed uint64, loss, burst uint8, latencyMs, jitterMs uint16, dup, reorder uint8, bandwidth uint32, queue uint16, ops []byte) {
		cfg := Config{
			Loss:            float64(loss%101) / 100,
			Burst:           BurstLoss(float64(burst%100)/100, 3),
			Latency:         time.Duration(latencyMs) * time.Millisecond,
			Jitter:          time.Duration(jitterMs) * time.Millisecond,
			Duplicate:       float64(dup%101) / 100,
			Reorder:         float64(reorder%101) / 100,
			Bandwidth:       int64(bandwidth),
			QueuePackets:    int(queue%64) + 1,
			QueueBytes:      4096,
			MaxDatagramSize: 1000,
		}
		l, err := NewLink(cfg, seed)
		require.NoError(t, err)
		now := epoch
		payload := make([]byte, 2048)
		var delivered uint64
		for _, op := range ops {
			switch {
			case op < 128: // send a datagram of 8×op bytes
				l.Send(now, payload[:int(op)*8])
			case op < 250: // advance time by (op-127) ms and deliver
				now = now.Add(time.Duration(op-127) * time.Millisecond)
				delivered += uint64(l.Deliver(now, func([]byte) {}))
			default: // change the config live
				c := cfg
				c.Latency /= 2
				c.Loss = 0
				require.NoError(t, l.SetConfig(c))
			}
			s := l.Stats()
			require.LessOrEqual(t, s.Queued, cfg.QueuePackets)
			require.LessOrEqual(t, s.QueuedBytes, cfg.QueueBytes)
			if _, ok := l.NextDelivery(); ok {
				require.Positive(t, s.Queued)
			} else {
				require.Zero(t, s.Queued)
			}
		}
		delivered += uint64(l.Deliver(now.Add(2*time.Hour), func([]byte) {}))
		s := l.Stats()
		require.Equal(t, delivered, s.Delivered)
		require.Zero(t, s.Queued)
		require.Zero(t, s.QueuedBytes)
		// Each accepted original arrives once, plus its copies.
		require.Equal(t, s.Sent-s.Dropped()+s.Duplicated, s.Delivered)
	})
}
