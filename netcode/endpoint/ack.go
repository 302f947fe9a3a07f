package endpoint

import (
	"math/bits"
	"time"
)

// Acknowledgements flow both ways in every packet header. On the receive
// side the endpoint keeps the newest packet accepted and a bitmap of the 32
// before it; on the send side it matches the peer's acks to its sent-packet
// records, which drives RTT, loss, the ack handler and reliable delivery.

// ackHeader returns a header acknowledging what has been received.
func (e *Endpoint) ackHeader() packetHeader {
	if !e.hasAccepted {
		return packetHeader{}
	}
	return packetHeader{Ack: e.newestAccepted, AckBits: e.acceptedBits, HasAck: true}
}

// noteAccepted adds seq to the acknowledgements the next header carries.
func (e *Endpoint) noteAccepted(seq seqNum) {
	if !e.hasAccepted {
		e.newestAccepted, e.acceptedBits, e.hasAccepted = seq, 0, true
		return
	}
	switch d := seq.Diff(e.newestAccepted); {
	case d > 0:
		e.acceptedBits = e.acceptedBits<<d | 1<<(d-1) // shifts of 32 or more give 0
		e.newestAccepted = seq
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
		e.ackPacket(at, h.Ack-1-seqNum(i), false)
	}
	e.ackPacket(at, h.Ack, true)
}

func (e *Endpoint) ackPacket(at time.Duration, seq seqNum, newest bool) {
	rec := e.sent.Find(seq)
	if rec == nil || rec.acked {
		return
	}
	rec.acked = true
	e.stats.PacketsAcked++
	e.ackRate.add(at, rec.size)
	if rec.ackEliciting {
		if newest {
			e.rtt.add(at - rec.sentAt)
		}
		if rec.decided {
			e.loss.unlose(rec.lossIndex) // a late ack: it was not lost after all
			e.stats.PacketsLost--
		} else {
			rec.decided = true
			e.loss.record(false)
		}
	}
	for _, r := range rec.refs {
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
		if m.acked[f] {
			return
		}
		m.acked[f] = true
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

// lossDelay is how long a packet may go unacknowledged before it counts as
// lost in the statistics.
func (e *Endpoint) lossDelay() time.Duration {
	rtt, dev := e.cfg.InitialRTT, e.cfg.InitialRTT/2
	if e.rtt.sampled {
		rtt, dev = e.rtt.smoothed, e.rtt.variance
	}
	return rtt + max(4*dev, rtt) + e.cfg.MinResendDelay
}

// decideLosses records as lost every ack-eliciting packet that has waited
// longer than the loss delay.
func (e *Endpoint) decideLosses(at time.Duration) {
	delay := e.lossDelay()
	for ; e.lossFrom != e.nextSeq; e.lossFrom++ {
		rec := e.sent.Find(e.lossFrom)
		if rec == nil || rec.decided {
			continue
		}
		if at-rec.sentAt < delay {
			return
		}
		e.markLost(rec)
	}
}

// decideEvicted decides the packet that seq is about to push out of the
// sent-packet buffer, should it still be undecided.
func (e *Endpoint) decideEvicted(seq seqNum) {
	for seq.Diff(e.lossFrom) >= e.sent.Len() {
		if rec := e.sent.Find(e.lossFrom); rec != nil && !rec.decided {
			e.markLost(rec)
		}
		e.lossFrom++
	}
}

func (e *Endpoint) markLost(rec *sentPacket) {
	rec.decided = true
	rec.lossIndex = e.loss.record(true)
	e.stats.PacketsLost++
}
