package netcode

import (
	"fmt"
	"math/bits"
	"time"
)

// Endpoint is one side of a reliability session with a single peer. It turns
// messages into packets and packets back into messages, acknowledges what it
// receives, resends reliable messages that were not acknowledged, and keeps
// round-trip, loss and bandwidth statistics.
//
// An Endpoint does no I/O and reads no clock: the caller passes every packet
// in through Receive, takes every packet out through Flush, and supplies the
// current time to both. It is not safe for concurrent use; one goroutine
// drives it (typically once per game tick: Receive what arrived, Send, Flush).
type Endpoint struct {
	cfg          Config
	epoch        time.Time
	now          time.Duration // newest time seen, relative to epoch
	wholeMax     int           // largest message sent in one frame
	fragMax      int           // largest fragment payload
	keepCap      int           // buffers above this capacity are not kept for reuse
	sendChannels []*sendChannel
	recvChannels []*recvChannel
	onAck        func(channel int, id MessageID)
	codec        Codec

	// Send side.
	nextSeq   Seq
	sent      *SequenceBuffer[sentPacket]
	lossFrom  Seq // oldest sent packet whose loss outcome is undecided
	pkt       []byte
	pktOpen   bool
	pktAck    Header // ack fields of packets built by the current Flush
	refs      []msgRef
	emit      func([]byte)
	pingOwed  bool
	emitted   int // packets emitted by the current Flush
	budget    int // bytes the current Flush may still open packets for; <0 unlimited
	eliciting bool

	// Receive side.
	received       *SequenceBuffer[receivedPacket]
	newestAccepted Seq
	acceptedBits   uint32 // bit i: newestAccepted-1-i was accepted
	hasAccepted    bool
	peerAck        Header // union of the acks applied so far with the newest Ack
	ackOwed        bool
	partials       []partial
	nPartials      int
	reassembly     int // bytes charged against MaxReassemblyBytes

	rtt      rttEstimator
	loss     lossWindow
	sentRate rateMeter
	recvRate rateMeter
	ackRate  rateMeter
	stats    Stats
}

// sentPacket records a packet this endpoint sent.
type sentPacket struct {
	sentAt       time.Duration
	size         int
	ackEliciting bool // carried messages or a ping, so the peer will ack it
	acked        bool
	decided      bool   // its loss outcome is recorded
	lossIndex    uint64 // where, if it was recorded lost
	refs         []msgRef
}

// msgRef names a message fragment carried by a sent packet.
type msgRef struct {
	channel  uint8
	id       MessageID
	fragment uint16
}

// receivedPacket records a packet received from the peer.
type receivedPacket struct {
	// accepted is false when the packet carried reliable data this endpoint
	// could not store; it is then not acknowledged, so the peer resends.
	accepted bool
}

const (
	sentPacketWindow     = 1024
	receivedPacketWindow = 256
)

// NewEndpoint returns an Endpoint for cfg, whose zero fields take their
// defaults. now is the time of creation; later calls must not pass earlier
// times (an earlier time is treated as the newest time seen).
func NewEndpoint(cfg Config, now time.Time) (*Endpoint, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Endpoint{
		cfg:      cfg,
		epoch:    now,
		wholeMax: wholePayload(cfg.MaxPacketSize),
		fragMax:  fragmentPayload(cfg.MaxPacketSize),
		keepCap:  2 * cfg.MaxPacketSize,
		sent:     NewSequenceBuffer[sentPacket](sentPacketWindow),
		received: NewSequenceBuffer[receivedPacket](receivedPacketWindow),
		pkt:      make([]byte, 0, cfg.MaxPacketSize),
		partials: make([]partial, cfg.MaxPartialMessages),
	}
	for _, ch := range cfg.Channels {
		e.sendChannels = append(e.sendChannels, newSendChannel(ch))
		e.recvChannels = append(e.recvChannels, newRecvChannel(ch))
	}
	return e, nil
}

// Config returns the endpoint's configuration with defaults filled in.
func (e *Endpoint) Config() Config { return e.cfg }

