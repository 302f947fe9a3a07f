package clientui

import (
	"fmt"
	"slices"
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	netsync "github.com/tickwire/tickwire/netcode/sync"
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
// The server half is minimal but follows the protocol: inputs go through a
// server.InputQueue, the world steps at game.TickRate, and snapshots go out
// at half that rate, delta-encoded against the newest one the client acked.
type Loopback struct {
	cli, srv *netcode.Endpoint
	up, down *netsim.Link // client → server, server → client

	world    *game.World
	queue    *server.InputQueue
	enc      *netsync.Encoder
	base     *netsync.BaselineTracker
	snap     *netsync.Snapshot
	sentTick [1 << 16]uint32 // snapshot tick by message id
	ents     []game.Entity
	msg      server.InputMessage
	out      []byte
	gotInput bool

	start  time.Time
	ticks  uint32 // server ticks run
	player uint32
}

// NewLoopback starts a loopback server at now with the given world seed and
// NPC count, and conditions link in both directions.
func NewLoopback(now time.Time, link netsim.Config, seed uint64, npcs int) (*Loopback, error) {
	cli, err := netcode.NewEndpoint(netcode.DefaultConfig(), now)
	if err != nil {
		return nil, err
	}
	srv, err := netcode.NewEndpoint(netcode.DefaultConfig(), now)
	if err != nil {
		return nil, err
	}
	up, err := netsim.NewLink(link, seed)
	if err != nil {
		return nil, err
	}
	down, err := netsim.NewLink(link, seed+1)
	if err != nil {
		return nil, err
	}
	cfg := game.DefaultConfig()
	cfg.Seed, cfg.NPCs = seed, npcs
	world, err := game.New(cfg)
	if err != nil {
		return nil, err
	}
	const player = 1
	if err := world.AddPlayer(player); err != nil {
		return nil, err
	}
	queue, err := server.NewInputQueue(server.InputConfig{}, 1)
	if err != nil {
		return nil, err
	}
	enc, err := netsync.NewEncoder(Codec())
	if err != nil {
		return nil, err
	}
	base, err := netsync.NewBaselineTracker(server.DefaultSnapshotHistory)
	if err != nil {
		return nil, err
	}
	l := &Loopback{
		cli: cli, srv: srv, up: up, down: down,
		world: world, queue: queue, enc: enc, base: base,
		snap:  netsync.NewSnapshot(0, game.NumEntityFields, 64),
		start: now, player: player,
	}
	srv.SetAckHandler(func(channel int, id netcode.MessageID) {
		if channel == SnapshotChannel {
			l.base.Ack(l.sentTick[id])
		}
	})
	welcome := server.AppendWelcome(nil, server.Welcome{
		Player: player, TickRate: game.TickRate, SnapshotRate: game.TickRate / 2, Tick: 0,
	})
	if _, err := srv.Send(ControlChannel, welcome); err != nil {
		return nil, err
	}
	return l, nil
}

// NewLoopbackSource returns an Online source over a new Loopback.
func NewLoopbackSource(now time.Time, link netsim.Config, seed uint64, npcs int) (*Online, error) {
	l, err := NewLoopback(now, link, seed, npcs)
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
		at, kind := now, eventNone
		if t, ok := l.up.NextDelivery(); ok && !t.After(at) {
			at, kind = t, eventUp
		}
		if t := l.start.Add(time.Duration(l.ticks+1) * tickDt); !t.After(now) && t.Before(at) || (kind == eventNone && !t.After(now)) {
			at, kind = t, eventTick
		}
		if t, ok := l.down.NextDelivery(); ok && !t.After(now) && (kind == eventNone || t.Before(at)) {
			at, kind = t, eventDown
		}
		switch kind {
		case eventNone:
			return nil
		case eventUp:
			l.up.Deliver(at, func(b []byte) { _ = l.srv.Receive(at, b) })
			l.readInputs()
		case eventTick:
			if err := l.serverTick(); err != nil {
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

// readInputs moves the inputs of received input messages to the queue.
func (l *Loopback) readInputs() {
	for {
		msg, ok := l.srv.ReadMessage(InputChannel)
		if !ok {
			return
		}
		if err := server.DecodeInputMessage(msg, &l.msg); err != nil {
			continue // dropped, as the real server does
		}
		for i, in := range l.msg.Inputs {
			l.queue.Offer(l.msg.NewestTick-uint32(i), in)
		}
		l.gotInput = true
		if l.msg.Resync {
			// The client lost a baseline: the next snapshot goes in full.
			l.base.Reset()
		}
	}
}

// serverTick runs one server tick and sends a snapshot on even ticks.
func (l *Loopback) serverTick() error {
	tick := l.ticks + 1
	in, src := l.queue.Take(tick)
	if src != server.InputNone && src != server.InputMissing {
		if v, _, err := game.DecodeInput(in); err == nil {
			_ = l.world.SetInput(l.player, v)
		}
	}
	l.world.Step()
	l.ticks = tick
	if tick%2 != 0 {
		return nil
	}
	l.ents = l.world.Entities(l.ents[:0])
	slices.SortFunc(l.ents, func(a, b game.Entity) int { return int(int64(a.ID) - int64(b.ID)) })
	l.snap.Reset(tick, game.NumEntityFields)
	for _, e := range l.ents {
		f := l.snap.Add(e.ID)
		copy(f, e.AppendFields(f[:0]))
	}
	hdr := server.SnapshotHeader{HasInputAck: l.gotInput, InputAck: tick}
	if newest, ok := l.queue.Newest(); ok {
		hdr.InputLead = int32(int64(newest) - int64(tick))
	}
	var err error
	l.out = server.AppendSnapshotHeader(l.out[:0], hdr)
	l.out, err = l.enc.Encode(l.out, l.snap, l.base.Baseline())
	if err != nil {
		return fmt.Errorf("clientui: loopback: encode snapshot: %w", err)
	}
	id, err := l.srv.Send(SnapshotChannel, l.out)
	if err != nil {
		return nil // queue full on a thin link: skip this snapshot
	}
	l.sentTick[id] = tick
	l.base.Sent(l.snap)
	return nil
}
