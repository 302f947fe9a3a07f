package endpoint

import "time"

// sendMessage is a message on the send side of a channel, in a ring slot
// indexed by its id. The slices are reused by later messages of the slot.
type sendMessage struct {
	id       MessageID
	data     []byte
	count    int         // fragments; 1 when sent whole
	fragSize int         // bytes per fragment but the last
	next     int         // next fragment to send for the first time
	frags    []fragState // reliable: one per fragment
	unacked  int         // fragments not yet acknowledged
	tracking bool        // the ack handler has yet to hear of this id
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
	lo := i * m.fragSize
	return m.data[lo:min(lo+m.fragSize, len(m.data))]
}

// sendChannel is the send side of one channel. Messages with ids in
// [oldest, nextID) hold data: for reliable channels, those not yet fully
// acknowledged; for unreliable ones, those not yet sent. Ids in
// [oldest, unsent) have been sent in full at least once.
type sendChannel struct {
	kind       ChannelKind
	redundancy int // copies per small message; 0 for none
	copyMax    int // largest message that gets copies
	msgs       []sendMessage
	mask       int
	limit      int // MaxQueuedMessages
	maxBytes   int // MaxQueuedBytes
	bytes      int // payload bytes held
	nextID     MessageID
	oldest     MessageID
	unsent     MessageID
	copyEnd    MessageID // reliable: unsent when the current Flush began; later ids are new in it
}

// newSendChannel returns a channel whose ring is allocated by its first
// Send (see ensure): of a game's channels, each side sends on some only.
func newSendChannel(cfg ChannelConfig) *sendChannel {
	n := 1
	for n < cfg.MaxQueuedMessages {
		n <<= 1
	}
	c := &sendChannel{kind: cfg.Kind, mask: n - 1, limit: cfg.MaxQueuedMessages, maxBytes: cfg.MaxQueuedBytes}
	if cfg.Kind.Reliable() && cfg.Redundancy > 0 {
		c.redundancy, c.copyMax = cfg.Redundancy, cfg.RedundancyMaxSize
	}
	return c
}

// ensure allocates the ring. Every other use of slot follows a Send.
func (c *sendChannel) ensure() {
	if c.msgs == nil {
		c.msgs = make([]sendMessage, c.mask+1)
	}
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
	id       MessageID
	state    slotState
	data     []byte
	reserved int // bytes charged against Config.MaxReassemblyBytes
	frag     reassembly
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

// recvChannel is the receive side of one channel.
type recvChannel struct {
	kind ChannelKind

	// Reliable channels: the receive window [base, base+window).
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

// newRecvChannel returns a channel whose buffers are allocated by the first
// frame that arrives on it (see ensure).
func newRecvChannel(cfg ChannelConfig) *recvChannel {
	c := &recvChannel{kind: cfg.Kind, window: cfg.MaxReceivedMessages}
	if cfg.Kind.Reliable() {
		n := 1
		for n < cfg.MaxReceivedMessages {
			n <<= 1
		}
		c.mask = n - 1
	}
	return c
}

// ensure allocates the channel's receive window or queue. Every other use
// of them follows a received frame (ReadMessage checks Endpoint.mayRead).
func (c *recvChannel) ensure() {
	switch {
	case c.kind.Reliable() && c.slots == nil:
		c.slots = make([]recvSlot, c.mask+1)
		if c.kind == ReliableUnordered {
			c.ready = make([]MessageID, c.window)
		}
	case !c.kind.Reliable() && c.queue == nil:
		c.queue = make([]queuedMessage, c.window)
	}
}

func (c *recvChannel) slot(id MessageID) *recvSlot { return &c.slots[int(id)&c.mask] }

// markReady queues a completed unordered message for delivery. The ready
// ring is as long as the window, so it cannot overflow.
func (c *recvChannel) markReady(id MessageID) {
	c.ready[(c.readyHead+c.readyLen)%len(c.ready)] = id
	c.readyLen++
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

const pooledBuffers = 16

func newBufPool(keepCap int) bufPool {
	return bufPool{bufs: make([][]byte, 0, pooledBuffers), keepCap: keepCap}
}

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
	if len(p.bufs) == cap(p.bufs) {
		return b[:0]
	}
	p.bufs = append(p.bufs, b[:0])
	return nil
}
