package endpoint

import (
	"cmp"
	"fmt"
	"time"
)

// ChannelKind selects the delivery guarantees of a channel.
type ChannelKind uint8

const (
	// Unreliable messages arrive at most once, in any order, or not at all.
	Unreliable ChannelKind = iota
	// UnreliableSequenced is Unreliable, except that a message older than the
	// newest one already delivered is dropped: the receiver never goes back
	// in time. On the send side, a message still queued when a newer one is
	// queued behind it is superseded: Flush sends only the newest. Use it
	// for latest-state updates.
	UnreliableSequenced
	// ReliableOrdered messages arrive exactly once, in the order sent. A
	// message is resent until the peer acknowledges it.
	ReliableOrdered
	// ReliableUnordered messages arrive exactly once, in any order.
	ReliableUnordered
)

// String returns the kind's Go name.
func (k ChannelKind) String() string {
	switch k {
	case Unreliable:
		return "Unreliable"
	case UnreliableSequenced:
		return "UnreliableSequenced"
	case ReliableOrdered:
		return "ReliableOrdered"
	case ReliableUnordered:
		return "ReliableUnordered"
	}
	return fmt.Sprintf("ChannelKind(%d)", uint8(k))
}

// Reliable reports whether messages on channels of kind k are resent until
// acknowledged.
func (k ChannelKind) Reliable() bool { return k == ReliableOrdered || k == ReliableUnordered }

// ChannelConfig configures one channel. Zero fields take the defaults noted.
type ChannelConfig struct {
	Kind ChannelKind

	// MaxQueuedMessages bounds the messages a channel holds on the send side:
	// queued and not yet sent, plus, on reliable channels, sent and not yet
	// acknowledged. Send returns ErrSendQueueFull beyond it. Default 256,
	// at most 16384.
	MaxQueuedMessages int

	// MaxQueuedBytes bounds the payload bytes those messages hold. A message
	// is always accepted into an empty queue, so one message of up to
	// Config.MaxMessageSize can always be sent. Default 1 MiB.
	MaxQueuedBytes int

	// MaxReceivedMessages bounds the receive side. On reliable channels it is
	// the receive window: messages further ahead of the next one to deliver
	// are not acknowledged, so the sender retries them later. On unreliable
	// channels it is the queue of delivered messages not yet read; arrivals
	// beyond it are dropped and counted. Default 256, at most 16384.
	MaxReceivedMessages int

	// Redundancy is how many extra copies of a small reliable message ride
	// in later packets while the peer has not acknowledged it, so that the
	// loss of one packet costs no round trip. A copy only fills room left
	// in a packet that leaves anyway, after all new data of every channel:
	// it never delays other data, never opens a packet and never counts
	// against Config.MaxFlushBytes. A message sent again after a loss gets
	// its copies again. 0 means DefaultRedundancy (2) on reliable channels;
	// NoRedundancy (-1) turns copies off; at most 8. Unreliable channels
	// ignore it.
	Redundancy int

	// RedundancyMaxSize is the largest message that rides again (messages
	// of more than one packet never do). Default 256 bytes.
	RedundancyMaxSize int

	// Priority orders the unreliable channels when the send budget (see
	// Config.SendRate and Config.MaxFlushBytes) cannot carry everything
	// queued: a higher Priority is flushed first, equal priorities by
	// channel id. Reliable channels always go before every unreliable
	// one and ignore it. Default 0.
	Priority int
}

