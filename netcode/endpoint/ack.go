package endpoint

import (
	"math/bits"
	"time"
)

// Acknowledgements flow both ways in every packet header. On the receive
// side the endpoint keeps the newest packet accepted and a bitmap of the 32
// before it; on the send side it matches the peer's acks to its sent-packet
// records, which drives RTT, loss detection, the ack handler and reliable
// delivery.
//
// Loss detection follows RFC 9002 (section 6): a packet is lost once the
// peer acknowledged one sent packetThreshold packets after it, or one sent
// after it while it has been out for 9/8 of the RTT. A tail of packets that
// nothing later acknowledges is caught by the probe timeout (see
// Endpoint.probe) and, for the statistics, by lossDelay.

const (
	// packetThreshold is RFC 9002's kPacketThreshold: a packet is lost once
	// one sent this many packets later is acknowledged. A late ack of a
	// packet it declared lost (reordering) raises the endpoint's threshold
	// to the distance seen, up to maxPacketThreshold.
	packetThreshold    = 3
	maxPacketThreshold = 32
	// timerGranularity is RFC 9002's kGranularity: the least time threshold
	// and the least variance term of the probe timeout.
	timerGranularity = time.Millisecond
	// maxProbeBackoff caps the doublings of the probe timeout.
	maxProbeBackoff = 6
)

// ackHeader returns a header acknowledging what has been received, with
// the time the newest arrival has waited when it was not acknowledged yet.
func (e *Endpoint) ackHeader(at time.Duration) packetHeader {
	if !e.hasAccepted {
		return packetHeader{}
	}
	h := packetHeader{Ack: e.newestAccepted, AckBits: e.acceptedBits, HasAck: true}
	if e.ackDelayOwed {
		h.HasAckDelay, h.AckDelay = true, ackDelayUnits(at-e.newestAcceptedAt)
	}
	return h
}

// noteAccepted adds seq, which arrived at at, to the acknowledgements the
// next header carries.
func (e *Endpoint) noteAccepted(seq seqNum, at time.Duration) {
	if !e.hasAccepted {
		e.newestAccepted, e.acceptedBits, e.hasAccepted = seq, 0, true
		e.newestAcceptedAt, e.ackDelayOwed = at, true
		return
	}
	switch d := seq.Diff(e.newestAccepted); {
	case d > 0:
		e.acceptedBits = e.acceptedBits<<d | 1<<(d-1) // shifts of 32 or more give 0
		e.newestAccepted = seq
		e.newestAcceptedAt, e.ackDelayOwed = at, true
	case d < 0 && d >= -32:
		e.acceptedBits |= 1 << (-d - 1)
	}
}

// applyAcks marks every sent packet that h acknowledges. Bits that an
// earlier header already reported are skipped: on a steady stream each
// header adds one or two acks to the 33 it repeats.
func (e *Endpoint) applyAcks(at time.Duration, h packetHeader) {
	newBits := h.AckBits
	d := 33
	if e.peerAck.HasAck {
		d = h.Ack.Diff(e.peerAck.Ack)
	}
	switch {
	case d == 0:
		newBits &^= e.peerAck.AckBits
		e.peerAck.AckBits |= h.AckBits
	case d > 0 && d <= 32:
		newBits &^= e.peerAck.AckBits<<d | 1<<(d-1)
		e.peerAck = h
	case d > 32:
		e.peerAck = h
	}
	for b := newBits; b != 0; { // oldest first, so handlers see ids in order
		i := 31 - bits.LeadingZeros32(b)
		b &^= 1 << i
		e.ackPacket(at, h.Ack-1-seqNum(i), nil)
	}
	e.ackPacket(at, h.Ack, &h)
}

// ackPacket applies the peer's acknowledgement of packet seq. newest is the
// header when seq is the newest packet it acknowledges: that one gives an
// RTT sample, if the header says how long the ack was held.
func (e *Endpoint) ackPacket(at time.Duration, seq seqNum, newest *packetHeader) {
	rec := e.sent.Find(seq)
	if rec == nil {
		return // never sent, or too old to matter
	}
	if newest != nil && (!e.hasLargestAcked || seq.Newer(e.largestAcked)) {
		e.largestAcked, e.hasLargestAcked = seq, true
	}
	if rec.acked {
		return
	}
	rec.acked = true
	e.lastAckAt, e.ptoCount = at, 0
	e.stats.PacketsAcked++
	e.ackRate.add(at, int(rec.size))
	e.mtu.acked(seq, int(rec.size))
	if e.sb != nil && e.sb.cc {
		e.sb.onAck(int(rec.size))
	}
	// An RTT sample, the peer's hold taken out, from the newest packet
	// acknowledged when it carried data. When it only carried acks the
	// peer says how long it held it too, and it is used when no data
	// packet has given a sample for a second: an endpoint that sends data
	// rarely and acks a stream often (a client under a budgeted server)
	// would otherwise have none. Only data packets' samples feed the
	// congestion response, and their holds the resend timers' allowance.
	if newest != nil && newest.HasAckDelay && (rec.ackEliciting || !e.rtt.sampled || at-e.lastDataSample >= time.Second) {
		if rec.ackEliciting {
			e.lastDataSample = at
		}
		sample := at - rec.sentAt
		hold := min(time.Duration(newest.AckDelay)*ackDelayUnit, max(sample, 0))
		e.rtt.add(sample, hold)
		if rec.ackEliciting {
			if e.sb != nil && e.sb.cc {
				e.sb.onSample(at, e.rtt.latest, int(rec.size))
			}
			if hold >= e.peerHold {
				e.peerHold = hold
			} else {
				e.peerHold -= (e.peerHold - hold) / 8
			}
		}
	}
	if rec.ackEliciting {
		if rec.decided {
			// A late ack: it was not lost after all, and whatever it
			// carried was resent for nothing.
			e.loss.unlose(rec.lossIndex)
			e.stats.PacketsLost--
			e.stats.SpuriousLosses++
			if rec.lostByCount && e.hasLargestAcked {
				e.pktThreshold = min(max(e.pktThreshold, e.largestAcked.Diff(seq)+1), maxPacketThreshold)
			}
		} else {
			rec.decided = true
			e.loss.record(false)
		}
	}
	for i := range uint32(rec.refCount) {
		r := e.sentRefs.at(rec.refStart + i)
		e.ackFragment(int(r.channel), r.id, int(r.fragment))
	}
}

