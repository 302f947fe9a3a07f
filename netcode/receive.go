package netcode

import "time"

// receiveFrame stores one message or fragment. It returns false when the
// frame carried reliable data that could not be stored, so the packet must
// not be acknowledged and the peer will send it again.
func (e *Endpoint) receiveFrame(at time.Duration, f *frame) bool {
	c := e.recvChannels[f.channel]
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
	s := c.slot(f.id)
	if s.state != slotEmpty {
		if s.state != slotPartial || !f.fragmented {
			e.stats.MessagesDuplicate++
			return true
		}
		if !s.frag.matches(f) {
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
		s.data = append(reuseBuffer(s.data, e.keepCap), f.payload...)
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
	s.reserved = f.total
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
			q.data = append(reuseBuffer(q.data, e.keepCap), f.payload...)
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
	if c.pending == len(c.queue) {
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

// newPartial claims a free partial, evicting the oldest when all are busy.
func (e *Endpoint) newPartial(ch int, id MessageID) *partial {
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
