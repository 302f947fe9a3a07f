package endpoint

import "time"

// resendDelay is how long a reliable fragment waits for an ack before it is
// sent again whatever the acks of later packets say: 1.25 × RTT plus the
// time the peer has been holding its acks, never less than MinResendDelay.
// Ack-based loss detection usually resends sooner; this is the fallback.
func (e *Endpoint) resendDelay() time.Duration {
	rtt, _ := e.rttOrInitial()
	return max(rtt+rtt/4+e.peerHold, e.cfg.MinResendDelay)
}

// probeTimeout is RFC 9002's PTO: how long after the newest ack-eliciting
// packet left, or the newest ack arrived, the endpoint waits before probing
// with the oldest unacknowledged reliable fragment. It doubles with every
// probe that no ack answers.
func (e *Endpoint) probeTimeout() time.Duration {
	rtt, dev := e.rttOrInitial()
	return (rtt + max(4*dev, timerGranularity) + e.peerHold) << e.ptoCount
}

// Flush builds the packets that should leave now and calls emit once for
// each: reliable messages due for resend (their packet was declared lost,
// or no ack came within the resend delay), then queued messages of every
// channel, several to a packet up to MaxPacketSize, then copies of
// unacknowledged small reliable messages in the room left in the last
// packet. With nothing else to send it emits a header-only packet when an
// ack is owed and Config.AckDelay has passed (or 4 packets are owed). The
// slice passed to emit is only valid during the call; emit must copy or
// send it before returning, and must not call methods of e.
func (e *Endpoint) Flush(now time.Time, emit func(packet []byte)) {
	at := e.clock(now)
	e.detectLosses(at)
	if s := e.cfg.Scratch; s != nil && !s.busy {
		s.busy = true
		e.pkt, e.refs = s.pkt, s.refs
		defer e.giveScratch(s)
	}
	e.emit, e.emitted, e.eliciting, e.mayCopy = emit, 0, false, false
	e.flushFirst = e.nextSeq
	e.budget = -1
	if e.cfg.MaxFlushBytes > 0 {
		e.budget = e.cfg.MaxFlushBytes
	}
	e.limited = false
	if e.sb != nil {
		if e.sb != nil && e.sb.cc {
			e.sb.update(at, e.rtt.smoothed)
		}
		e.sb.refill(at)
		if a := e.sb.allowance(); e.budget < 0 || a < e.budget {
			e.budget = a
		}
	}
	e.pktAck = e.ackHeader(at)
	e.keepFor = 2 * e.lossDelay()
	probed := false
	if e.sb != nil && e.sb.probeOwed && e.budget != 0 {
		// A ping alone: its RTT measures the link's queue (see
		// sendBudget). Data waits for the next Flush, so that the
		// ping's ack is the newest the peer sends back and gives the
		// RTT sample; acks owed ride on the ping.
		e.openPacket(2, at)
		e.pkt = append(e.pkt, pingFrame, pingFrame) // two: a probe, acked at once
		e.eliciting = true
		e.closePacket(at)
		e.budget, probed = 0, true
	}
	delay := e.resendDelay()
	e.probe(at, delay)

	for ch, c := range e.sendChannels {
		if c.kind.Reliable() {
			e.flushReliable(at, ch, c, delay)
		}
	}
	for _, ch := range e.unreliableBy {
		e.flushUnreliable(at, ch, e.sendChannels[ch])
	}
	if e.pingOwed && !e.eliciting && e.openPacket(1, at) {
		e.pkt = append(e.pkt, pingFrame)
		e.eliciting = true
	}
	if !e.pktOpen && e.emitted == 0 && e.ackDue(at) {
		e.budget = -1 // acks are never held back
		e.openPacket(0, at)
	}
	if e.pktOpen {
		if e.mayCopy {
			e.addCopies(at)
		}
		e.closePacket(at)
	}
	if size := e.mtu.due(at); size > 0 && e.budget != 0 {
		e.sendMTUProbe(at, size)
	}
	if e.emitted > 0 { // every packet carries the acks
		e.acksOwed, e.urgentOwed = 0, 0
		e.ackDelayOwed = false
	}
	if e.limited && !probed {
		e.stats.FlushesLimited++
		if e.sb != nil {
			e.sb.ivLimited = true
		}
	}
	e.pingOwed, e.emit = false, nil
}

// giveScratch hands the buffers Flush built in back to s, grown if they
// grew. Deferred, so that a panicking emit function does not leave s busy.
func (e *Endpoint) giveScratch(s *Scratch) {
	s.pkt, s.refs = e.pkt[:0], e.refs[:0]
	e.pkt, e.refs = nil, nil
	s.busy = false
}

