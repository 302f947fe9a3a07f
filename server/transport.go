package server

import (
	"net/netip"
	"time"
)

// ClientID identifies a connection in a Transport.
type ClientID uint64

// EventKind is the kind of a transport Event.
type EventKind uint8

const (
	// ClientConnected: a client completed its handshake.
	ClientConnected EventKind = iota + 1
	// ClientDisconnected: a client left, timed out or was kicked.
	ClientDisconnected
)

func (k EventKind) String() string {
	switch k {
	case ClientConnected:
		return "connected"
	case ClientDisconnected:
		return "disconnected"
	}
	return "unknown"
}

// Event is a connect or disconnect reported by a Transport.
type Event struct {
	Kind   EventKind
	Client ClientID
	Addr   netip.AddrPort // the client's address
	Reason string         // why a client disconnected, for logs
	// UserData is what the client's connect token carries about the player
	// (ClientConnected in secure mode), or what a plain-mode client's
	// connection request says (netcode.ClientConfig.UserData,
	// unauthenticated); nil otherwise. It is only valid during the
	// callback: the Server copies it.
	UserData []byte
}

// LinkStats is what the transport knows about one client's link.
type LinkStats struct {
	RTT        time.Duration
	PacketLoss float64 // 0..1

	// SendBudget is the bytes per second the connection may send to the
	// client now (its send budget, moved by the congestion response);
	// 0 when the transport has no budget. A server sizes what it sends
	// each tick by it.
	SendBudget int
	// EstimatedRate is the transport's estimate of what the link to the
	// client carries, in bytes per second; 0 when unknown.
	EstimatedRate int
	// QueueDelay is how long the transport estimates its packets wait in
	// the link's queues.
	QueueDelay time.Duration
}

// TransportCounters are a transport's running totals since it started. The
// server samples them into Stats.Transport (package server/admin exports
// them as metrics).
type TransportCounters struct {
	PacketsIn, PacketsOut uint64
	BytesIn, BytesOut     uint64
	// Drops counts datagrams and messages the transport dropped, by
	// reason (e.g. "malformed", "stale", "send_queue_full"); package
	// server/admin exports each as drops_total{reason="transport_<reason>"}.
	// A transport should report every reason it has, at 0 too, so that
	// each is exported from the start. The map may be reused by the
	// transport between calls (the server copies it).
	Drops map[string]uint64
	// Refused counts the connection attempts the transport refused, by
	// reason (e.g. "server_full", "token_invalid", "token_in_use"), every
	// reason at 0 too; the server exports each as refused_total{reason}.
	// Like Drops, the map may be reused between calls.
	Refused map[string]uint64
}

// Transport is what a Server needs from the connection layer. The netcode
// connection Server satisfies it through a thin adapter; tests use an
// in-memory fake. A Server calls every method from the goroutine that runs
// its ticks (Run's, or the one calling Step and Close), never concurrently,
// so a Transport need not be safe for concurrent use (it may still use its
// own goroutines for socket I/O).
type Transport interface {
	// Poll processes what arrived since the last call (and timers, such as
	// timeouts) at now, reporting connects and disconnects to fn in order.
	Poll(now time.Time, fn func(Event))
	// ReadMessage returns the next received message of client on channel;
	// msg is valid until the next call of any Transport method.
	ReadMessage(client ClientID, channel int) (msg []byte, ok bool)
	// Send queues msg (copied) to client on channel and returns the id the
	// transport's ack notifications will report it under.
	Send(client ClientID, channel int, msg []byte) (id uint16, err error)
	// Flush sends what is queued.
	Flush(now time.Time)
	// SetAckHandler registers fn, called (during Poll) when client has
	// received message id on channel.
	SetAckHandler(fn func(client ClientID, channel int, id uint16))
	// Stats returns client's link statistics (ok false for an unknown
	// client).
	Stats(client ClientID) (LinkStats, bool)
	// Counters returns the transport-wide totals.
	Counters() TransportCounters
	// Disconnect ends client's connection (telling the client); the
	// transport need not report a ClientDisconnected event for it.
	Disconnect(client ClientID)
	// Close tells every client the server is going away and releases the
	// transport.
	Close() error
}

// linkBudgeter is implemented by a Transport that can tell that no link of
// its ever has a send budget or a rate estimate (LinkStats.SendBudget and
// EstimatedRate always 0): the server then does not ask each client's
// Stats for them at every snapshot (for NetcodeTransport, building the
// endpoint's whole Stats for each client was 3% of a server's CPU at 2000
// clients).
type linkBudgeter interface {
	linkBudgets() bool
}
