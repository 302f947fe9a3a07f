package endpoint

import "time"

// sendBudget is the token bucket behind Config.SendRate and, with
// Config.CongestionControl, the controller that moves its rate between
// MinSendRate and SendRate. It works on the endpoint's time line and
// allocates nothing.
//
// The controller measures the link's queue with small packets only: a
// packet of a few bytes takes no measurable time to transmit even on a
// thin link, so its RTT above the smallest such RTT is the time it waited
// behind other packets. With CongestionControl, Flush sends a one-byte
// ping of its own (before anything else it sends) once per interval when
// no other small packet left in it, so there is such a sample every RTT
// whatever the game sends. Big packets' RTTs include their own
// transmission (75 ms for 1200 bytes at 128 kbit/s), which says nothing
// about the queue.
type sendBudget struct {
	on, cc   bool
	rate     float64 // bytes per second the bucket refills at now
	floor    float64
	ceil     float64
	burst    float64 // fixed Config.SendBurst, or 0: burstTime of rate
	pktMin   float64 // the smallest burst: one packet
	overhead int
	tokens   float64 // may be negative: the last packet overdrew it
	last     time.Duration

	// Congestion response.
	slowStart   bool
	probeOwed   bool          // the next Flush sends a small ping to sample the queue
	ivStart     time.Duration // start of the current interval
	ivLimited   bool          // Flush was held back by the budget in it
	ivAcked     int           // packets acknowledged in it
	ivLost      int           // packets declared lost in it
	ivAckedFrom uint64        // ackedTotal when it began
	emptyRun    int           // intervals since the last decrease that grew the rate
	ivQueue     time.Duration // smallest queue sample in it; -1 none
	prevQueue   time.Duration // the last interval's with a sample
	holdUntil   time.Duration // no decrease before: the last one has yet to show
	base        [2]time.Duration
	baseStart   time.Duration // start of the newer base window
	ackedTotal  uint64        // bytes acknowledged, ever
	hist        [8]ackMark    // ackedTotal at the end of recent intervals, a ring
	histN       int
	estimate    float64       // usable rate, bytes per second
	queue       time.Duration // newest queue estimate
	congestions uint64
}

type ackMark struct {
	at    time.Duration
	total uint64
}

const (
	burstTime = 50 * time.Millisecond
	// smallPacket is the largest packet whose RTT samples the queue: at
	// 128 kbit/s it takes 6 ms to transmit.
	smallPacket = 96
	// minInterval and maxInterval bound the controller's interval, which
	// is otherwise the smoothed RTT.
	minInterval = 50 * time.Millisecond
	maxInterval = 250 * time.Millisecond
	// baseWindow is how long a smallest RTT is trusted: the base is the
	// smallest of this window's samples and the last one's, so a path that
	// got longer is learned within 2 × baseWindow.
	baseWindow = 10 * time.Second
	// minQueueTarget is the least queueing delay the controller tolerates
	// (a quarter of the base RTT otherwise): below it the peer's receive
	// tick and scheduling noise dominate.
	minQueueTarget = 10 * time.Millisecond
	// deliveredSpan is the least time the delivery rate is measured over.
	deliveredSpan = time.Second
	recentSpan    = 300 * time.Millisecond

	slowStartGain = 1.25
	increaseGain  = 1.08
	headroom      = 1.1
	emptyRunGain  = 0.05
	maxEmptyRun   = 6
	decreaseGain  = 0.9
	drainGain     = 0.75
	bigDrainGain  = 0.5
	starvedShare  = 0.35
	lossThreshold = 0.1
)

func newSendBudget(cfg Config) *sendBudget {
	b := &sendBudget{ivQueue: -1, base: [2]time.Duration{-1, -1}}
	b.on, b.cc = true, cfg.CongestionControl
	b.ceil, b.floor = float64(cfg.SendRate), float64(cfg.SendRate)
	b.burst = float64(cfg.SendBurst)
	b.pktMin = float64(cfg.MaxPacketSize + cfg.PacketOverhead)
	b.overhead = cfg.PacketOverhead
	b.rate = b.ceil
	if b.cc {
		b.floor = float64(cfg.MinSendRate)
		b.rate, b.slowStart, b.probeOwed = b.floor, true, true
	}
	b.tokens = b.depth()
	return b
}

// depth is the bucket's size now.
func (b *sendBudget) depth() float64 {
	if b.burst > 0 {
		return b.burst
	}
	return max(b.rate*burstTime.Seconds(), b.pktMin)
}

// refill adds the tokens earned since the last refill.
func (b *sendBudget) refill(at time.Duration) {
	if at > b.last {
		b.tokens = min(b.tokens+b.rate*(at-b.last).Seconds(), b.depth())
		b.last = at
	}
}

// allowance is how many bytes the budget lets Flush open packets for now.
func (b *sendBudget) allowance() int {
	if b.tokens <= 0 {
		return 0
	}
	return int(min(b.tokens, float64(maxSendRate)))
}

// spend charges a packet of n bytes.
func (b *sendBudget) spend(n int) { b.tokens -= float64(n + b.overhead) }