// probe fires the probe timeout: when reliable data is unacknowledged and
// no ack has come for a probe timeout since the newest ack-eliciting packet
// left, the oldest unacknowledged fragment is resent now, so that the ack
// of the probe reveals which of the packets before it were lost (RFC 9002
// section 6.2, for a tail of packets that nothing later acknowledges).
func (e *Endpoint) probe(at, delay time.Duration) {
	if at-max(e.lastEliciting, e.lastAckAt) < e.probeTimeout() {
		return
	}
	var oldest *fragState
	for _, c := range e.sendChannels {
		if !c.kind.Reliable() {
			continue
		}
	search:
		for id := c.oldest; id != c.unsent; id++ {
			m := c.slot(id)
			if m.unacked == 0 {
				continue
			}
			for f := range m.frags {
				if s := &m.frags[f]; !s.acked {
					if oldest == nil || s.sentAt < oldest.sentAt {
						oldest = s
					}
					break search
				}
			}
		}
	}
	if oldest == nil {
		return
	}
	e.ptoCount = min(e.ptoCount+1, maxProbeBackoff)
	if !oldest.due && at-oldest.sentAt < delay {
		oldest.due = true
		e.stats.ProbesSent++
	}
}

func (e *Endpoint) flushReliable(at time.Duration, ch int, c *sendChannel, delay time.Duration) {
	c.copyEnd = c.unsent
	if c.redundancy > 0 && c.oldest != c.copyEnd {
		e.mayCopy = true
	}
	for id := c.oldest; id != c.unsent; id++ {
		m := c.slot(id)
		if m.unacked == 0 {
			continue
		}
		for f := range m.frags {
			s := &m.frags[f]
			if s.acked || !s.due && at-s.sentAt < delay {
				continue
			}
			if !e.writeFragment(at, ch, m, f) {
				return
			}
			*s = fragState{sentAt: at, seq: e.nextSeq}
			e.stats.MessagesResent++
		}
	}
	for ; c.unsent != c.nextID; c.unsent++ {
		m := c.slot(c.unsent)
		for ; m.next < m.count; m.next++ {
			if !e.writeFragment(at, ch, m, int(m.next)) {
				return // the rest of m goes out with a later Flush
			}
			m.frags[m.next] = fragState{sentAt: at, seq: e.nextSeq}
		}
		e.stats.MessagesSent++
	}
}

// addCopies fills the room left in the open packet with copies of small
// reliable messages that are unacknowledged, were not sent by this Flush
// and have copies left, oldest first: the message an ordered channel is
// waiting for is the oldest. It never opens a packet.
func (e *Endpoint) addCopies(at time.Duration) {
	for ch, c := range e.sendChannels {
		if c.redundancy == 0 {
			continue
		}
		for id := c.oldest; id != c.copyEnd; id++ { // messages new in this Flush get no copy
			room := e.mtu.size - len(e.pkt)
			if room < wholeFrameLen(0) {
				return
			}
			m := c.slot(id)
			if m.unacked == 0 || m.count != 1 || len(m.data) > c.copyMax {
				continue
			}
			s := &m.frags[0]
			if s.due || int(s.copies) >= c.redundancy || s.seq.Diff(e.flushFirst) >= 0 || wholeFrameLen(len(m.data)) > room {
				continue
			}
			e.pkt = appendWholeFrame(e.pkt, ch, m.id, m.data)
			e.refs = append(e.refs, msgRef{channel: uint8(ch), id: m.id})
			e.eliciting = true
			s.sentAt, s.seq = at, e.nextSeq
			s.copies++
			e.stats.MessagesRedundant++
		}
	}
}

func (e *Endpoint) flushUnreliable(at time.Duration, ch int, c *sendChannel) {
	if e.sb != nil {
		// Shed what waited too long for the budget: stale state is not
		// worth its bytes, and the queue stays short.
		for ; c.oldest != c.nextID; c.oldest++ {
			m := c.slot(c.oldest)
			if m.next > 0 || at-m.sentAt <= e.cfg.MaxUnreliableWait {
				break // one begun is finished: its fragments are worth nothing alone
			}
			c.release(m, &e.sendBufs)
			m.tracking = false
			e.stats.MessagesShed++
		}
	}
	for ; c.oldest != c.nextID; c.oldest++ {
		m := c.slot(c.oldest)
		if c.kind == UnreliableSequenced && m.next == 0 && c.oldest+1 != c.nextID {
			c.release(m, &e.sendBufs) // a newer state is queued behind it
			m.tracking = false
			e.stats.MessagesSuperseded++
			continue
		}
		for ; m.next < m.count; m.next++ {
			if !e.writeFragment(at, ch, m, int(m.next)) {
				c.unsent = c.oldest
				return
			}
		}
		m.sentAt, m.seq = at, e.nextSeq
		c.release(m, &e.sendBufs)
		e.stats.MessagesSent++
	}
	c.unsent = c.oldest
}

