package server

import (
	"fmt"
	"net"
	"time"

	"github.com/tickwire/tickwire/netcode"
)

// NetcodeTransport adapts a netcode connection Server (one UDP socket, many
// clients) to the Transport a Server runs on. Poll only receives and Flush
// sends, so each client gets at most one datagram per tick, carrying that
// tick's messages and the acks of what it sent. Like netcode.Server, it
// must be used from one goroutine (the one running the Server's ticks);
// Addr is safe from any goroutine.
type NetcodeTransport struct {
	srv     *netcode.Server
	ack     func(ClientID, int, uint16)
	drops   map[string]uint64
	refused map[string]uint64
	budgets bool // the endpoints have a send budget (Endpoint.SendRate)
}

// DefaultAckDelay is the endpoint.Config.AckDelay that NewNetcodeTransport
// uses when cfg.Endpoint leaves it zero: a little more than the 33 ms
// between two 30 Hz snapshots to a client, so that the acks of its inputs
// ride on its snapshots instead of costing a datagram of their own (at
// 60 Hz ticks that is two datagrams in three).
const DefaultAckDelay = 40 * time.Millisecond

// NewNetcodeTransport serves cfg on pc (a UDP socket, or a netsim-wrapped
// one). cfg.OnMessageAcked, if set, is still called, before the Server's
// handler. A zero cfg.Endpoint.AckDelay means DefaultAckDelay.
func NewNetcodeTransport(pc net.PacketConn, cfg netcode.ServerConfig) (*NetcodeTransport, error) {
	// Without Endpoint.SendRate no connection has a send budget, nor a rate
	// estimate (netcode has no per-connection budget).
	t := &NetcodeTransport{drops: map[string]uint64{}, budgets: cfg.Endpoint.SendRate > 0}
	if cfg.Endpoint.AckDelay == 0 {
		cfg.Endpoint.AckDelay = DefaultAckDelay
	}
	user := cfg.OnMessageAcked
	cfg.OnMessageAcked = func(c netcode.ClientID, ch int, id netcode.MessageID) {
		if user != nil {
			user(c, ch, id)
		}
		if t.ack != nil {
			t.ack(ClientID(c), ch, uint16(id))
		}
	}
	srv, err := netcode.NewServer(pc, cfg)
	if err != nil {
		return nil, err
	}
	t.srv = srv
	return t, nil
}

// ListenNetcode opens a UDP socket on addr (e.g. "127.0.0.1:0", ":7000")
// and serves cfg on it.
func ListenNetcode(addr string, cfg netcode.ServerConfig) (*NetcodeTransport, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen %q: %w", addr, err)
	}
	pc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("server: listen %q: %w", addr, err)
	}
	t, err := NewNetcodeTransport(pc, cfg)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	return t, nil
}

// NetcodeServer returns the underlying connection server (for its
// per-client info and stats; use it only from the goroutine running the
// Server's ticks).
func (t *NetcodeTransport) NetcodeServer() *netcode.Server { return t.srv }

// Addr returns the socket's local address.
func (t *NetcodeTransport) Addr() net.Addr { return t.srv.Addr() }

// Poll runs the connection server's Receive (which sends nothing) and
// reports its events; a connect carries the connect token's user data
// (secure mode).
func (t *NetcodeTransport) Poll(now time.Time, fn func(Event)) {
	t.srv.Receive(now)
	for ev, ok := t.srv.PollEvent(); ok; ev, ok = t.srv.PollEvent() {
		e := Event{Client: ClientID(ev.Client), Addr: ev.Addr}
		switch ev.Kind {
		case netcode.EventConnect:
			e.Kind = ClientConnected
			// A client that connected and left within this Receive has
			// no info left (its disconnect event follows).
			if info, ok := t.srv.Client(ev.Client); ok {
				e.UserData = info.UserData
			}
		case netcode.EventDisconnect:
			e.Kind = ClientDisconnected
			e.Reason = ev.Reason.String()
		default:
			continue
		}
		fn(e)
	}
}

// ReadMessage returns the next message of client on channel.
func (t *NetcodeTransport) ReadMessage(client ClientID, channel int) ([]byte, bool) {
	return t.srv.ReadMessage(netcode.ClientID(client), channel)
}

// Send queues msg to client on channel.
func (t *NetcodeTransport) Send(client ClientID, channel int, msg []byte) (uint16, error) {
	id, err := t.srv.Send(netcode.ClientID(client), channel, msg)
	return uint16(id), err
}

// Flush sends what is queued, with the acks owed, and handshake replies.
func (t *NetcodeTransport) Flush(now time.Time) { t.srv.Flush(now) }

// SetAckHandler registers the Server's ack handler.
func (t *NetcodeTransport) SetAckHandler(fn func(ClientID, int, uint16)) { t.ack = fn }

// Stats returns client's RTT, packet loss and send budget from its
// endpoint (the budget with netcode's Endpoint.SendRate set).
func (t *NetcodeTransport) Stats(client ClientID) (LinkStats, bool) {
	info, ok := t.srv.Client(netcode.ClientID(client))
	if !ok {
		return LinkStats{}, false
	}
	st := &info.Stats
	return LinkStats{
		RTT: st.RTT, PacketLoss: st.PacketLoss,
		SendBudget: st.SendRate, EstimatedRate: st.EstimatedRate, QueueDelay: st.QueueDelay,
	}, true
}

// linkBudgets reports whether a client's Stats may carry a SendBudget or an
// EstimatedRate (see linkBudgeter).
func (t *NetcodeTransport) linkBudgets() bool { return t.budgets }

// Counters returns the connection server's datagram totals and drops.
func (t *NetcodeTransport) Counters() TransportCounters {
	st := t.srv.Stats()
	d := t.drops
	for name, n := range st.Drops() {
		d[name] = n
	}
	d["send_error"] = st.SendErrors
	if t.refused == nil {
		t.refused = map[string]uint64{}
	}
	for reason, n := range st.Refusals() {
		t.refused[reason.String()] = n
	}
	return TransportCounters{
		PacketsIn: st.DatagramsReceived, PacketsOut: st.DatagramsSent,
		BytesIn: st.BytesReceived, BytesOut: st.BytesSent,
		Drops: d, Refused: t.refused,
	}
}

// Disconnect kicks client.
func (t *NetcodeTransport) Disconnect(client ClientID) {
	_ = t.srv.Disconnect(netcode.ClientID(client))
}

// Close disconnects every client (redundantly) and closes the socket.
func (t *NetcodeTransport) Close() error { return t.srv.Close() }
