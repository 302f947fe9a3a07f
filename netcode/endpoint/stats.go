package endpoint

import "time"

// Stats is a snapshot of an Endpoint's measurements and counters. Rates and
// RTT figures are as of the newest time passed to Flush or Receive.
type Stats struct {
	// RTT is the smoothed round-trip time and RTTVar its mean deviation, both
	// per RFC 6298 and RFC 9002; MinRTT is the smallest sample seen. Samples
	// exclude the time the peer held its acknowledgement (the ack delay its
	// packets carry), so they measure the path, not the peer's tick. All are
	// zero until the first acknowledgement.
	RTT, RTTVar, MinRTT time.Duration

	// PeerAckDelay is how long the peer has recently held its
	// acknowledgements (a decaying maximum of the delays it reported).
	// Resend timers wait this much longer than the RTT.
	PeerAckDelay time.Duration

	// PacketLoss is the share, 0 to 1, of the most recent packets (up to
	// 1024) that carried messages or pings and were declared lost: a packet
	// sent 3 or more packets before one the peer acknowledged, or sent
	// 9/8 × RTT before it, or unacknowledged for about 2 × RTT.
	PacketLoss float64

	// SentKbps, ReceivedKbps and AckedKbps are kilobits per second over the
	// last second: packets sent, packets received, and sent packets the peer
	// acknowledged.
	SentKbps, ReceivedKbps, AckedKbps float64

	// SendRate is the send budget's rate now, in bytes per second (see
	// Config.SendRate): the ceiling, or under CongestionControl where
	// the congestion response has moved it. 0 without a budget.
	SendRate int
	// EstimatedRate is the congestion response's estimate of what the
	// link carries, in bytes per second: the rate the peer acknowledged
	// bytes at when the link last showed congestion, or the highest rate
	// seen since. 0 without CongestionControl or before it measured.
	EstimatedRate int
	// QueueDelay is the congestion response's newest estimate of how long
	// packets wait in the link's queues: the RTT of a small packet above
	// the smallest such RTT. 0 without CongestionControl.
	QueueDelay time.Duration
	// CongestionEvents counts the times the congestion response lowered
	// the budget (a queue or loss showed).
	CongestionEvents uint64

	// PathMTU is the largest packet Flush builds now: MaxPacketSize, or
	// with Config.MaxPathMTU the largest size a probe found to work.
	PathMTU int
	// MTUProbes counts path MTU probes sent, MTUProbesLost those lost.
	MTUProbes, MTUProbesLost uint64

	PacketsSent      uint64 // packets emitted by Flush
	PacketsReceived  uint64 // packets Receive took in: not malformed, stale or duplicate
	PacketsAcked     uint64 // sent packets the peer acknowledged
	PacketsLost      uint64 // sent packets declared lost (a late ack takes it back)
	SpuriousLosses   uint64 // sent packets declared lost that the peer acknowledged later
	PacketsStale     uint64 // received packets too old to track, dropped
	PacketsDuplicate uint64 // received packets seen before, dropped
	PacketsMalformed uint64 // received packets that did not decode, dropped

	MessagesSent       uint64 // messages sent for the first time
	MessagesSuperseded uint64 // sequenced messages replaced by a newer one before they were sent
	MessagesShed       uint64 // unreliable messages that waited for the send budget longer than Config.MaxUnreliableWait, dropped
	FlushesLimited     uint64 // Flush calls that left data queued because the send budget (or MaxFlushBytes) was spent
	MessagesResent     uint64 // message fragments sent again: their packet was lost or no ack came in time
	MessagesRedundant  uint64 // copies of unacknowledged small reliable messages in room left in packets
	ProbesSent         uint64 // tail-loss probes: the oldest unacknowledged fragment resent when no ack came for a probe timeout
	MessagesAcked      uint64 // messages whose every fragment was acknowledged
	MessagesDelivered  uint64 // messages returned by ReadMessage
	MessagesDuplicate  uint64 // reliable messages received again, dropped

	// Messages dropped on the receive side, by reason.
	DroppedStale           uint64 // sequenced: older than the newest delivered
	DroppedQueueFull       uint64 // unreliable: receive queue full
	DroppedOutsideWindow   uint64 // reliable: ahead of the receive window; resent later
	DroppedReassemblyFull  uint64 // fragment over MaxReassemblyBytes (reliable: resent later)
	DroppedReassemblyStale uint64 // unreliable partial message expired or evicted
	DroppedMalformed       uint64 // fragment contradicting earlier fragments of its message
}

