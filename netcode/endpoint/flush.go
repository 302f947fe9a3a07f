package endpoint

import "time"

// resendDelay is how long a reliable fragment waits for an ack before it is
// sent again: 1.25 × RTT, never less than MinResendDelay.
func (e *Endpoint) resendDelay() time.Duration {
	rtt := e.cfg.InitialRTT
	if e.rtt.sampled {
		rtt = e.rtt.smoothed
	}
	return max(rtt+rtt/4, e.cfg.MinResendDelay)
}

// Flush builds the packets that should leave now and calls emit once for
// each: reliable messages due for resend, then queued messages of every
// channel, several to a packet up to MaxPacketSize, and a header-only
// packet when an ack is owed, nothing else is going out and Config.AckDelay
// has passed (or too many packets are owed). The slice passed
// to emit is only valid during the call; emit must copy or send it before
// returning, and must not call methods of e.
func (e *Endpoint) Flush(now time.Time, emit func(packet []byte)) {
	at := e.clock(now)
	e.decideLosses(at)
	e.emit, e.emitted, e.eliciting = emit, 0, false
	e.budget = -1
	if e.cfg.MaxFlushBytes > 0 {
		e.budget = e.cfg.MaxFlushBytes
	}
	e.pktAck = e.ackHeader()
	delay := e.resendDelay()

	for ch, c := range e.sendChannels {
		if c.kind.Reliable() {
			e.flushReliable(at, ch, c, delay)
		}
	}
	for ch, c := range e.sendChannels {
		if !c.kind.Reliable() {
			e.flushUnreliable(at, ch, c)
		}
	}
	if e.pingOwed && !e.eliciting && e.openPacket(1, at) {
		e.pkt = append(e.pkt, pingFrame)
		e.eliciting = true
	}
	if e.pktOpen {
		e.closePacket(at)
	}
	if e.emitted == 0 && e.acksOwed > 0 && (at-e.ackOwedSince >= e.cfg.AckDelay || e.acksOwed >= ackDelayPackets) {
		e.budget = -1 // acks are never held back
		e.openPacket(0, at)
		e.closePacket(at)
	}
	if e.emitted > 0 { // every packet carries the acks
		e.acksOwed = 0
	}
	e.pingOwed, e.emit = false, nil
}

func (e *Endpoint) flushReliable(at time.Duration, ch int, c *sendChannel, delay time.Duration) {
	for id := c.oldest; id != c.unsent; id++ {
		m := c.slot(id)
		if m.unacked == 0 {
			continue
		}
		for f := range m.count {
			if !m.acked[f] && at-m.sentAt[f] >= delay {
				if !e.writeFragment(at, ch, m, f) {
					return
				}
				m.sentAt[f] = at
				e.stats.MessagesResent++
			}
		}
	}
	for ; c.unsent != c.nextID; c.unsent++ {
		m := c.slot(c.unsent)
		for ; m.next < m.count; m.next++ {
			if !e.writeFragment(at, ch, m, m.next) {
				return // the rest of m goes out with a later Flush
			}
			m.sentAt[m.next] = at
		}
		e.stats.MessagesSent++
	}
}

func (e *Endpoint) flushUnreliable(at time.Duration, ch int, c *sendChannel) {
	for ; c.oldest != c.nextID; c.oldest++ {
		m := c.slot(c.oldest)
		if c.kind == UnreliableSequenced && m.next == 0 && c.oldest+1 != c.nextID {
			c.release(m, &e.sendBufs) // a newer state is queued behind it
			m.tracking = false
			e.stats.MessagesSuperseded++
			continue
		}
		for ; m.next < m.count; m.next++ {
			if !e.writeFragment(at, ch, m, m.next) {
				c.unsent = c.oldest
				return
			}
		}
		c.release(m, &e.sendBufs)
		e.stats.MessagesSent++
	}
	c.unsent = c.oldest
}

// writeFragment adds fragment f of m (or all of m when it is whole) to the
// packet being built, starting a new packet when it does not fit. It
// reports false when the Flush budget allows no new packet.
func (e *Endpoint) writeFragment(at time.Duration, ch int, m *sendMessage, f int) bool {
	payload := m.fragment(f)
	if m.count == 1 {
		if !e.openPacket(wholeFrameLen(len(payload)), at) {
			return false
		}
		e.pkt = appendWholeFrame(e.pkt, ch, m.id, payload)
	} else {
		if !e.openPacket(fragmentFrameLen(f, m.count, len(m.data), len(payload)), at) {
			return false
		}
		e.pkt = appendFragmentFrame(e.pkt, ch, m.id, f, m.count, len(m.data), payload)
	}
	e.refs = append(e.refs, msgRef{channel: uint8(ch), id: m.id, fragment: uint16(f)})
	e.eliciting = true
	return true
}

// openPacket makes sure a packet with room for need more bytes is open. It
// reports false when that needs a new packet and the budget is spent.
func (e *Endpoint) openPacket(need int, at time.Duration) bool {
	if e.pktOpen && len(e.pkt)+need > e.cfg.MaxPacketSize {
		e.closePacket(at)
	}
	if !e.pktOpen {
		if e.budget == 0 {
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
	seq := e.nextSeq
	e.decideEvicted(seq)
	rec := e.sent.Insert(seq)
	rec.sentAt, rec.size = at, len(e.pkt)
	rec.ackEliciting = len(e.refs) > 0 || len(e.pkt) > e.pktAck.Len()
	rec.acked, rec.decided = false, !rec.ackEliciting
	rec.refs = append(rec.refs[:0], e.refs...)
	e.refs = e.refs[:0]
	e.nextSeq++
	e.stats.PacketsSent++
	e.sentRate.add(at, len(e.pkt))
	if e.budget > 0 {
		e.budget = max(e.budget-len(e.pkt), 0)
	}
	e.pktOpen = false
	e.emitted++
	e.emit(e.pkt)
}
