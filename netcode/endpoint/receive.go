package endpoint

import "time"

// Receive processes one packet from the peer, as produced by the peer's
// Flush: it applies the acknowledgements it carries, updates the statistics
// and stores its messages for ReadMessage.
//
// A packet that does not decode is dropped, counted in PacketsMalformed, and
// reported with an error wrapping ErrMalformedPacket; nothing of it is
// applied. A packet received before returns ErrDuplicatePacket and one too
// old to track returns ErrStalePacket; both are dropped and counted. These
// errors are informational: the endpoint stays usable. Receive never panics
// and its memory stays within the Config bounds whatever packet arrives.
func (e *Endpoint) Receive(now time.Time, packet []byte) error {
	at := e.clock(now)
	if len(packet) > max(e.cfg.MaxPacketSize, e.cfg.MaxPathMTU) {
		e.stats.PacketsMalformed++
		return errPacketTooLarge
	}
	h, n, err := parseHeader(packet)
	if err != nil {
		e.stats.PacketsMalformed++
		return err
	}
	body := packet[n:]
	if err := e.validateFrames(body); err != nil {
		e.stats.PacketsMalformed++
		return err
	}
	if e.received.Exists(h.Seq) {
		e.stats.PacketsDuplicate++
		return ErrDuplicatePacket
	}
	if !e.received.Insert(h.Seq) {
		e.stats.PacketsStale++
		return ErrStalePacket
	}
	e.stats.PacketsReceived++
	e.recvRate.add(at, len(packet))
	if h.HasAck {
		e.applyAcks(at, h)
	}
	e.expirePartials(at)

	accepted, urgent := true, false
	for len(body) > 0 {
		f, k, _ := parseFrame(body, e.cfg.MaxMessageSize) // validated above
		body = body[k:]
		switch {
		case f.pad:
		case f.ping:
			urgent = true
		default:
			urgent = urgent || e.recvChannels[f.channel].kind.Reliable()
			if !e.receiveFrame(at, &f) {
				accepted = false
			}
		}
	}
	if !accepted {
		// Reliable data this endpoint could not store: leave the packet
		// unacknowledged so the peer sends that data again.
		return nil
	}
	e.noteAccepted(h.Seq, at)
	if len(packet) > n {
		if e.acksOwed == 0 {
			e.ackOwedSince = at
		}
		e.acksOwed++
		if urgent { // reliable data or a ping: see Config.AckDelay
			if e.urgentOwed == 0 {
				e.urgentOwedSince = at
			}
			e.urgentOwed++
		}
		if len(packet) == n+2 && packet[n] == pingFrame && packet[n+1] == pingFrame {
			// A queue probe (two pings alone) measures the RTT (see
			// Config.AckDelay): its ack leaves with the next Flush.
			e.urgentOwed = max(e.urgentOwed, ackDelayPackets)
		}
	}
	return nil
}

func (e *Endpoint) validateFrames(body []byte) error {
	for len(body) > 0 {
		f, k, err := parseFrame(body, e.cfg.MaxMessageSize)
		if err != nil {
			return err
		}
		if !f.ping && !f.pad && f.channel >= len(e.recvChannels) {
			return errFrameChannel
		}
		body = body[k:]
	}
	return nil
}

// receiveFrame stores one message or fragment. It returns false when the
// frame carried reliable data that could not be stored, so the packet must
// not be acknowledged and the peer will send it again.
func (e *Endpoint) receiveFrame(at time.Duration, f *frame) bool {
	e.mayRead.add(f.channel)
	c := e.recvChannels[f.channel]
	c.ensure()
	if c.kind.Reliable() {
		return e.receiveReliable(at, c, f)
	}
	e.receiveUnreliable(at, c, f)
	return true
}

func (e *Endpoint) receiveReliable(at time.Duration, c *recvChannel, f *frame) bool {
	ahead := f.id.Diff(c.base)
	if ahead < 0 {
		e.stats.MessagesDuplicate++
		return true
	}
	if ahead >= c.window {
		e.stats.DroppedOutsideWindow++
		return false
	}
	c.cover(ahead)
	s := c.slot(f.id)
	if s.state != slotEmpty {
		if s.state != slotPartial || !f.fragmented {
			e.stats.MessagesDuplicate++
			return true
		}
		if !s.frag.matches(f) { // a partial slot has its frag
			e.stats.DroppedMalformed++
			return true
		}
		if s.frag.add(f) {
			e.completeReliable(c, s)
		}
		return true
	}
	s.id = f.id
	if !f.fragmented {
		s.data = append(e.recvBufs.take(s.data), f.payload...)
		s.state = slotComplete
		e.completeReliable(c, s)
		return true
	}
	// The message next in line is always admitted, so that memory held by
	// messages waiting behind it can never stall the channel.
	if e.reassembly+f.total > e.cfg.MaxReassemblyBytes && !(c.kind == ReliableOrdered && f.id == c.base) {
		e.stats.DroppedReassemblyFull++
		return false
	}
	e.reassembly += f.total
	s.reserved = int32(f.total)
	if s.frag == nil {
		s.frag = new(reassembly)
	}
	s.frag.start(f, at)
	s.frag.add(f)
	s.state = slotPartial
	e.completeReliable(c, s)
	return true
}