// Config configures an Endpoint. Zero fields take the defaults noted; a
// Config with no Channels gets the channels of DefaultConfig.
type Config struct {
	// MaxPacketSize is the largest packet Flush emits, header included, and
	// the largest Receive accepts. Default 1200 (a safe path MTU for UDP
	// payloads); allowed 64 to 65507.
	MaxPacketSize int

	// MaxMessageSize is the largest message Send accepts. Messages longer
	// than fit in one packet are fragmented. Default 256 KiB; at most 16 MiB.
	MaxMessageSize int

	// MaxReassemblyBytes bounds the memory holding fragmented messages being
	// reassembled or delivered but not yet read. Fragments beyond it are
	// dropped and counted (reliable ones are left unacknowledged so they are
	// resent). The next message of a reliable-ordered channel is always
	// admitted, so that the channel cannot stall behind messages waiting to be
	// read; the bound can therefore be exceeded by up to MaxMessageSize per
	// such channel. Default 4 MiB; at least MaxMessageSize.
	MaxReassemblyBytes int

	// MaxPartialMessages bounds how many fragmented messages of unreliable
	// channels are reassembled at once; a new one evicts the oldest. Default 32.
	MaxPartialMessages int

	// ReassemblyTimeout drops a partial unreliable message whose fragments
	// stopped arriving. Default 2 s.
	ReassemblyTimeout time.Duration

	// MinResendDelay is the floor of the resend delay: a reliable message
	// is resent when the packet that carried it is not acknowledged within
	// max(1.25 × RTT, MinResendDelay). Default 20 ms.
	MinResendDelay time.Duration

	// InitialRTT is the round-trip estimate used before the first sample.
	// Default 100 ms.
	InitialRTT time.Duration

	// MaxFlushBytes is the send budget of one Flush call: once the packets
	// it emitted reach this many bytes it opens no new packet (the last one
	// may overshoot by less than MaxPacketSize). Reliable resends go first,
	// then new reliable messages, then unreliable ones by channel id; what
	// does not fit waits for the next Flush. A header-only ack packet is
	// always allowed. 0 means unlimited.
	MaxFlushBytes int

	// AckDelay is how long an owed acknowledgement may wait for a packet
	// with data to ride on, as QUIC's max_ack_delay. While it waits, Flush
	// sends no header-only ack packet; once the oldest unacknowledged
	// arrival that carried reliable data or a ping is AckDelay old, or 4
	// such packets are owed (so a loss is reported after 4 more packets at
	// the latest), the next Flush sends one. Packets that carried only
	// unreliable data, whose loss nothing resends, wait twice AckDelay (or
	// until 16 are owed, half of what one ack can report). So a peer that
	// sends less often than it receives (a client sending an update every
	// 50 ms to a server sending every 10 ms) acknowledges several packets
	// with each update instead of in datagrams of their own, and a server
	// that sends each client a snapshot every few ticks, with AckDelay a
	// little above the snapshot interval, lets its acks ride on snapshots.
	// The peer's RTT samples do not grow with it: every packet that
	// acknowledges something new says how long that acknowledgement was
	// held, and the peer subtracts it; the peer's resend timers add the
	// holds it has seen.
	// A queue probe of CongestionControl (a packet of two ping frames and
	// nothing else) is acknowledged by the next Flush: it is there to
	// measure the RTT.
	// 0 means DefaultAckDelay (25 ms); NoAckDelay (or any negative value)
	// sends owed acks at every Flush; at most 1 s.
	AckDelay time.Duration

	// SendRate is the ceiling of the connection's send budget, in bytes
	// per second: a token bucket, refilled at the budget's rate and
	// SendBurst deep, that Flush spends on every packet it emits (header
	// and PacketOverhead included). Flush opens a packet only while the
	// bucket holds tokens (the last packet may overdraw it by less than a
	// packet, repaid before the next), so a Flush called every tick emits
	// the budget's rate on average, never more. What goes first when the
	// budget cannot carry everything: acknowledgements (a header-only ack
	// is always allowed, and charged), reliable resends and new reliable
	// messages, then unreliable channels by ChannelConfig.Priority. A
	// latest-state (UnreliableSequenced) message still waiting is replaced
	// by a newer one; an unreliable message that waited longer than
	// MaxUnreliableWait is shed (Stats.MessagesShed); reliable messages
	// wait, bounded by ChannelConfig.MaxQueuedMessages and MaxQueuedBytes
	// (Send returns ErrSendQueueFull beyond). 0 (the default) means no
	// budget: every Flush sends everything queued, as before budgets
	// existed, because a fixed cap that does not know the link would
	// throttle fast links for nothing; a server that streams state to
	// players on unknown links should set it (with CongestionControl).
	// Allowed 0 or 1024 to 1<<30.
	SendRate int

	// SendBurst is the depth of the budget's bucket in bytes: how much
	// an idle connection may send at once. Default 50 ms at the budget's
	// current rate, at least one MaxPacketSize.
	SendBurst int

	// CongestionControl moves the budget between MinSendRate and SendRate
	// by what the link delivers: it starts at MinSendRate and grows fast
	// (×1.25 per RTT) until the first sign of congestion, then slowly
	// (×1.08 per RTT) while Flush is held back by the budget and the link
	// shows no queue; it falls to below the rate the peer acknowledged
	// (×0.9, or ×0.75 for a large queue) when the RTT of recent packets
	// rises above the connection's smallest RTT by more than a quarter of
	// it (at least 10 ms) beyond the packet's own transmission time, or
	// when more than 10% of an RTT's packets are lost, then waits an RTT
	// for the change to show. So the queue the connection builds in a
	// capped link stays at a few tens of milliseconds. Stats.SendRate and
	// Stats.EstimatedRate show where it is. Requires SendRate.
	CongestionControl bool

	// MinSendRate is the floor of the budget under CongestionControl, in
	// bytes per second. Default DefaultMinSendRate (4 KiB/s, 32 kbit/s:
	// inputs, acks and a trickle of state), at most SendRate.
	MinSendRate int

	// MaxUnreliableWait is how long an unreliable message may wait for
	// the send budget before it is shed, counted in Stats.MessagesShed: a
	// state update that late is not worth its bytes. Applies only with a
	// SendRate. Default 100 ms.
	MaxUnreliableWait time.Duration

	// MaxPathMTU turns on path MTU discovery: the endpoint starts with
	// packets of MaxPacketSize and probes larger sizes up to MaxPathMTU
	// (header included) with padded probes that the peer must
	// acknowledge; it uses the largest size acknowledged, and falls back
	// to MaxPacketSize when 3 larger packets in a row are lost (the path
	// changed), searching again 10 s later. Messages are still fragmented
	// for MaxPacketSize, so larger packets carry more messages each and a
	// fallback never strands a frame. Stats.PathMTU is the size in use.
	// Both peers must accept the larger packets: Receive accepts up to
	// max(MaxPacketSize, MaxPathMTU). 0 (the default): no probing. At most
	// 65507. The socket under it should refuse IP fragmentation (package
	// netcode's does on Linux), or a probe can succeed as fragments.
	MaxPathMTU int

	// PacketOverhead is how many bytes the layers below add to each
	// packet (the connection header and AEAD tag, UDP and IP headers),
	// charged to the send budget with every packet. Default 0; package
	// netcode sets its own overhead.
	PacketOverhead int

	// Channels lists the channels; a channel's id is its index. At most 127.
	Channels []ChannelConfig

	// Scratch, when set, is where Flush builds packets, shared by every
	// endpoint given the same Scratch, instead of a buffer of up to
	// MaxPacketSize bytes kept by each: a server with thousands of
	// connections saves that per connection. Endpoints sharing a Scratch
	// must be driven by one goroutine; a Flush that starts while another
	// endpoint's Flush holds the Scratch (from within its emit function)
	// uses a buffer of its own. nil (the default): each endpoint keeps its
	// own.
	Scratch *Scratch
}

