// Package netcode is Tickwire's networking core for real-time games over UDP.
//
// # Layers
//
// The package holds two layers. The lower one, described here, is the
// reliability endpoint: [Endpoint] turns messages into packets and back,
// numbers packets with a 16-bit [Seq], acknowledges them with a [Header]
// that carries the newest sequence received plus 32 ack bits, measures
// round-trip time, loss and bandwidth ([Stats]), and offers four channel
// kinds ([ChannelKind]): unreliable, unreliable-sequenced, reliable-ordered
// and reliable-unordered. Messages larger than a packet are fragmented and
// reassembled within bounded memory. [Codec] sends and receives Go values
// encoded with msgpack.
//
// The endpoint does no I/O and reads no clock. The caller moves packets
// between it and the network and passes the current time in:
//
//	for each tick {
//		for each datagram that arrived { e.Receive(now, datagram) }
//		for msg, ok := e.ReadMessage(ch); ok; msg, ok = e.ReadMessage(ch) { ... }
//		e.Send(ch, msg)
//		e.Flush(now, func(p []byte) { conn.WriteTo(p, peer) })
//	}
//
// That makes every behaviour reproducible in tests with a fake clock and a
// simulated link (see package netcode/netsim). The connection layer above it
// (handshake, keepalive, timeouts, encryption) owns the sockets.
//
// Every packet carries the acknowledgements owed, so a Flush with anything
// to send acknowledges what arrived. With nothing to send, Flush sends a
// header-only ack at once, or, with Config.AckDelay, only once the oldest
// arrival it would acknowledge is AckDelay old: a server that sends each
// client a snapshot every few ticks lets the acks of the client's inputs
// ride on the snapshots.
//
// # Bounds
//
// Nothing grows without bound. Each channel's send queue holds at most
// ChannelConfig.MaxQueuedMessages messages and MaxQueuedBytes bytes (Send
// returns [ErrSendQueueFull] beyond), reliable messages count until the
// peer acknowledges them, receive windows and queues have fixed lengths, and
// fragmented messages share Config.MaxReassemblyBytes. Config.MaxFlushBytes
// optionally caps what one Flush emits: reliable data first, then unreliable
// channels by id. Whatever is dropped on the receive side is counted in
// [Stats] by reason.
//
// # Zero values and concurrency
//
// The zero Endpoint is not usable: create one with [NewEndpoint]. The zero
// [Config] is valid and means the defaults of [DefaultConfig]. Endpoints,
// [SequenceBuffer] and [Codec] are not safe for concurrent use: one goroutine
// drives each. Functions and types without state, such as [Header] and
// [ParseHeader], are safe to use from any goroutine.
//
// # Allocation
//
// In steady state, sending, flushing, receiving and reading small messages
// allocates nothing: buffers are preallocated per channel and reused. Slices
// returned by [Endpoint.ReadMessage] and passed to Flush's emit function are
// only valid until the next call. Fragmented messages allocate one buffer per
// message on the receiving side.
package netcode