// completeReliable moves a slot whose message is whole to slotComplete.
func (e *Endpoint) completeReliable(c *recvChannel, s *recvSlot) {
	if s.state == slotPartial {
		if !s.frag.complete() {
			return
		}
		s.data = s.frag.take()
		s.state = slotComplete
	}
	if c.kind == ReliableUnordered {
		c.markReady(s.id)
	}
}

func (e *Endpoint) receiveUnreliable(at time.Duration, c *recvChannel, f *frame) {
	if c.kind == UnreliableSequenced && c.hasNewest && !f.id.Newer(c.newest) {
		e.stats.DroppedStale++
		return
	}
	if !f.fragmented {
		q, ok := e.enqueue(c, f.id)
		if ok {
			q.data = append(e.recvBufs.take(q.data), f.payload...)
		}
		return
	}
	p := e.findPartial(int(f.channel), f.id)
	if p == nil {
		if e.reassembly+f.total > e.cfg.MaxReassemblyBytes {
			e.stats.DroppedReassemblyFull++
			return
		}
		p = e.newPartial(f.channel, f.id)
		p.start(f, at)
		e.reassembly += f.total
	} else if !p.matches(f) {
		e.stats.DroppedMalformed++
		return
	}
	p.add(f)
	if !p.complete() {
		return
	}
	total := p.total
	data := p.take()
	p.active = false
	e.nPartials--
	q, ok := e.enqueue(c, f.id)
	if !ok {
		e.reassembly -= total
		return
	}
	q.data, q.reserved = data, total
}

// enqueue claims the next slot of an unreliable channel's delivery queue for
// message id, or counts a drop when the queue is full.
func (e *Endpoint) enqueue(c *recvChannel, id MessageID) (*queuedMessage, bool) {
	if c.pending == c.window {
		e.stats.DroppedQueueFull++
		return nil, false
	}
	if c.kind == UnreliableSequenced {
		if c.hasNewest && !id.Newer(c.newest) {
			e.stats.DroppedStale++ // a newer one completed while this was reassembled
			return nil, false
		}
		c.newest, c.hasNewest = id, true
	}
	if c.pending == len(c.queue) {
		c.queue = growQueue(c.queue, c.head, c.pending, c.window)
		c.head = 0
	}
	q := &c.queue[(c.head+c.pending)%len(c.queue)]
	c.pending++
	q.reserved = 0
	return q, true
}

func (e *Endpoint) findPartial(ch int, id MessageID) *partial {
	if e.nPartials == 0 {
		return nil
	}
	for i := range e.partials {
		if p := &e.partials[i]; p.active && p.channel == ch && p.id == id {
			return p
		}
	}
	return nil
}

// newPartial claims a free partial, adding one while fewer than
// MaxPartialMessages exist and evicting the oldest when all are busy.
func (e *Endpoint) newPartial(ch int, id MessageID) *partial {
	if e.nPartials == len(e.partials) && len(e.partials) < e.cfg.MaxPartialMessages {
		e.partials = append(e.partials, partial{})
	}
	var victim *partial
	for i := range e.partials {
		p := &e.partials[i]
		if !p.active {
			victim = p
			break
		}
		if victim == nil || p.started < victim.started {
			victim = p
		}
	}
	if victim.active {
		e.dropPartial(victim)
	}
	victim.active, victim.channel, victim.id = true, ch, id
	e.nPartials++
	return victim
}

func (e *Endpoint) dropPartial(p *partial) {
	e.reassembly -= p.total
	p.reset()
	p.active = false
	e.nPartials--
	e.stats.DroppedReassemblyStale++
}

// expirePartials drops unreliable partial messages older than ReassemblyTimeout.
func (e *Endpoint) expirePartials(at time.Duration) {
	if e.nPartials == 0 {
		return
	}
	for i := range e.partials {
		if p := &e.partials[i]; p.active && at-p.started > e.cfg.ReassemblyTimeout {
			e.dropPartial(p)
		}
	}
}