// onSample takes an RTT sample of a packet of size bytes.
func (b *sendBudget) onSample(at, sample time.Duration, size int) {
	if !b.cc || size > smallPacket {
		return
	}
	if at-b.baseStart >= baseWindow {
		b.base[0], b.base[1], b.baseStart = b.base[1], -1, at
	}
	if b.base[1] < 0 || sample < b.base[1] {
		b.base[1] = sample
	}
	base := b.baseRTT()
	q := max(sample-base, 0)
	b.queue = q
	if b.ivQueue < 0 || q < b.ivQueue {
		b.ivQueue = q
	}
}

func (b *sendBudget) baseRTT() time.Duration {
	if b.base[0] < 0 || (b.base[1] >= 0 && b.base[1] < b.base[0]) {
		return b.base[1]
	}
	return b.base[0]
}

// onAck counts an acknowledged packet of size bytes.
func (b *sendBudget) onAck(size int) {
	b.ackedTotal += uint64(size + b.overhead)
	b.ivAcked++
}

// onLoss counts a packet declared lost.
func (b *sendBudget) onLoss() { b.ivLost++ }

// delivered is the rate the peer acknowledged bytes at over the recent
// intervals spanning at least deliveredSpan (or all it remembers).
func (b *sendBudget) delivered(at, over time.Duration) float64 {
	n := min(b.histN, len(b.hist))
	for i := 1; i <= n; i++ {
		m := b.hist[(b.histN-i)%len(b.hist)]
		if span := at - m.at; span >= over || i == n {
			if span <= 0 {
				return 0
			}
			return float64(b.ackedTotal-m.total) / span.Seconds()
		}
	}
	return 0
}

// update ends the controller's interval when it is over and moves the
// rate by what it saw. srtt is the smoothed RTT (0 before a sample).
func (b *sendBudget) update(at, srtt time.Duration) {
	iv := min(max(srtt, minInterval), maxInterval)
	target := max(b.baseRTT()/4, minQueueTarget)
	queued := b.ivQueue > target
	// A queue ends the interval at once, unless the last decrease has
	// yet to show.
	if at-b.ivStart < iv && (!queued || at < b.holdUntil) {
		return
	}
	delivered := b.delivered(at, deliveredSpan)
	recent := b.delivered(at, recentSpan)
	lossy := b.ivLost >= 2 && float64(b.ivLost) > lossThreshold*float64(b.ivLost+b.ivAcked)
	// Acks arriving at well under the rate sent, over an interval long
	// enough to count several packets, show a slower link an RTT before
	// the queue it builds reaches the ping.
	if ivDur := at - b.ivStart; b.ivLimited && ivDur > 0 && b.rate*ivDur.Seconds() >= 4*b.pktMin {
		if got := float64(b.ackedTotal-b.ivAckedFrom) / ivDur.Seconds(); got < starvedShare*b.rate {
			lossy, recent = true, min(recent, got)
		}
	}
	// A queue that is draining already (smaller than the last interval's)
	// needs no further cut.
	draining := b.prevQueue > target && b.ivQueue < b.prevQueue
	switch {
	case (queued && !draining || lossy) && at >= b.holdUntil && delivered > 0:
		// What the link carries now: over a short span, so that a link
		// that just got slower is seen at once.
		recent = min(delivered, recent)
		gain := decreaseGain
		switch {
		case b.ivQueue > b.baseRTT():
			gain = bigDrainGain // seconds of queue: drain it
		case b.ivQueue > 2*target || lossy:
			gain = drainGain
		}
		b.rate = max(min(b.rate, recent)*gain, b.floor)
		b.estimate = recent
		b.slowStart = false
		b.congestions++
		b.emptyRun = 0
		// Wait for packets sent at the new rate to be acknowledged.
		b.holdUntil = at + max(min(srtt, 2*maxInterval), iv)
	case b.ivQueue <= target/2 && !lossy && b.ivLimited:
		// Grow only while the queue is empty; between half the target
		// and the target the rate holds.
		if b.slowStart {
			b.rate = min(b.rate*slowStartGain, b.ceil)
			break
		}
		// Probe above what the link has carried by a little at a time:
		// a budget far above it would fill the queue in one RTT.
		// The longer the queue stays empty, the further above it.
		b.emptyRun = min(b.emptyRun+1, maxEmptyRun)
		room := headroom + emptyRunGain*float64(b.emptyRun)
		b.rate = max(min(b.rate*increaseGain, max(b.estimate, recent)*room, b.ceil), b.rate)
	}
	if !queued && delivered > b.estimate {
		b.estimate = delivered
	}
	b.hist[b.histN%len(b.hist)] = ackMark{at: at, total: b.ackedTotal}
	b.histN++
	// Sample the queue again next interval, unless the connection is idle.
	b.probeOwed = b.ivAcked > 0 || b.ivLimited
	if b.ivQueue >= 0 {
		b.prevQueue = b.ivQueue
	}
	b.ivStart, b.ivLimited, b.ivAcked, b.ivLost, b.ivQueue = at, false, 0, 0, -1
	b.ivAckedFrom = b.ackedTotal
}