// Scratch is working memory for building packets that endpoints driven by
// one goroutine share (see Config.Scratch). The zero value is ready to use;
// it grows to the largest packet built in it. It is not safe for
// concurrent use.
type Scratch struct {
	pkt  []byte
	refs []msgRef
	busy bool // a Flush is building in it
}

// Defaults used for zero Config fields.
const (
	DefaultMaxPacketSize       = 1200
	DefaultMaxMessageSize      = 256 << 10
	DefaultMaxReassemblyBytes  = 4 << 20
	DefaultMaxPartialMessages  = 32
	DefaultReassemblyTimeout   = 2 * time.Second
	DefaultMinResendDelay      = 20 * time.Millisecond
	DefaultInitialRTT          = 100 * time.Millisecond
	DefaultMaxQueuedMessages   = 256
	DefaultMaxQueuedBytes      = 1 << 20
	DefaultMaxReceivedMessages = 256
	DefaultAckDelay            = 25 * time.Millisecond
	DefaultRedundancy          = 2
	DefaultRedundancyMaxSize   = 256
	DefaultMinSendRate         = 4 << 10
	DefaultMaxUnreliableWait   = 100 * time.Millisecond

	// NoRedundancy in ChannelConfig.Redundancy turns redundant copies off.
	NoRedundancy = -1
	// NoAckDelay in Config.AckDelay makes every Flush send the acks owed.
	NoAckDelay time.Duration = -1

	maxChannels          = 127 // channel id 127 marks a ping frame
	maxMessageSizeLimit  = 16 << 20
	maxQueueLimit        = 1 << 14 // keeps 16-bit message ids unambiguous
	minPacketSize        = 64
	maxPacketSizeLimit   = 65507 // largest UDP payload over IPv4
	defaultChannelsCount = 4
	maxAckDelay          = time.Second
	maxRedundancy        = 8
	minSendRate          = 1 << 10
	maxSendRate          = 1 << 30
	// ackDelayPackets owed acks make Flush send a header-only ack even
	// within AckDelay, so that a peer streaming reliable data gets acks
	// before its send queue fills (256 small messages take about 8 packets)
	// and its acks never fall out of the 33 a header carries. QUIC acks
	// every second packet; 4 keeps most of the saving of coalescing.
	ackDelayPackets = 4
	// ackDelayAnyPackets owed acks of any packets make Flush send one: half
	// of the 33 a header can report, so none falls out.
	ackDelayAnyPackets = 16
)

