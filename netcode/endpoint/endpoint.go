package endpoint

import (
	"cmp"
	"fmt"
	"slices"
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
	sendBufs     bufPool       // buffers of sent messages, for Send
	recvBufs     bufPool       // buffers of received messages, for Receive
	sendChannels []*sendChannel
	recvChannels []*recvChannel
	unreliableBy []int       // ids of the unreliable channels, highest ChannelConfig.Priority first
	sb           *sendBudget // nil without Config.SendRate
	mtu          pathMTU
	onAck        func(channel int, id MessageID)
	codec        Codec

	// Send side.
	nextSeq    seqNum
	sent       *seqBuffer[sentPacket] // grows from initialSentRecords to sentPacketWindow; see growRecords
	sentRefs   refLog                 // the message references of the records in sent
	keepFor    time.Duration          // how long an unacknowledged sent record is worth a larger ring; see growRecords
	lossFrom   seqNum                 // oldest sent packet whose loss outcome is undecided
	pkt        []byte
	pktOpen    bool
	pktAck     packetHeader // ack fields of packets built by the current Flush
	refs       []msgRef
	emit       func([]byte)
	pingOwed   bool
	emitted    int    // packets emitted by the current Flush
	flushFirst seqNum // the first packet of the current Flush
	budget     int    // bytes the current Flush may still open packets for; <0 unlimited
	eliciting  bool
	limited    bool // the current Flush left data queued for want of budget
	mayCopy    bool // a channel with redundancy had messages in flight when this Flush began

	// Loss detection (RFC 9002): the newest packet the peer acknowledged,
	// the reordering the packet threshold tolerates, and the probe timer.
	largestAcked    seqNum
	hasLargestAcked bool
	pktThreshold    int
	lastEliciting   time.Duration // when the newest ack-eliciting packet left
	lastAckAt       time.Duration // when an ack last acknowledged something new
	ptoCount        int           // probes fired since; each doubles the next timeout
	peerHold        time.Duration // decaying maximum of the ack delays the peer reported

	// Receive side.
	received         seqWindow // packets seen, to drop duplicates
	newestAccepted   seqNum
	newestAcceptedAt time.Duration // its arrival, from which the ack delay is measured
	lastDataSample   time.Duration // when a data packet last gave an RTT sample
	acceptedBits     uint32        // bit i: newestAccepted-1-i was accepted
	hasAccepted      bool
	ackDelayOwed     bool          // newestAccepted advanced since the last packet left: the next carry the ack delay
	peerAck          packetHeader  // union of the acks applied so far with the newest Ack
	acksOwed         int           // packets accepted since the last ack left; >0: an ack is owed
	ackOwedSince     time.Duration // arrival of the oldest of them
	urgentOwed       int           // those of them that carried reliable data or a ping
	urgentOwedSince  time.Duration // arrival of the oldest of those
	partials         []partial
	nPartials        int
	reassembly       int // bytes charged against MaxReassemblyBytes
	// mayRead holds the channels that may have a message to read: a
	// channel joins with every frame that arrives on it and leaves when
	// ReadMessage finds it empty. A game that polls every channel of every client each
	// tick then skips the empty ones without touching their state.
	mayRead channelSet

	rtt      rttEstimator
	loss     lossWindow
	sentRate rateMeter
	recvRate rateMeter
	ackRate  rateMeter
	stats    Stats
}

// sentPacket records a packet this endpoint sent. It is kept small (24
// bytes): a busy connection holds a thousand of them.
type sentPacket struct {
	sentAt       time.Duration
	lossIndex    uint32 // where, if it was recorded lost (see lossWindow.unlose)
	refStart     uint32 // its message references: sentRefs from refStart, refCount of them
	refCount     uint16
	size         uint16 // MaxPacketSize is at most 65507
	ackEliciting bool   // carried messages or a ping, so the peer will ack it
	acked        bool
	decided      bool // its loss outcome is recorded
	lostByCount  bool // declared lost by the packet threshold
}

// msgRef names a message fragment carried by a sent packet.
type msgRef struct {
	channel  uint8
	id       MessageID
	fragment uint16
}

