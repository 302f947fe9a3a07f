package endpoint

import "time"

// sendMessage is a message on the send side of a channel, in a ring slot
// indexed by its id. The slices are reused by later messages of the slot.
type sendMessage struct {
	data     []byte
	frags    []fragState   // reliable: one per fragment
	sentAt   time.Duration // unreliable: when its last fragment left, in packet seq (for makeRoom)
	count    int32         // fragments; 1 when sent whole
	fragSize int32         // bytes per fragment but the last
	next     int32         // next fragment to send for the first time
	unacked  int32         // fragments not yet acknowledged
	id       MessageID
	seq      seqNum // unreliable: the packet that carried its last fragment
	tracking bool   // the ack handler has yet to hear of this id
}

// fragState is the send side of one fragment of a reliable message.
type fragState struct {
	sentAt time.Duration // when it last left (first send, resend or copy)
	seq    seqNum        // the newest packet that carried it
	acked  bool
	due    bool  // to be resent by the next Flush: its newest packet was declared lost, or a probe
	copies uint8 // redundant copies sent since it last left as new or resent
}

// fragment returns the payload of fragment i.
func (m *sendMessage) fragment(i int) []byte {
	if m.count == 1 {
		return m.data
	}
	lo := i * int(m.fragSize)
	return m.data[lo:min(lo+int(m.fragSize), len(m.data))]
}

// sendChannel is the send side of one channel. Messages with ids in
// [oldest, nextID) hold data: for reliable channels, those not yet fully
// acknowledged; for unreliable ones, those not yet sent. Ids in
// [oldest, unsent) have been sent in full at least once.
//
// The ring of messages starts at initialSendRing slots, allocated by the
// first Send (of a game's channels, each side sends on some only), and
// doubles, up to MaxQueuedMessages rounded up to a power of two, when
// Send finds it full (see Endpoint.Send).
type sendChannel struct {
	kind       ChannelKind
	redundancy int // copies per small message; 0 for none
	copyMax    int // largest message that gets copies
	msgs       []sendMessage
	mask       int
	ringMax    int // the longest msgs may grow
	limit      int // MaxQueuedMessages
	maxBytes   int // MaxQueuedBytes
	bytes      int // payload bytes held
	nextID     MessageID
	oldest     MessageID
	unsent     MessageID
	copyEnd    MessageID // reliable: unsent when the current Flush began; later ids are new in it
}

// Initial ring sizes of a channel, allocated by its first use; each
// doubles when full, up to its Config bound.
const (
	initialSendRing  = 8 // sendChannel.msgs
	initialRecvRing  = 8 // recvChannel.slots
	initialRecvQueue = 4 // recvChannel.queue and recvChannel.ready
)