// DefaultConfig returns the recommended configuration with four channels:
//
//	0 ReliableOrdered      events, chat, RPCs
//	1 Unreliable           fire-and-forget
//	2 UnreliableSequenced  latest state (inputs, snapshots)
//	3 ReliableUnordered    assets, bulk data
func DefaultConfig() Config {
	return Config{
		MaxPacketSize:      DefaultMaxPacketSize,
		MaxMessageSize:     DefaultMaxMessageSize,
		MaxReassemblyBytes: DefaultMaxReassemblyBytes,
		MaxPartialMessages: DefaultMaxPartialMessages,
		ReassemblyTimeout:  DefaultReassemblyTimeout,
		MinResendDelay:     DefaultMinResendDelay,
		InitialRTT:         DefaultInitialRTT,
		AckDelay:           DefaultAckDelay,
		Channels: []ChannelConfig{
			{Kind: ReliableOrdered},
			{Kind: Unreliable},
			{Kind: UnreliableSequenced},
			{Kind: ReliableUnordered},
		},
	}
}

// Validate reports the first invalid field, naming it, its value and what is
// allowed. Zero fields are valid: they mean the default.
func (c Config) Validate() error {
	checkInt := func(name string, v, lo, hi int) error {
		if v != 0 && (v < lo || v > hi) {
			return fmt.Errorf("endpoint: Config.%s = %d; allowed 0 (default) or %d..%d", name, v, lo, hi)
		}
		return nil
	}
	checkDur := func(name string, v time.Duration) error {
		if v < 0 {
			return fmt.Errorf("endpoint: Config.%s = %v; must not be negative (0 means default)", name, v)
		}
		return nil
	}
	if err := checkInt("MaxPacketSize", c.MaxPacketSize, minPacketSize, maxPacketSizeLimit); err != nil {
		return err
	}
	if err := checkInt("MaxMessageSize", c.MaxMessageSize, 1, maxMessageSizeLimit); err != nil {
		return err
	}
	if err := checkInt("MaxPartialMessages", c.MaxPartialMessages, 1, 1024); err != nil {
		return err
	}
	if c.MaxFlushBytes < 0 {
		return fmt.Errorf("endpoint: Config.MaxFlushBytes = %d; must not be negative (0 means unlimited)", c.MaxFlushBytes)
	}
	if c.SendRate != 0 && (c.SendRate < minSendRate || c.SendRate > maxSendRate) {
		return fmt.Errorf("endpoint: Config.SendRate = %d; allowed 0 (no budget) or %d..%d bytes per second", c.SendRate, minSendRate, maxSendRate)
	}
	if c.SendBurst < 0 || c.SendBurst > maxSendRate {
		return fmt.Errorf("endpoint: Config.SendBurst = %d; allowed 0 (default) to %d bytes", c.SendBurst, maxSendRate)
	}
	if c.MinSendRate != 0 && (c.MinSendRate < minSendRate || c.MinSendRate > max(c.SendRate, minSendRate)) {
		return fmt.Errorf("endpoint: Config.MinSendRate = %d; allowed 0 (default) or %d up to SendRate (%d)", c.MinSendRate, minSendRate, c.SendRate)
	}
	if c.CongestionControl && c.SendRate == 0 {
		return fmt.Errorf("endpoint: Config.CongestionControl needs a SendRate (the budget's ceiling); SendRate is 0")
	}
	if pkt := cmp.Or(c.MaxPacketSize, DefaultMaxPacketSize); c.MaxPathMTU != 0 && (c.MaxPathMTU < pkt || c.MaxPathMTU > maxPacketSizeLimit) {
		return fmt.Errorf("endpoint: Config.MaxPathMTU = %d; allowed 0 (no probing) or MaxPacketSize (%d) to %d", c.MaxPathMTU, pkt, maxPacketSizeLimit)
	}
	if c.PacketOverhead < 0 || c.PacketOverhead > 1024 {
		return fmt.Errorf("endpoint: Config.PacketOverhead = %d; allowed 0 to 1024", c.PacketOverhead)
	}
	if c.MaxUnreliableWait < 0 {
		return fmt.Errorf("endpoint: Config.MaxUnreliableWait = %v; must not be negative (0 means default)", c.MaxUnreliableWait)
	}
	if c.MaxReassemblyBytes < 0 {
		return fmt.Errorf("endpoint: Config.MaxReassemblyBytes = %d; must not be negative (0 means default)", c.MaxReassemblyBytes)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ReassemblyTimeout", c.ReassemblyTimeout}, {"MinResendDelay", c.MinResendDelay}, {"InitialRTT", c.InitialRTT}} {
		if err := checkDur(d.name, d.v); err != nil {
			return err
		}
	}
	if c.AckDelay > maxAckDelay {
		return fmt.Errorf("endpoint: Config.AckDelay = %v; allowed 0 (default %v), negative (NoAckDelay: ack at every Flush) or up to %v", c.AckDelay, DefaultAckDelay, maxAckDelay)
	}
	d := c.withDefaults()
	if d.MaxReassemblyBytes < d.MaxMessageSize {
		return fmt.Errorf("endpoint: Config.MaxReassemblyBytes = %d; must be at least MaxMessageSize (%d)", d.MaxReassemblyBytes, d.MaxMessageSize)
	}
	if n := fragmentCount(d.MaxMessageSize, fragmentPayload(d.MaxPacketSize)); n > maxFragments {
		return fmt.Errorf("endpoint: Config.MaxMessageSize = %d needs %d fragments of a %d-byte packet; at most %d allowed",
			d.MaxMessageSize, n, d.MaxPacketSize, maxFragments)
	}
	if len(c.Channels) > maxChannels {
		return fmt.Errorf("endpoint: len(Config.Channels) = %d; allowed 0 (default) to %d", len(c.Channels), maxChannels)
	}
	for i, ch := range c.Channels {
		if ch.Kind > ReliableUnordered {
			return fmt.Errorf("endpoint: Config.Channels[%d].Kind = %d; allowed Unreliable, UnreliableSequenced, ReliableOrdered, ReliableUnordered", i, ch.Kind)
		}
		if ch.MaxQueuedMessages < 0 || ch.MaxQueuedMessages > maxQueueLimit {
			return fmt.Errorf("endpoint: Config.Channels[%d].MaxQueuedMessages = %d; allowed 0 (default) to %d", i, ch.MaxQueuedMessages, maxQueueLimit)
		}
		if ch.MaxReceivedMessages < 0 || ch.MaxReceivedMessages > maxQueueLimit {
			return fmt.Errorf("endpoint: Config.Channels[%d].MaxReceivedMessages = %d; allowed 0 (default) to %d", i, ch.MaxReceivedMessages, maxQueueLimit)
		}
		if ch.MaxQueuedBytes < 0 {
			return fmt.Errorf("endpoint: Config.Channels[%d].MaxQueuedBytes = %d; must not be negative (0 means default)", i, ch.MaxQueuedBytes)
		}
		if ch.Redundancy < NoRedundancy || ch.Redundancy > maxRedundancy {
			return fmt.Errorf("endpoint: Config.Channels[%d].Redundancy = %d; allowed 0 (default), -1 (off) or 1..%d", i, ch.Redundancy, maxRedundancy)
		}
		if ch.RedundancyMaxSize < 0 {
			return fmt.Errorf("endpoint: Config.Channels[%d].RedundancyMaxSize = %d; must not be negative (0 means default)", i, ch.RedundancyMaxSize)
		}
	}
	return nil
}