const (
	// sentPacketWindow is the most sent packets an endpoint keeps records
	// of; the ring of records starts at initialSentRecords and doubles as
	// traffic needs (see growRecords).
	sentPacketWindow   = 1024
	initialSentRecords = 64
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
		sendBufs: newBufPool(2 * cfg.MaxPacketSize),
		recvBufs: newBufPool(2 * cfg.MaxPacketSize),
		sent:     newSeqBuffer[sentPacket](initialSentRecords),

		pktThreshold: packetThreshold,
	}
	for i, ch := range cfg.Channels {
		e.sendChannels = append(e.sendChannels, newSendChannel(ch))
		e.recvChannels = append(e.recvChannels, newRecvChannel(ch))
		if !ch.Kind.Reliable() {
			e.unreliableBy = append(e.unreliableBy, i)
		}
	}
	slices.SortStableFunc(e.unreliableBy, func(a, b int) int {
		return cmp.Compare(cfg.Channels[b].Priority, cfg.Channels[a].Priority)
	})
	if cfg.SendRate > 0 {
		e.sb = newSendBudget(cfg) // a connection without a budget carries none of its state
	}
	e.mtu = newPathMTU(cfg)
	return e, nil
}

// Config returns the endpoint's configuration with defaults filled in.
func (e *Endpoint) Config() Config { return e.cfg }

// SetAckHandler registers fn to be called during Receive when the peer has
// received every fragment of message id on channel. It is called for every
// channel kind; on unreliable channels only for messages whose packets were
// acknowledged while e still kept their records: always for the last 63
// packets sent, and for any packet sent within twice the loss delay (about
// 2 × RTT plus the peer's ack delay), up to 1024 packets back. fn must not
// call methods of e.
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
	e.makeRoom(c)
	id := c.nextID
	m := c.slot(id)
	m.id = id
	m.data = append(e.sendBufs.take(m.data), msg...)
	m.count, m.fragSize = 1, int32(len(msg))
	if len(msg) > e.wholeMax {
		n := fragmentCount(len(msg), e.fragMax)
		m.count, m.fragSize = int32(n), int32(fragmentSize(len(msg), n))
	}
	m.next, m.unacked, m.tracking = 0, m.count, true
	m.sentAt = e.now // unreliable: when it was queued, until it leaves
	if c.kind.Reliable() {
		m.frags = resize(m.frags, int(m.count))
		clear(m.frags)
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

// ReadMessage returns the next message delivered on channel, and false when
// there is none. msg is valid until the next call of any method of e.
func (e *Endpoint) ReadMessage(channel int) (msg []byte, ok bool) {
	if channel < 0 || channel >= len(e.recvChannels) || !e.mayRead.has(channel) {
		return nil, false
	}
	msg, ok = e.readMessage(e.recvChannels[channel])
	if !ok {
		e.mayRead.remove(channel)
	}
	return msg, ok
}

func (e *Endpoint) readMessage(c *recvChannel) (msg []byte, ok bool) {
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
		// Freed at once: msg stays valid until a later call (the next
		// to reuse it is Receive), as documented.
		msg = q.data
		q.data = e.recvBufs.give(msg)
	}
	e.stats.MessagesDelivered++
	return msg, true
}

func (e *Endpoint) releaseSlot(s *recvSlot) []byte {
	e.reassembly -= int(s.reserved)
	s.reserved = 0
	b := s.data
	s.data = e.recvBufs.give(b) // see the unreliable case of ReadMessage
	return b
}

// Stats returns the endpoint's statistics as of the newest time it was given.
func (e *Endpoint) Stats() Stats {
	s := e.stats
	if e.rtt.sampled {
		s.RTT, s.RTTVar, s.MinRTT = e.rtt.smoothed, e.rtt.variance, e.rtt.min
	}
	s.PeerAckDelay = e.peerHold
	s.PacketLoss = e.loss.rate()
	s.SentKbps = e.sentRate.kbps(e.now)
	s.ReceivedKbps = e.recvRate.kbps(e.now)
	s.AckedKbps = e.ackRate.kbps(e.now)
	s.PathMTU = e.mtu.size
	if e.sb != nil {
		s.SendRate = int(e.sb.rate)
		s.EstimatedRate = int(e.sb.estimate)
		s.QueueDelay = e.sb.queue
		s.CongestionEvents = e.sb.congestions
	}
	return s
}
