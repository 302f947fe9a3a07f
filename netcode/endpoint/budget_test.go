package endpoint_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// Channels of budgetConfig.
const (
	bReliable = 0
	bEvents   = 1 // Unreliable, Priority 1
	bState    = 2 // UnreliableSequenced
)

// budgetConfig is a server-like endpoint: a reliable channel, unreliable
// events that go before state, and latest-state snapshots.
func budgetConfig(rate int, cc bool) endpoint.Config {
	return endpoint.Config{
		SendRate:          rate,
		CongestionControl: cc,
		Channels: []endpoint.ChannelConfig{
			{Kind: endpoint.ReliableOrdered},
			{Kind: endpoint.Unreliable, Priority: 1},
			{Kind: endpoint.UnreliableSequenced},
		},
	}
}

// streamSample is one point of a streamed run, taken every 100 ms.
type streamSample struct {
	at          time.Duration // since the start
	rtt         time.Duration // the sender's smoothed RTT
	queueDelay  time.Duration // its queue estimate
	queued      int           // bytes the a→b link holds (in flight and waiting)
	sendRate    int           // the sender's budget, bytes per second
	estimate    int           // its estimate of the link's rate
	capacity    int64         // the link's cap then
	delivered   int           // snapshot bytes the receiver read in the last 100 ms
	reliableGot int           // reliable messages delivered so far
}

// streamRun drives a server-like sender over p for dur: a ~1 KB
// latest-state snapshot every 33 ms and a 40-byte reliable message every
// 100 ms, the whole at 100 Hz. capAt, when set, changes the a→b link's cap
// at each 100 ms sample. It returns the samples and the reliable messages
// sent.
func streamRun(t *testing.T, p *pair, dur time.Duration, capAt func(at time.Duration) int64) ([]streamSample, int) {
	t.Helper()
	const tick = 10 * time.Millisecond
	snapshot := patterned(1000, 7)
	var samples []streamSample
	sent, got, delivered := 0, 0, 0
	linkCfg := p.ab.Config()
	for at := time.Duration(0); at < dur; at += tick {
		n := int(at / tick)
		if n%10 == 0 && capAt != nil {
			if c := capAt(at); c != linkCfg.Bandwidth {
				linkCfg.Bandwidth = c
				require.NoError(t, p.ab.SetConfig(linkCfg))
			}
		}
		if n%3 == 0 {
			_, err := p.a.Send(bState, snapshot)
			require.NoError(t, err)
		}
		if n%10 == 0 {
			if _, err := p.a.Send(bReliable, numbered(uint32(sent), 40)); err == nil {
				sent++
			}
		}
		p.step(tick)
		for {
			m, ok := p.b.ReadMessage(bState)
			if !ok {
				break
			}
			delivered += len(m)
		}
		for {
			m, ok := p.b.ReadMessage(bReliable)
			if !ok {
				break
			}
			require.Equal(t, uint32(got), number(m), "reliable messages arrive in order, none lost")
			got++
		}
		if n%10 == 9 {
			st := p.a.Stats()
			samples = append(samples, streamSample{
				at: at + tick, rtt: st.RTT, queueDelay: st.QueueDelay, queued: p.ab.Stats().QueuedBytes,
				sendRate: st.SendRate, estimate: st.EstimatedRate, capacity: p.ab.Config().Bandwidth,
				delivered: delivered, reliableGot: got,
			})
			delivered = 0
		}
	}
	return samples, sent
}

// worst returns the largest RTT and queue of the samples from `from` on.
func worst(samples []streamSample, from time.Duration) (rtt time.Duration, queued int) {
	for _, s := range samples {
		if s.at >= from {
			rtt, queued = max(rtt, s.rtt), max(queued, s.queued)
		}
	}
	return rtt, queued
}

