// Package netsim simulates a bad network for datagram traffic: loss
// (independent, and bursty by a Gilbert–Elliott model), latency, jitter,
// duplication, reordering, a bandwidth cap with a bounded queue, and a
// maximum datagram size. Everything random is drawn from PCG generators
// seeded explicitly, so the same seed and the same traffic give the same
// drops and delays.
//
// It has four layers, each usable alone:
//
//   - [Link] is the deterministic core for one direction. It has no clock
//     and no goroutine: Send and Deliver take the current time. Create it
//     with [NewLink]; its zero value is not usable. It is safe for
//     concurrent use and allocates nothing per datagram once warm.
//   - [Pipe] returns two connected in-memory [net.PacketConn] ends, each
//     writing through its own Link. It uses only time.Now, timers and
//     channels, so inside a testing/synctest bubble a 100 ms latency costs
//     no real time. Its ends are safe for concurrent use.
//   - [Wrap] and [WrapDuplex] put Links in front of any net.PacketConn
//     (outgoing, and optionally incoming), delivering delayed datagrams from
//     a goroutine that Close stops. A [Conn] is safe for concurrent use.
//     Over a Pipe it runs in synctest fake time too; over a real socket it
//     cannot (socket I/O is not durably blocking), so such tests use real
//     time with small delays.
//   - [Proxy] is a UDP proxy between real clients and a real server, one
//     pair of Links per client; the netsim command (cmd/netsim) runs it.
//
// Like Linux netem, jitter reorders datagrams sent closer together than its
// spread; Config.PreserveOrder turns jitter into clumps instead, leaving
// reordering to Config.Reorder.
//
// Conditions can change while traffic flows (SetConfig), and every layer
// counts what it sent, delivered, dropped (by reason), delayed, duplicated
// and reordered ([Stats]). Nothing queues without bound: each Link holds at
// most Config.QueuePackets datagrams and Config.QueueBytes bytes.
//
// This package does not import the rest of Tickwire, so any code using a
// net.PacketConn can be tested with it.
package netsim