// withDefaults returns c with every zero field replaced by its default.
func (c Config) withDefaults() Config {
	def := DefaultConfig()
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = def.MaxPacketSize
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = def.MaxMessageSize
	}
	if c.MaxReassemblyBytes == 0 {
		c.MaxReassemblyBytes = max(def.MaxReassemblyBytes, c.MaxMessageSize)
	}
	if c.MaxPartialMessages == 0 {
		c.MaxPartialMessages = def.MaxPartialMessages
	}
	if c.ReassemblyTimeout == 0 {
		c.ReassemblyTimeout = def.ReassemblyTimeout
	}
	if c.MinResendDelay == 0 {
		c.MinResendDelay = def.MinResendDelay
	}
	if c.InitialRTT == 0 {
		c.InitialRTT = def.InitialRTT
	}
	if c.AckDelay == 0 {
		c.AckDelay = DefaultAckDelay
	}
	if c.MinSendRate == 0 && c.SendRate > 0 {
		c.MinSendRate = min(DefaultMinSendRate, c.SendRate)
	}
	if c.MaxUnreliableWait == 0 {
		c.MaxUnreliableWait = DefaultMaxUnreliableWait
	}
	if len(c.Channels) == 0 {
		c.Channels = def.Channels
	}
	chans := make([]ChannelConfig, len(c.Channels))
	for i, ch := range c.Channels {
		if ch.MaxQueuedMessages == 0 {
			ch.MaxQueuedMessages = DefaultMaxQueuedMessages
		}
		if ch.MaxQueuedBytes == 0 {
			ch.MaxQueuedBytes = DefaultMaxQueuedBytes
		}
		if ch.MaxReceivedMessages == 0 {
			ch.MaxReceivedMessages = DefaultMaxReceivedMessages
		}
		if ch.Redundancy == 0 {
			ch.Redundancy = DefaultRedundancy
		}
		if ch.RedundancyMaxSize == 0 {
			ch.RedundancyMaxSize = DefaultRedundancyMaxSize
		}
		chans[i] = ch
	}
	c.Channels = chans
	return c
}