// TestBudgetCappedLink streams more than a 128 kbit/s, 50 ms link carries
// (30 KB/s of snapshots and reliable messages into 16 KB/s). With the
// budget and the congestion response the RTT stays under twice the
// link's base RTT and the queue stays small; without them the queue and
// the RTT grow until the link drops packets.
func TestBudgetCappedLink(t *testing.T) {
	const (
		capacity = 128_000 / 8 // bytes per second
		oneWay   = 50 * time.Millisecond
		baseRTT  = 2 * oneWay
		dur      = 30 * time.Second
		warmup   = 5 * time.Second
	)
	link := netsim.Config{Latency: oneWay, Bandwidth: capacity, QueueBytes: 256 << 10}
	back := netsim.Config{Latency: oneWay, Bandwidth: capacity}

	t.Run("budget and congestion response", func(t *testing.T) {
		p := newPair(t, budgetConfig(1_000_000/8, true), link, back, 1)
		samples, sent := streamRun(t, p, dur, nil)
		rtt, queued := worst(samples, warmup)
		st := p.a.Stats()
		t.Logf("on:  worst RTT %v after %v (base %v), worst link queue %d B, budget %d B/s, estimate %d B/s, shed %d, superseded %d, reliable %d/%d",
			rtt, warmup, baseRTT, queued, st.SendRate, st.EstimatedRate, st.MessagesShed, st.MessagesSuperseded, samples[len(samples)-1].reliableGot, sent)
		assert.Less(t, rtt, 2*baseRTT, "RTT stays under twice the base RTT")
		assert.Less(t, queued, 4<<10, "the link's queue stays under 4 KiB (250 ms at the cap)")
		budget, delivered := meanRate(samples, warmup, dur)
		t.Logf("on:  mean budget %.0f B/s, snapshot bytes delivered %.0f B/s (the cap is %d B/s)", budget, delivered, capacity)
		assert.InDelta(t, capacity, budget, capacity*0.35, "the budget settles near the link's rate")
		assert.Greater(t, delivered, capacity*0.5, "most of the link carries snapshots")
		assert.Greater(t, st.MessagesSuperseded, uint64(0), "snapshots that did not fit were replaced by newer ones")
		assert.Greater(t, samples[len(samples)-1].reliableGot, sent-10, "reliable messages keep flowing")
	})
	t.Run("off", func(t *testing.T) {
		p := newPair(t, budgetConfig(0, false), link, back, 1)
		samples, _ := streamRun(t, p, dur, nil)
		rtt, queued := worst(samples, warmup)
		t.Logf("off: worst RTT %v after %v (base %v), worst link queue %d B, link drops %d",
			rtt, warmup, baseRTT, queued, p.ab.Stats().DroppedQueueFull)
		assert.Greater(t, rtt, 5*baseRTT, "without a budget the RTT grows")
		assert.Greater(t, queued, 64<<10, "without a budget the link's queue grows")
	})
}

// stepRun streams unreliable 1000-byte messages, far more than the link
// carries, through a link whose cap capAt sets, and samples every 100 ms.
func stepRun(t *testing.T, cfg endpoint.Config, dur time.Duration, capAt func(at time.Duration) int64) []streamSample {
	t.Helper()
	link := netsim.Config{Latency: 50 * time.Millisecond, Bandwidth: capAt(0), QueueBytes: 256 << 10}
	p := newPair(t, cfg, link, netsim.Config{Latency: 50 * time.Millisecond}, 3)
	const tick = 10 * time.Millisecond
	msg := patterned(1000, 3)
	var samples []streamSample
	delivered := 0
	for at := time.Duration(0); at < dur; at += tick {
		n := int(at / tick)
		if n%10 == 0 {
			if c := capAt(at); c != link.Bandwidth {
				link.Bandwidth = c
				require.NoError(t, p.ab.SetConfig(link))
			}
		}
		for range 5 {
			if _, err := p.a.Send(bEvents, msg); err != nil {
				require.ErrorIs(t, err, endpoint.ErrSendQueueFull)
			}
		}
		p.step(tick)
		for {
			m, ok := p.b.ReadMessage(bEvents)
			if !ok {
				break
			}
			delivered += len(m)
		}
		if n%10 == 9 {
			st := p.a.Stats()
			samples = append(samples, streamSample{
				at: at + tick, rtt: st.RTT, queueDelay: st.QueueDelay, queued: p.ab.Stats().QueuedBytes,
				sendRate: st.SendRate, estimate: st.EstimatedRate, capacity: link.Bandwidth, delivered: delivered,
			})
			delivered = 0
		}
	}
	return samples
}

// meanRate returns the mean budget and delivered rate (bytes per second)
// of the samples in [from, to).
func meanRate(samples []streamSample, from, to time.Duration) (budget, delivered float64) {
	n := 0
	for _, s := range samples {
		if s.at >= from && s.at < to {
			budget += float64(s.sendRate)
			delivered += float64(s.delivered) * 10
			n++
		}
	}
	return budget / float64(max(n, 1)), delivered / float64(max(n, 1))
}

// at returns the sample taken at d.
func sampleAt(t *testing.T, samples []streamSample, d time.Duration) streamSample {
	t.Helper()
	for _, s := range samples {
		if s.at == d {
			return s
		}
	}
	t.Fatalf("no sample at %v", d)
	return streamSample{}
}