// writeFragment adds fragment f of m (or all of m when it is whole) to the
// packet being built, starting a new packet when it does not fit. It
// reports false when the Flush budget allows no new packet. Afterwards
// e.nextSeq is the sequence number of the packet that holds it.
func (e *Endpoint) writeFragment(at time.Duration, ch int, m *sendMessage, f int) bool {
	payload := m.fragment(f)
	if m.count == 1 {
		if !e.openPacket(wholeFrameLen(len(payload)), at) {
			return false
		}
		e.pkt = appendWholeFrame(e.pkt, ch, m.id, payload)
	} else {
		if !e.openPacket(fragmentFrameLen(f, int(m.count), len(m.data), len(payload)), at) {
			return false
		}
		e.pkt = appendFragmentFrame(e.pkt, ch, m.id, f, int(m.count), len(m.data), payload)
	}
	e.refs = append(e.refs, msgRef{channel: uint8(ch), id: m.id, fragment: uint16(f)})
	e.eliciting = true
	return true
}

// openPacket makes sure a packet with room for need more bytes is open. It
// reports false when that needs a new packet and the budget is spent.
func (e *Endpoint) openPacket(need int, at time.Duration) bool {
	if e.pktOpen && len(e.pkt)+need > e.mtu.size {
		e.closePacket(at)
	}
	if !e.pktOpen {
		if e.budget == 0 {
			e.limited = true
			return false
		}
		h := e.pktAck
		h.Seq = e.nextSeq
		e.pkt = h.Append(e.pkt[:0])
		e.pktOpen = true
	}
	return true
}

// closePacket records the open packet and hands it to emit.
func (e *Endpoint) closePacket(at time.Duration) {
	rec := e.recordSent(e.nextSeq, at)
	rec.sentAt, rec.size = at, uint16(len(e.pkt))
	rec.ackEliciting = len(e.refs) > 0 || len(e.pkt) > e.pktAck.Len()
	rec.acked, rec.decided, rec.lostByCount = false, !rec.ackEliciting, false
	rec.refStart, rec.refCount = e.sentRefs.push(e.refs), uint16(len(e.refs))
	e.refs = e.refs[:0]
	if rec.ackEliciting {
		e.lastEliciting = at
	}
	e.nextSeq++
	e.stats.PacketsSent++
	e.sentRate.add(at, len(e.pkt))
	if e.budget > 0 {
		e.budget = max(e.budget-len(e.pkt), 0)
	}
	if e.sb != nil {
		e.sb.spend(len(e.pkt))
		if rec.ackEliciting && len(e.pkt) <= smallPacket {
			e.sb.probeOwed = false // its RTT samples the queue
		}
	}
	e.pktOpen = false
	e.emitted++
	e.emit(e.pkt)
}

// sendMTUProbe emits a path MTU probe of size bytes: a ping and padding,
// alone in its packet, so that its loss costs no message.
func (e *Endpoint) sendMTUProbe(at time.Duration, size int) {
	h := e.pktAck
	h.Seq = e.nextSeq
	e.pkt = h.Append(e.pkt[:0])
	e.pkt = append(e.pkt, pingFrame, padFrame)
	for len(e.pkt) < size {
		e.pkt = append(e.pkt, 0)
	}
	e.pktOpen = true
	e.eliciting = true
	e.mtu.sent(e.nextSeq, len(e.pkt))
	e.stats.MTUProbes++
	e.closePacket(at)
}

// ackDue reports whether the acks owed must leave now in a packet of
// their own (see Config.AckDelay): those of reliable data or a ping once
// the oldest is AckDelay old or ackDelayPackets are owed, and those of
// packets that carried only unreliable data (whose loss nothing resends)
// once the oldest is twice AckDelay old or ackDelayAnyPackets are owed.
func (e *Endpoint) ackDue(at time.Duration) bool {
	if e.acksOwed == 0 {
		return false
	}
	if e.urgentOwed > 0 && (at-e.urgentOwedSince >= e.cfg.AckDelay || e.urgentOwed >= ackDelayPackets) {
		return true
	}
	return at-e.ackOwedSince >= 2*e.cfg.AckDelay || e.acksOwed >= ackDelayAnyPackets
}
