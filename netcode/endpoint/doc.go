// Package endpoint is Tickwire's reliability layer: one side of a session
// with one peer, as pure logic. An [Endpoint] turns messages into packets
// and packets back into messages; it does no I/O, reads no clock and imports
// no socket or crypto package. The caller moves packets between it and the
// network and passes the current time in:
//
//	for each tick {
//		for each datagram that arrived { e.Receive(now, datagram) }
//		for msg, ok := e.ReadMessage(ch); ok; msg, ok = e.ReadMessage(ch) { ... }
//		e.Send(ch, msg)
//		e.Flush(now, func(p []byte) { conn.WriteTo(p, peer) })
//	}
//
// That makes every behaviour reproducible in tests with a fake clock and a
// simulated link (package netcode/netsim).
//
// # Who uses it
//
// Package netcode runs one Endpoint per connection and adds what a
// connection over the internet needs: the handshake, connect tokens,
// encryption, keepalives, timeouts and the sockets. A game imports netcode,
// and this package only for [Config] (its channel layout and limits, in
// netcode's ServerConfig.Endpoint and ClientConfig.Endpoint). A game drives
// an Endpoint itself when it brings its own transport, such as a
// WebTransport session or a WebRTC data channel in a browser, or in tests.
//
// # Packets, acknowledgements and statistics
//
// Every packet starts with a header of 3 to 12 bytes: its 16-bit sequence
// number (wrapping from 65535 to 0), the newest sequence received from the
// peer, 32 ack bits for the packets before that one, so one packet
// acknowledges up to 33 and an acknowledgement survives the loss of the
// packets that carried it before, and, when it acknowledges something new,
// how long that acknowledgement was held (1 to 3 bytes, in 8 µs units).
// Acknowledgements drive the round-trip time (smoothed as RFC 6298 and RFC
// 9002 do, the peer's hold subtracted, so it measures the path and not the
// peer's tick), loss detection, the sent, received and acknowledged bit
// rates, and reliable delivery; [Endpoint.Stats] reports them with counters
// of everything sent, received and dropped.
//
// Every packet carries the acknowledgements owed, so a Flush with anything
// to send acknowledges what arrived. With nothing to send, Flush sends a
// header-only ack once the oldest arrival it would acknowledge is
// Config.AckDelay old (25 ms by default, as QUIC's max_ack_delay) or 4 data
// packets are owed: a peer that receives more often than it sends, or a
// server that sends each client a snapshot every few ticks, acknowledges
// many packets in one datagram or on the data it sends anyway.
//
// # Loss detection
//
// As RFC 9002 does, a packet is declared lost once the peer acknowledges a
// packet sent 3 or more after it (a threshold that grows when reordering
// proves it too low), or one sent after it while it has been out for 9/8 of
// the RTT. Reliable messages of a lost packet are resent by the next Flush,
// unless the peer has acknowledged them since or a newer packet carries
// them. When the last packets of a burst go unacknowledged (nothing later
// is acknowledged to reveal the loss), a probe timeout of RTT + 4 × RTTVar
// + the peer's ack delay resends the oldest unacknowledged reliable
// message. A resend timer of max(1.25 × RTT + the peer's ack delay,
// Config.MinResendDelay) stays as the fallback. A packet declared lost that
// the peer acknowledges later counts in Stats.SpuriousLosses.
//
// # Channels and messages
//
// Messages travel on channels, configured in [Config].Channels, each of one
// [ChannelKind]: [Unreliable], [UnreliableSequenced] (stale messages
// dropped, a queued message superseded by a newer one), [ReliableOrdered]
// and [ReliableUnordered]. A reliable message is resent until the peer
// acknowledges it (see Loss detection). A small one (up to
// ChannelConfig.RedundancyMaxSize, 256 bytes by default) also rides again,
// up to ChannelConfig.Redundancy times (2 by default), in the room left in
// the next packets that leave while the peer has not acknowledged it, so
// that the loss of one packet costs no round trip; copies never delay other
// data or make a packet of their own, and the receiver drops duplicates by
// message id. Send returns the message's
// [MessageID]; [Endpoint.SetAckHandler] reports when the peer has it.
// Messages larger than a packet are fragmented and reassembled, up to
// Config.MaxMessageSize. [Endpoint.SendValue] and [Endpoint.ReadValue] send
// and receive Go values encoded with msgpack by a [Codec].
//
// # Bounds
//
// Nothing grows without bound. Each channel's send queue holds at most
// ChannelConfig.MaxQueuedMessages messages and MaxQueuedBytes bytes (Send
// returns [ErrSendQueueFull] beyond), reliable messages count until the
// peer acknowledges them, receive windows and queues have fixed lengths, and
// fragmented messages share Config.MaxReassemblyBytes. Config.MaxFlushBytes
// optionally caps what one Flush emits: reliable data first, then unreliable
// channels by id. Receive drops a malformed, duplicate or stale packet whole,
// counts it in [Stats] by reason and returns an error that says why
// ([ErrMalformedPacket], [ErrDuplicatePacket], [ErrStalePacket]); it never
// panics, whatever the bytes.
//
// # Thin and congested links
//
// Config.SendRate gives the connection a send budget: a token bucket in
// bytes per second, on the endpoint's explicit time, that Flush spends on
// every packet (acks are never held back, reliable data goes before
// unreliable channels, which go by ChannelConfig.Priority). What does not
// fit waits for a later Flush: a latest-state (UnreliableSequenced) message
// is replaced by a newer one, an unreliable message that waited longer than
// Config.MaxUnreliableWait is shed (Stats.MessagesShed), reliable messages
// wait in their bounded queues. With Config.CongestionControl the budget
// moves between Config.MinSendRate and SendRate by what the link delivers:
// a small probe each RTT measures the queue the link holds (the RTT above
// the smallest one), and the budget falls below the delivered rate when
// the queue grows or packets are lost, and grows slowly while the link
// shows no queue. Stats.SendRate, EstimatedRate and QueueDelay show it; a
// game sizes what it sends each tick by Stats.SendRate.
//
// Config.MaxPathMTU turns on path MTU discovery: padded probes, which the
// peer must acknowledge, find the largest packet the path carries, up to
// the maximum; Stats.PathMTU is the size in use.
//
// # Zero values and concurrency
//
// The zero Endpoint is not usable: create one with [NewEndpoint]. The zero
// [Config] is valid and means the defaults of [DefaultConfig]. An Endpoint
// and a [Codec] are not safe for concurrent use: one goroutine drives each.
// A Config is a value; [Config.Validate] may run anywhere.
//
// # Allocation
//
// An Endpoint is sized to its use: a new one holds under 5 KB, and its
// rings (records of sent packets, each channel's messages on both sides,
// receive queues) are allocated by first use, small, and double when they
// fill, up to their bounds (1024 records of sent packets; the Config's
// MaxQueuedMessages, MaxReceivedMessages and MaxPartialMessages). A
// connection that exchanges a few messages a tick stays under about 10 KB;
// one that fills its windows reaches them and keeps them. Only this side's
// own traffic and what the Config allows the peer make them grow: acks of
// packets never sent, sequence numbers, unknown channels and message ids
// outside the window grow nothing.
//
// In steady state, sending, flushing, receiving and reading small messages
// allocates nothing: once the rings have grown to the traffic, buffers are
// reused. Slices returned by [Endpoint.ReadMessage] and passed to Flush's
// emit function are only valid until the next call. Fragmented messages
// allocate one buffer per message on the receiving side.
//
// Errors of this package start with "endpoint: ".
package endpoint
