package clientui

import (
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
)

// Channels of the demo protocol, as in server.Config's defaults.
const (
	ControlChannel  = server.DefaultControlChannel
	InputChannel    = server.DefaultInputChannel
	SnapshotChannel = server.DefaultSnapshotChannel
)

// Loopback is a Conn to an authoritative demo server that runs inside the
// client, joined to it by two netcode reliability endpoints over a pair of
// simulated links (netsim.Link, one per direction). Used as the Conn of an
// Online source, the whole client path is real: the Session, the endpoint's
// acks and measurements, and packets that really are lost, delayed,
// jittered and duplicated as the network panel says (Loopback is also the
// Conditioner). It needs no sockets and no goroutines: everything advances
// with the now passed to Update.
//
// The server is a MiniServer on the server endpoint, ticking at
// game.TickRate from the time the Loopback was made.
type Loopback struct {
	cli, srv *endpoint.Endpoint
	up, down *netsim.Link // client → server, server → client
	server   *MiniServer
	start    time.Time
}

// MaxLoopbackBots bounds LoopbackConfig.Bots.
const MaxLoopbackBots = 7

// LoopbackConfig configures a Loopback.
type LoopbackConfig struct {
	Link netsim.Config // conditions of each direction
	Seed uint64        // world and link seed
	NPCs int           // wandering NPCs, 0..game.MaxNPCs
	// Bots are extra players the server moves with Script (each a little
	// out of step), so remote players can be seen interpolated; 0..7.
	Bots int
}

// NewLoopback starts a loopback server at now.
func NewLoopback(now time.Time, cfg LoopbackConfig) (*Loopback, error) {
	cli, err := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)
	if err != nil {
		return nil, err
	}
	srv, err := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)
	if err != nil {
		return nil, err
	}
	up, err := netsim.NewLink(cfg.Link, cfg.Seed)
	if err != nil {
		return nil, err
	}
	down, err := netsim.NewLink(cfg.Link, cfg.Seed+1)
	if err != nil {
		return nil, err
	}
	ms, err := NewMiniServer(srv, cfg)
	if err != nil {
		return nil, err
	}
	srv.SetAckHandler(ms.Acked)
	return &Loopback{cli: cli, srv: srv, up: up, down: down, server: ms, start: now}, nil
}

// NewLoopbackSource returns an Online source over a new Loopback.
func NewLoopbackSource(now time.Time, cfg LoopbackConfig) (*Online, error) {
	l, err := NewLoopback(now, cfg)
	if err != nil {
		return nil, err
	}
	return NewOnline(l, l, "loopback")
}

// SetConfig changes the conditions of both directions; packets already in
// flight keep the delay they were given.
func (l *Loopback) SetConfig(cfg netsim.Config) error {
	if err := l.up.SetConfig(cfg); err != nil {
		return err
	}
	return l.down.SetConfig(cfg)
}

// Close does nothing: a Loopback holds no resources beyond memory.
func (l *Loopback) Close() error { return nil }

// Send queues msg on the client endpoint.
func (l *Loopback) Send(channel int, msg []byte) (netcode.MessageID, error) {
	return l.cli.Send(channel, msg)
}

// ReadMessage reads from the client endpoint.
func (l *Loopback) ReadMessage(channel int) ([]byte, bool) { return l.cli.ReadMessage(channel) }

// Stats returns the client endpoint's measurements.
func (l *Loopback) Stats() netcode.Stats { return l.cli.Stats() }

// Update runs the server and both links up to now (delivering to the
// client at the exact arrival times), then flushes the client's packets into
// the up link.
func (l *Loopback) Update(now time.Time) error {
	if err := l.advance(now); err != nil {
		return err
	}
	l.cli.Flush(now, func(p []byte) { l.up.Send(now, p) })
	return nil
}

// advance runs everything that happened between the previous call and
// now, in time order and each at its own time: datagrams arriving at the
// server (whose inputs go to the input queue), server ticks (each followed
// by a flush, as a real server does), and datagrams arriving at the client.
// Timing each event exactly keeps the measured RTT and jitter those of the
// simulated link, not rounded to the client's frames.
func (l *Loopback) advance(now time.Time) error {
	tickDt := time.Second / game.TickRate
	for {
		// The earliest event due by now; on a tie, arrivals at the server
		// first, then its tick, then arrivals at the client.
		var at time.Time
		kind := eventNone
		consider := func(t time.Time, k int) {
			if !t.After(now) && (kind == eventNone || t.Before(at)) {
				at, kind = t, k
			}
		}
		if t, ok := l.up.NextDelivery(); ok {
			consider(t, eventUp)
		}
		consider(l.start.Add(time.Duration(l.server.Ticks()+1)*tickDt), eventTick)
		if t, ok := l.down.NextDelivery(); ok {
			consider(t, eventDown)
		}
		switch kind {
		case eventNone:
			return nil
		case eventUp:
			l.up.Deliver(at, func(b []byte) { _ = l.srv.Receive(at, b) })
			l.server.ReadInputs()
		case eventTick:
			if err := l.server.Tick(); err != nil {
				return err
			}
			l.srv.Flush(at, func(p []byte) { l.down.Send(at, p) })
		case eventDown:
			l.down.Deliver(at, func(b []byte) { _ = l.cli.Receive(at, b) })
		}
	}
}

// Events of advance.
const (
	eventNone = iota
	eventUp
	eventTick
	eventDown
)