// TestBudgetFollowsCapStep drops the link's cap from 1 Mbit/s to
// 128 kbit/s at 10 s and raises it back at 25 s: the budget follows within
// a few seconds each way.
func TestBudgetFollowsCapStep(t *testing.T) {
	const fast, slow = 1_000_000 / 8, 128_000 / 8
	capAt := func(at time.Duration) int64 {
		if at >= 10*time.Second && at < 25*time.Second {
			return slow
		}
		return fast
	}
	samples := stepRun(t, budgetConfig(2_000_000/8, true), 40*time.Second, capAt)
	for _, d := range []time.Duration{10, 13, 16, 25, 28, 30, 40} {
		s := sampleAt(t, samples, d*time.Second)
		t.Logf("%4v: cap %6d B/s, budget %6d B/s, estimate %6d B/s, RTT %v, link queue %d B", s.at, s.capacity, s.sendRate, s.estimate, s.rtt, s.queued)
	}
	window := func(from, to time.Duration) (budget, delivered float64) {
		budget, delivered = meanRate(samples, from*time.Second, to*time.Second)
		t.Logf("%2d–%2d s: mean budget %6.0f B/s, delivered %6.0f B/s", from, to, budget, delivered)
		return budget, delivered
	}
	b, d := window(5, 10)
	assert.InDelta(t, fast, b, fast*0.3, "the budget found the fast cap")
	assert.Greater(t, d, fast*0.6, "and the link carried most of it")
	assert.Less(t, sampleAt(t, samples, 11*time.Second).sendRate, 2*slow, "1 s after the drop the budget is down")
	b, d = window(14, 25)
	assert.InDelta(t, slow, b, slow*0.3, "from 4 s after the drop the budget is near the slow cap")
	assert.Greater(t, d, slow*0.6, "and the link carried most of it")
	assert.Less(t, sampleAt(t, samples, 16*time.Second).rtt, 200*time.Millisecond, "6 s after the drop its queue has drained")
	b, _ = window(29, 40)
	assert.InDelta(t, fast, b, fast*0.3, "from 4 s after the rise the budget is near the fast cap again")
}

// TestBudgetNoAllocs: streaming through a capped link with the budget and
// the congestion response (shedding, superseding, probes, rate changes)
// allocates nothing in steady state.
func TestBudgetNoAllocs(t *testing.T) {
	link := netsim.Config{Latency: 50 * time.Millisecond, Bandwidth: 16_000}
	p := newPair(t, budgetConfig(125_000, true), link, link, 5)
	snapshot, event := make([]byte, 1000), make([]byte, 100)
	n := 0
	tick := func() {
		n++
		if n%3 == 0 {
			if _, err := p.a.Send(bState, snapshot); err != nil {
				panic(err)
			}
		}
		_, _ = p.a.Send(bEvents, event) // more than fits: shed
		p.step(10 * time.Millisecond)
		for _, ok := p.b.ReadMessage(bState); ok; _, ok = p.b.ReadMessage(bState) {
		}
		for _, ok := p.b.ReadMessage(bEvents); ok; _, ok = p.b.ReadMessage(bEvents) {
		}
	}
	for range 3000 {
		tick()
	}
	allocs := testing.AllocsPerRun(1000, tick)
	assert.Zero(t, allocs)
	s := p.a.Stats()
	assert.Positive(t, s.MessagesShed)
	assert.Positive(t, s.MessagesSuperseded)
	assert.Positive(t, s.CongestionEvents)
}

// BenchmarkFlushBudget measures one tick of a budget-limited sender: a
// snapshot and an event queued, the budget refilled and spent, the
// controller updated, the peer's acks taken in.
func BenchmarkFlushBudget(b *testing.B) {
	link := netsim.Config{Latency: 50 * time.Millisecond, Bandwidth: 16_000}
	p := newPair(b, budgetConfig(125_000, true), link, link, 5)
	snapshot, event := make([]byte, 1000), make([]byte, 100)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.a.Send(bState, snapshot)
		_, _ = p.a.Send(bEvents, event)
		p.step(10 * time.Millisecond)
		for _, ok := p.b.ReadMessage(bState); ok; _, ok = p.b.ReadMessage(bState) {
		}
		for _, ok := p.b.ReadMessage(bEvents); ok; _, ok = p.b.ReadMessage(bEvents) {
		}
	}
}

// TestBudgetRandomLossIsNotCongestion: on an uncapped link with 5% random
// loss (and jitter), the congestion response does not mistake the loss for
// a full link: the budget stays above what the game sends.
func TestBudgetRandomLossIsNotCongestion(t *testing.T) {
	link := netsim.Config{Latency: 50 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.05}
	p := newPair(t, budgetConfig(1_000_000/8, true), link, link, 1)
	samples, _ := streamRun(t, p, 20*time.Second, nil)
	budget, delivered := meanRate(samples, 5*time.Second, 20*time.Second)
	t.Logf("5%% loss: mean budget %.0f B/s, snapshot bytes delivered %.0f B/s, congestion events %d", budget, delivered, p.a.Stats().CongestionEvents)
	assert.Greater(t, budget, 30_000.0, "the budget stays near the 33 KB/s of snapshots")
	assert.Greater(t, delivered, 0.85*33_000, "snapshots arrive but for the loss")
}