// rttEstimator smooths round-trip samples as RFC 6298 does for TCP's RTO,
// with RFC 9002's handling of the peer's ack delay.
type rttEstimator struct {
	smoothed, variance, min, latest time.Duration
	sampled                         bool
}

// add takes the time from sending a packet to its acknowledgement and how
// long the peer says it held that acknowledgement. The hold is subtracted
// (never below zero, so a peer cannot make a sample negative); MinRTT is
// the smallest adjusted sample, so that a peer that always holds its acks
// the same time still shows the path's RTT. RFC 9002 keeps min_rtt
// unadjusted to distrust the peer's figure; here the peer is the other half
// of the same protocol, and a peer that overstates its hold only makes its
// own messages resend sooner.
func (r *rttEstimator) add(sample, ackDelay time.Duration) {
	sample -= min(max(ackDelay, 0), sample)
	if sample < 0 {
		sample = 0
	}
	r.latest = sample
	if !r.sampled {
		r.sampled = true
		r.smoothed, r.variance, r.min = sample, sample/2, sample
		return
	}
	r.min = min(r.min, sample)
	dev := r.smoothed - sample
	if dev < 0 {
		dev = -dev
	}
	r.variance = (3*r.variance + dev) / 4
	r.smoothed = (7*r.smoothed + sample) / 8
}

// lossWindowSize is how many recent packet outcomes PacketLoss averages.
const lossWindowSize = 1024

// lossWindow records whether each of the most recent decided packets was lost.
type lossWindow struct {
	lost    [lossWindowSize / 64]uint64
	decided uint64 // outcomes recorded so far; the next one's index
	nLost   int    // lost outcomes in the window
}

// record adds an outcome and returns its index, for undo. Indexes wrap at
// 2^32, which lossWindowSize divides.
func (w *lossWindow) record(lost bool) uint32 {
	i := w.decided
	w.decided++
	slot, bit := (i%lossWindowSize)/64, uint64(1)<<(i%64)
	if w.lost[slot]&bit != 0 {
		w.nLost--
		w.lost[slot] &^= bit
	}
	if lost {
		w.nLost++
		w.lost[slot] |= bit
	}
	return uint32(i)
}

// unlose flips outcome i from lost to received if it is still in the window.
func (w *lossWindow) unlose(i uint32) {
	if uint32(w.decided)-i > lossWindowSize {
		return
	}
	slot, bit := (i%lossWindowSize)/64, uint64(1)<<(i%64)
	if w.lost[slot]&bit != 0 {
		w.lost[slot] &^= bit
		w.nLost--
	}
}

func (w *lossWindow) rate() float64 {
	n := min(w.decided, lossWindowSize)
	if n == 0 {
		return 0
	}
	return float64(w.nLost) / float64(n)
}

// rateMeter sums bytes over the last second in ten 100 ms buckets.
type rateMeter struct {
	buckets [10]uint64
	current int64 // index of the newest bucket (time / bucketWidth)
}

const bucketWidth = 100 * time.Millisecond

func (m *rateMeter) advance(at time.Duration) {
	idx := int64(at / bucketWidth)
	if idx <= m.current {
		return
	}
	if idx-m.current >= int64(len(m.buckets)) {
		m.buckets = [10]uint64{}
	} else {
		for i := m.current + 1; i <= idx; i++ {
			m.buckets[i%int64(len(m.buckets))] = 0
		}
	}
	m.current = idx
}

func (m *rateMeter) add(at time.Duration, bytes int) {
	m.advance(at)
	m.buckets[m.current%int64(len(m.buckets))] += uint64(bytes)
}

// kbps returns kilobits per second over the last second before at.
func (m *rateMeter) kbps(at time.Duration) float64 {
	m.advance(at)
	var sum uint64
	for _, b := range m.buckets {
		sum += b
	}
	return float64(sum) * 8 / 1000
}