// pow2AtLeast returns the least power of two ≥ n (1 for n ≤ 1).
func pow2AtLeast(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

func newSendChannel(cfg ChannelConfig) *sendChannel {
	c := &sendChannel{kind: cfg.Kind, ringMax: pow2AtLeast(cfg.MaxQueuedMessages), limit: cfg.MaxQueuedMessages, maxBytes: cfg.MaxQueuedBytes}
	if cfg.Kind.Reliable() && cfg.Redundancy > 0 {
		c.redundancy, c.copyMax = cfg.Redundancy, cfg.RedundancyMaxSize
	}
	return c
}

// makeRoom allocates c's ring on first use and doubles it while the slot
// of the next id is taken: by a message still queued or unacknowledged, or,
// on unreliable channels, by one whose ack the ack handler may still hear
// of, because the record of the packet that carried it (its last fragment)
// is still kept and unacknowledged. Every other use of slot follows a Send.
func (e *Endpoint) makeRoom(c *sendChannel) {
	if c.queued() < len(c.msgs) && (c.kind.Reliable() || !c.slot(c.nextID).tracking) {
		return // the common case: the next slot is free
	}
	if c.msgs == nil {
		n := min(initialSendRing, c.ringMax)
		c.msgs, c.mask = make([]sendMessage, n), n-1
	}
	for len(c.msgs) < c.ringMax {
		if c.queued() < len(c.msgs) {
			if c.kind.Reliable() {
				return
			}
			m := c.slot(c.nextID)
			if !m.tracking {
				return
			}
			if rec := e.sent.Find(m.seq); rec == nil || rec.acked || rec.sentAt != m.sentAt {
				return
			}
		}
		c.grow()
	}
}

// grow doubles the ring. Each slot holds the newest of the ids in
// [nextID-len, nextID) that map to it; it moves to that id's new slot.
func (c *sendChannel) grow() {
	n := 2 * len(c.msgs)
	msgs := make([]sendMessage, n)
	for id, end := c.nextID-MessageID(len(c.msgs)), c.nextID; id != end; id++ {
		msgs[int(id)&(n-1)] = *c.slot(id)
	}
	c.msgs, c.mask = msgs, n-1
}

func (c *sendChannel) slot(id MessageID) *sendMessage { return &c.msgs[int(id)&c.mask] }

func (c *sendChannel) queued() int { return int(uint16(c.nextID - c.oldest)) }

// release drops m's payload, keeping small buffers for reuse.
func (c *sendChannel) release(m *sendMessage, pool *bufPool) {
	c.bytes -= len(m.data)
	m.data = pool.give(m.data)
}

// recvSlot is one message in a reliable channel's receive window.
type recvSlot struct {
	data     []byte
	frag     *reassembly // a fragmented message's; allocated by the slot's first, then reused
	reserved int32       // bytes charged against Config.MaxReassemblyBytes (at most MaxMessageSize)
	id       MessageID
	state    slotState
}

type slotState uint8

const (
	slotEmpty     slotState = iota
	slotPartial             // some fragments arrived
	slotComplete            // ready to deliver
	slotDelivered           // returned by ReadMessage; unordered only, until the window passes it
)

// queuedMessage is a delivered message of an unreliable channel not yet read.
type queuedMessage struct {
	data     []byte
	reserved int
}

// recvChannel is the receive side of one channel. Its buffers are
// allocated by the first frame that arrives on it, small, and double when
// full up to the channel's MaxReceivedMessages: the peer can make them grow
// only as far as the Config allows, by using the window it is given.
type recvChannel struct {
	kind ChannelKind

	// Reliable channels: the receive window [base, base+window); slots
	// holds [base, base+len(slots)).
	window              int
	slots               []recvSlot
	mask                int
	base                MessageID // ordered: next to deliver; unordered: oldest not delivered
	ready               []MessageID
	readyHead, readyLen int

	// Unreliable channels: delivered messages waiting for ReadMessage.
	queue         []queuedMessage
	head, pending int
	newest        MessageID // sequenced: newest id delivered
	hasNewest     bool
}

func newRecvChannel(cfg ChannelConfig) *recvChannel {
	return &recvChannel{kind: cfg.Kind, window: cfg.MaxReceivedMessages}
}

// ensure allocates the channel's receive ring or queue. Every other use
// of them follows a received frame (ReadMessage checks Endpoint.mayRead).
func (c *recvChannel) ensure() {
	switch {
	case c.kind.Reliable() && c.slots == nil:
		n := min(initialRecvRing, pow2AtLeast(c.window))
		c.slots, c.mask = make([]recvSlot, n), n-1
	case !c.kind.Reliable() && c.queue == nil:
		c.queue = make([]queuedMessage, min(initialRecvQueue, c.window))
	}
}

func (c *recvChannel) slot(id MessageID) *recvSlot { return &c.slots[int(id)&c.mask] }

// cover doubles the ring of slots until it holds id, which is ahead of
// base by less than the window.
func (c *recvChannel) cover(ahead int) {
	for ahead >= len(c.slots) {
		n := 2 * len(c.slots)
		slots := make([]recvSlot, n)
		for id, end := c.base, c.base+MessageID(len(c.slots)); id != end; id++ {
			slots[int(id)&(n-1)] = *c.slot(id)
		}
		c.slots, c.mask = slots, n-1
	}
}

// markReady queues a completed unordered message for delivery. The ready
// ring doubles when full; it never holds more than the window.
func (c *recvChannel) markReady(id MessageID) {
	if c.readyLen == len(c.ready) {
		c.ready = growQueue(c.ready, c.readyHead, c.readyLen, c.window)
		c.readyHead = 0
	}
	c.ready[(c.readyHead+c.readyLen)%len(c.ready)] = id
	c.readyLen++
}

// growQueue returns a queue of twice q's length (at least initialRecvQueue,
// at most limit) holding q's n entries from head on, in order from 0.
func growQueue[T any](q []T, head, n, limit int) []T {
	grown := make([]T, min(max(2*len(q), initialRecvQueue), limit))
	for i := range n {
		grown[i] = q[(head+i)%len(q)]
	}
	return grown
}

// channelSet is a set of channel ids (0..maxChannels).
type channelSet [2]uint64

func (s *channelSet) add(ch int)      { s[ch/64] |= 1 << (ch % 64) }
func (s *channelSet) remove(ch int)   { s[ch/64] &^= 1 << (ch % 64) }
func (s *channelSet) has(ch int) bool { return s[ch/64]&(1<<(ch%64)) != 0 }

// bufPool is a small stack of message buffers an endpoint reuses, the most
// recently freed first: a game sends and receives a few messages per tick,
// so the same few buffers, still in the CPU caches, carry them all instead
// of each ring slot keeping a buffer of its own that is cold by the time
// the ring comes round again.
type bufPool struct {
	bufs    [][]byte
	keepCap int // larger buffers (fragmented messages) are left to the GC
}

// pooledBuffers is the most buffers a pool keeps; it holds as many as
// its endpoint has freed at once, up to this.
const pooledBuffers = 16

func newBufPool(keepCap int) bufPool { return bufPool{keepCap: keepCap} }

// take returns an empty buffer for a slot whose own buffer is own: own
// when the slot kept one (the pool was full when it was freed), else the
// pool's most recently freed, else nil (append allocates).
func (p *bufPool) take(own []byte) []byte {
	if own != nil {
		return own[:0]
	}
	n := len(p.bufs)
	if n == 0 {
		return nil
	}
	b := p.bufs[n-1]
	p.bufs[n-1] = nil
	p.bufs = p.bufs[:n-1]
	return b
}

// give frees b and returns what its slot keeps: nil when the pool took b
// (or b is too large to keep), else b emptied. Under a burst (a bulk
// reliable transfer freeing many buffers at once) slots keep the overflow,
// so steady traffic of any size allocates nothing.
func (p *bufPool) give(b []byte) []byte {
	if cap(b) == 0 || cap(b) > p.keepCap {
		return nil
	}
	if len(p.bufs) == pooledBuffers {
		return b[:0]
	}
	p.bufs = append(p.bufs, b[:0])
	return nil
}