// SetAckHandler registers fn to be called during Receive when the peer has
// received every fragment of message id on channel. It is called for every
// channel kind; on unreliable channels only for messages whose packets were
// acknowledged while the channel still tracked them (its last
// MaxQueuedMessages ids or so). fn must not call methods of e.
func (e *Endpoint) SetAckHandler(fn func(channel int, id MessageID)) { e.onAck = fn }

// clock converts now to the endpoint's time line, which never goes back.
func (e *Endpoint) clock(now time.Time) time.Duration {
	if at := now.Sub(e.epoch); at > e.now {
		e.now = at
	}
	return e.now
}

// Send copies msg and queues it on channel, returning the id it will carry.
// The message leaves with the next Flush. Send never blocks: it returns
// ErrSendQueueFull when the channel holds its MaxQueuedMessages or
// MaxQueuedBytes, ErrMessageTooLarge when msg exceeds MaxMessageSize, and
// ErrUnknownChannel for a channel not in the Config.
func (e *Endpoint) Send(channel int, msg []byte) (MessageID, error) {
	if channel < 0 || channel >= len(e.sendChannels) {
		return 0, fmt.Errorf("%w: %d (have %d channels)", ErrUnknownChannel, channel, len(e.sendChannels))
	}
	if len(msg) > e.cfg.MaxMessageSize {
		return 0, fmt.Errorf("%w: %d bytes, MaxMessageSize is %d", ErrMessageTooLarge, len(msg), e.cfg.MaxMessageSize)
	}
	c := e.sendChannels[channel]
	if c.queued() >= c.limit || (c.bytes > 0 && c.bytes+len(msg) > c.maxBytes) {
		return 0, ErrSendQueueFull
	}
	id := c.nextID
	m := c.slot(id)
	m.id = id
	m.data = append(reuseBuffer(m.data, e.keepCap), msg...)
	m.count, m.fragSize = 1, len(msg)
	if len(msg) > e.wholeMax {
		m.count = fragmentCount(len(msg), e.fragMax)
		m.fragSize = fragmentSize(len(msg), m.count)
	}
	m.next, m.unacked, m.tracking = 0, m.count, true
	if c.kind.Reliable() {
		m.sentAt = resize(m.sentAt, m.count)
		m.acked = resize(m.acked, m.count)
		clear(m.acked)
	}
	c.bytes += len(msg)
	c.nextID++
	return id, nil
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Ping makes the next Flush emit at least one packet that the peer will
// acknowledge, even with nothing queued: a keepalive that also refreshes the
// RTT estimate.
func (e *Endpoint) Ping() { e.pingOwed = true }

// resendDelay is how long a reliable fragment waits for an ack before it is
// sent again: 1.25 × RTT, never less than MinResendDelay.
func (e *Endpoint) resendDelay() time.Duration {
	rtt := e.cfg.InitialRTT
	if e.rtt.sampled {
		rtt = e.rtt.smoothed
	}
	return max(rtt+rtt/4, e.cfg.MinResendDelay)
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

// Flush builds the packets that should leave now and calls emit once for
// each: reliable messages due for resend, then queued messages of every
// channel, several to a packet up to MaxPacketSize, and a header-only
// packet when an ack is owed and nothing else is going out. The slice passed
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
	if e.emitted == 0 && e.ackOwed {
		e.budget = -1 // acks are never held back
		e.openPacket(0, at)
		e.closePacket(at)
	}
	e.pingOwed, e.ackOwed, e.emit = false, false, nil
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
			c.release(m, e.keepCap) // a newer state is queued behind it
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
		c.release(m, e.keepCap)
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

// ackHeader returns a header acknowledging what has been received.
func (e *Endpoint) ackHeader() Header {
	if !e.hasAccepted {
		return Header{}
	}
	return Header{Ack: e.newestAccepted, AckBits: e.acceptedBits, HasAck: true}
}

// noteAccepted adds seq to the acknowledgements the next header carries.
func (e *Endpoint) noteAccepted(seq Seq) {
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
func (e *Endpoint) decideEvicted(seq Seq) {
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
	if len(packet) > e.cfg.MaxPacketSize {
		e.stats.PacketsMalformed++
		return errPacketTooLarge
	}
	h, n, err := ParseHeader(packet)
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
	rec := e.received.Insert(h.Seq)
	if rec == nil {
		e.stats.PacketsStale++
		return ErrStalePacket
	}
	rec.accepted = false
	e.stats.PacketsReceived++
	e.recvRate.add(at, len(packet))
	if h.HasAck {
		e.applyAcks(at, h)
	}
	e.expirePartials(at)

	accepted := true
	for len(body) > 0 {
		f, k, _ := parseFrame(body, e.cfg.MaxMessageSize) // validated above
		body = body[k:]
		if !f.ping && !e.receiveFrame(at, &f) {
			accepted = false
		}
	}
	if !accepted {
		return nil
	}
	rec.accepted = true
	e.noteAccepted(h.Seq)
	if len(packet) > n {
		e.ackOwed = true
	}
	return nil
}

func (e *Endpoint) validateFrames(body []byte) error {
	for len(body) > 0 {
		f, k, err := parseFrame(body, e.cfg.MaxMessageSize)
		if err != nil {
			return err
		}
		if !f.ping && f.channel >= len(e.recvChannels) {
			return errFrameChannel
		}
		body = body[k:]
	}
	return nil
}

// applyAcks marks every sent packet that h acknowledges. Bits that an
// earlier header already reported are skipped: on a steady stream each
// header adds one or two acks to the 33 it repeats.
func (e *Endpoint) applyAcks(at time.Duration, h Header) {
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
		e.ackPacket(at, h.Ack-1-Seq(i), false)
	}
	e.ackPacket(at, h.Ack, true)
}

func (e *Endpoint) ackPacket(at time.Duration, seq Seq, newest bool) {
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
		c.release(m, e.keepCap)
		for c.oldest != c.unsent && c.slot(c.oldest).unacked == 0 {
			c.oldest++
		}
	}
	if e.onAck != nil {
		e.onAck(ch, id)
	}
}

// ReadMessage returns the next message delivered on channel, and false when
// there is none. msg is valid until the next call of any method of e.
func (e *Endpoint) ReadMessage(channel int) (msg []byte, ok bool) {
	if channel < 0 || channel >= len(e.recvChannels) {
		return nil, false
	}
	c := e.recvChannels[channel]
	switch c.kind {
	case ReliableOrdered:
		s := c.slot(c.base)
		if s.state != slotComplete || s.id != c.base {
			return nil, false
		}
		s.state = slotEmpty
		c.base++
		msg = e.releaseSlot(s)
	case ReliableUnordered:
		if c.readyLen == 0 {
			return nil, false
		}
		id := c.ready[c.readyHead]
		c.readyHead, c.readyLen = (c.readyHead+1)%len(c.ready), c.readyLen-1
		s := c.slot(id)
		s.state = slotDelivered
		msg = e.releaseSlot(s)
		for s := c.slot(c.base); s.state == slotDelivered && s.id == c.base; s = c.slot(c.base) {
			s.state = slotEmpty
			c.base++
		}
	default:
		if c.pending == 0 {
			return nil, false
		}
		q := &c.queue[c.head]
		c.head, c.pending = (c.head+1)%len(c.queue), c.pending-1
		e.reassembly -= q.reserved
		q.reserved = 0
		msg = q.data
	}
	e.stats.MessagesDelivered++
	return msg, true
}

func (e *Endpoint) releaseSlot(s *recvSlot) []byte {
	e.reassembly -= s.reserved
	s.reserved = 0
	return s.data
}

// Stats returns the endpoint's statistics as of the newest time it was given.
func (e *Endpoint) Stats() Stats {
	s := e.stats
	if e.rtt.sampled {
		s.RTT, s.RTTVar, s.MinRTT = e.rtt.smoothed, e.rtt.variance, e.rtt.min
	}
	s.PacketLoss = e.loss.rate()
	s.SentKbps = e.sentRate.kbps(e.now)
	s.ReceivedKbps = e.recvRate.kbps(e.now)
	s.AckedKbps = e.ackRate.kbps(e.now)
	return s
}
