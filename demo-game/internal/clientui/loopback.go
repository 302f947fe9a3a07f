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

// Loopback is a Source that runs an authoritative server for the demo inside
// the client, joined to it by two netcode reliability endpoints over a pair
// of simulated links (netsim.Link, one per direction): the client's side is
// the real Session, the packets really are lost, delayed, jittered and
// duplicated, and the HUD shows the endpoint's measurements. It needs no
// sockets and no goroutines: everything advances with the now passed in.
//
// The server half is minimal but follows the protocol: inputs go through a
// server.InputQueue, the world steps at game.TickRate, and snapshots go out
// at half that rate, delta-encoded against the newest one the client acked.
type Loopback struct {
	sess     *Session
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
	sess, err := NewSession(SessionConfig{})
	if err != nil {
		return nil, err
	}
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
		sess: sess, cli: cli, srv: srv, up: up, down: down,
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

// Session returns the client half, for its statistics.
func (l *Loopback) Session() *Session { return l.sess }

// Static returns the arena geometry.
func (l *Loopback) Static() *game.Static { return l.sess.Static() }

// SetLink changes the conditions of both directions; packets already in
// flight keep the delay they were given.
func (l *Loopback) SetLink(cfg netsim.Config) error {
	if err := l.up.SetConfig(cfg); err != nil {
		return err
	}
	return l.down.SetConfig(cfg)
}

// Close does nothing: a Loopback holds no resources beyond memory.
func (l *Loopback) Close() error { return nil }

// Update moves everything to now, then runs the client's tick with in.
func (l *Loopback) Update(now time.Time, in game.Input, _ Toggles) error {
	if err := l.advance(now); err != nil {
		return err
	}
	if msg := l.sess.Tick(now, in); msg != nil {
		if _, err := l.cli.Send(InputChannel, msg); err != nil {
			return fmt.Errorf("clientui: loopback: send input: %w", err)
		}
	}
	l.cli.Flush(now, func(p []byte) { l.up.Send(now, p) })
	return nil
}

// View returns the Session's view with the client endpoint's measurements.
func (l *Loopback) View(now time.Time, t Toggles) View {
	v := l.sess.View(now, t)
	st := l.cli.Stats()
	v.Sample = Sample{
		RTT: st.RTT, Jitter: st.RTTVar, Loss: st.PacketLoss,
		InKbps: st.ReceivedKbps, OutKbps: st.SentKbps,
		SnapshotRate: l.sess.SnapshotRate(now), InterpDelay: l.sess.InterpDelay(),
	}
	ss := l.sess.Stats()
	v.Status = fmt.Sprintf("loopback: in-process server | corrections %d | stalls %d/%d frames",
		ss.Corrections, ss.Stalls, ss.Frames)
	return v
}

// advance delivers due packets both ways and runs the server's due ticks.
func (l *Loopback) advance(now time.Time) error {
	l.up.Deliver(now, func(b []byte) { _ = l.srv.Receive(now, b) })
	for {
		msg, ok := l.srv.ReadMessage(InputChannel)
		if !ok {
			break
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
	tickDt := time.Second / game.TickRate
	for due := uint32(now.Sub(l.start) / tickDt); l.ticks < due; {
		if err := l.serverTick(); err != nil {
			return err
		}
	}
	l.srv.Flush(now, func(p []byte) { l.down.Send(now, p) })

	l.down.Deliver(now, func(b []byte) { _ = l.cli.Receive(now, b) })
	l.sess.SetRTT(l.cli.Stats().RTT)
	for _, ch := range []int{ControlChannel, SnapshotChannel} {
		for {
			msg, ok := l.cli.ReadMessage(ch)
			if !ok {
				break
			}
			// Undecodable snapshots are counted by the session and
			// recovered by a resync; they do not stop the game.
			_ = l.sess.HandleMessage(now, msg)
		}
	}
	return nil
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