// ackFragment notes that the peer received fragment f of message id.
func (e *Endpoint) ackFragment(ch int, id MessageID, f int) {
	c := e.sendChannels[ch]
	m := c.slot(id)
	if m.id != id || !m.tracking {
		return
	}
	if c.kind.Reliable() {
		if m.frags[f].acked {
			return
		}
		m.frags[f].acked = true
	}
	if m.unacked--; m.unacked > 0 {
		return
	}
	m.tracking = false
	e.stats.MessagesAcked++
	if c.kind.Reliable() {
		c.release(m, &e.sendBufs)
		for c.oldest != c.unsent && c.slot(c.oldest).unacked == 0 {
			c.oldest++
		}
	}
	if e.onAck != nil {
		e.onAck(ch, id)
	}
}

// rttOrInitial returns the smoothed RTT and its variance, or the initial
// estimate before the first sample.
func (e *Endpoint) rttOrInitial() (rtt, dev time.Duration) {
	if e.rtt.sampled {
		return e.rtt.smoothed, e.rtt.variance
	}
	return e.cfg.InitialRTT, e.cfg.InitialRTT / 2
}

// lossDelay is how long a packet that nothing later acknowledges may go
// unacknowledged before it counts as lost in the statistics.
func (e *Endpoint) lossDelay() time.Duration {
	rtt, dev := e.rttOrInitial()
	return rtt + max(4*dev, rtt) + e.peerHold + e.cfg.MinResendDelay
}

// timeThreshold is RFC 9002's loss delay: a packet sent this long before
// one the peer acknowledged is lost.
func (e *Endpoint) timeThreshold() time.Duration {
	rtt, _ := e.rttOrInitial()
	rtt = max(rtt, e.rtt.latest)
	return max(rtt+rtt/8, timerGranularity)
}

// detectLosses declares lost every ack-eliciting packet that the peer
// acknowledged a later packet past the packet or time threshold of, and
// every one that has waited longer than the loss delay. The reliable
// fragments whose newest copy such a packet carried are resent by the next
// Flush.
func (e *Endpoint) detectLosses(at time.Duration) {
	statsDelay, timeDelay := e.lossDelay(), e.timeThreshold()
	for ; e.lossFrom != e.nextSeq; e.lossFrom++ {
		rec := e.sent.Find(e.lossFrom)
		if rec == nil || rec.decided {
			continue
		}
		// Both tests fail for every later packet once they fail for this
		// one: later packets are younger and closer to the largest acked.
		age := at - rec.sentAt
		if e.hasLargestAcked && e.largestAcked.Newer(e.lossFrom) {
			if byCount := e.largestAcked.Diff(e.lossFrom) >= e.pktThreshold; byCount || age >= timeDelay {
				e.markLost(e.lossFrom, rec, byCount)
				continue
			}
		}
		if age < statsDelay {
			return
		}
		e.markLost(e.lossFrom, rec, false)
	}
}

// decideEvicted decides the packet that seq is about to push out of the
// sent-packet buffer, should it still be undecided.
func (e *Endpoint) decideEvicted(seq seqNum) {
	for seq.Diff(e.lossFrom) >= e.sent.Len() {
		if rec := e.sent.Find(e.lossFrom); rec != nil && !rec.decided {
			e.markLost(e.lossFrom, rec, false)
		}
		e.lossFrom++
	}
}

// markLost records packet seq as lost and schedules the reliable fragments
// it carried for resending, unless they have been acknowledged since or a
// newer packet carries them.
func (e *Endpoint) markLost(seq seqNum, rec *sentPacket, byCount bool) {
	rec.decided, rec.lostByCount = true, byCount
	rec.lossIndex = e.loss.record(true)
	e.stats.PacketsLost++
	if e.mtu.probing && seq == e.mtu.probeSeq {
		e.stats.MTUProbesLost++
	}
	e.mtu.lost(seq, int(rec.size), e.now, e.resendDelay())
	if e.sb != nil && e.sb.cc {
		e.sb.onLoss()
	}
	for i := range uint32(rec.refCount) {
		r := e.sentRefs.at(rec.refStart + i)
		c := e.sendChannels[r.channel]
		if !c.kind.Reliable() {
			continue
		}
		m := c.slot(r.id)
		if m.id != r.id || m.unacked == 0 {
			continue
		}
		if s := &m.frags[r.fragment]; !s.acked && s.seq == seq {
			s.due = true
		}
	}
}
