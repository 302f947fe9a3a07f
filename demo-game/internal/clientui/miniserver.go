package clientui

import (
	"fmt"
	"slices"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/wire"
)

// ServerLink is how a MiniServer talks to its one client: a netcode
// Endpoint, or one client of a netcode connection Server, has this shape.
type ServerLink interface {
	Send(channel int, msg []byte) (netcode.MessageID, error)
	ReadMessage(channel int) (msg []byte, ok bool)
}

// MiniServer is a minimal authoritative demo server for one client, used
// by Loopback and by tests: it follows the demo protocol (welcome, input
// messages into a server.InputQueue, snapshots at half the tick rate,
// delta-encoded against the newest snapshot the client acked) and moves
// LoopbackConfig.Bots scripted players besides the client's. The real demo
// server is built on package server; this one exists so the client can run
// its whole network path without one.
//
// The zero MiniServer is not usable (NewMiniServer); it is not safe for
// concurrent use.
type MiniServer struct {
	link     ServerLink
	world    *game.World
	queue    *server.InputQueue
	enc      *state.Encoder
	base     *state.BaselineTracker
	snap     *state.Snapshot
	sentTick [1 << 16]uint32 // snapshot tick by message id
	ents     []game.Entity
	msg      wire.InputMessage
	out      []byte
	gotInput bool

	ticks  uint32 // ticks run
	player uint32
	bots   []game.Point // spawn points of players player+1 …, moved by ScriptFrom
}

// NewMiniServer returns a server whose world has the client's player (ID
// 1) and cfg.Bots scripted players, and queues the welcome on link.
func NewMiniServer(link ServerLink, cfg LoopbackConfig) (*MiniServer, error) {
	if cfg.Bots < 0 || cfg.Bots > MaxLoopbackBots {
		return nil, fmt.Errorf("clientui: LoopbackConfig.Bots = %d: must be 0..%d", cfg.Bots, MaxLoopbackBots)
	}
	wcfg := game.DefaultConfig()
	wcfg.Seed, wcfg.NPCs = cfg.Seed, cfg.NPCs
	world, err := game.New(wcfg)
	if err != nil {
		return nil, err
	}
	const player = 1
	for id := uint32(player); id <= player+uint32(cfg.Bots); id++ {
		if err := world.AddPlayer(id); err != nil {
			return nil, err
		}
	}
	queue, err := server.NewInputQueue(server.InputConfig{}, 1)
	if err != nil {
		return nil, err
	}
	enc, err := state.NewEncoder(Codec())
	if err != nil {
		return nil, err
	}
	base, err := state.NewBaselineTracker(server.DefaultSnapshotHistory)
	if err != nil {
		return nil, err
	}
	m := &MiniServer{
		link: link, world: world, queue: queue, enc: enc, base: base,
		snap:   state.NewSnapshot(0, game.NumEntityFields, 64),
		player: player,
	}
	for b := 1; b <= cfg.Bots; b++ {
		p, _ := world.Player(player + uint32(b))
		m.bots = append(m.bots, game.Point{X: p.X, Y: p.Y})
	}
	welcome := wire.AppendWelcome(nil, wire.Welcome{
		Player: player, TickRate: game.TickRate, SnapshotRate: game.TickRate / 2, Tick: 0,
	})
	if _, err := link.Send(ControlChannel, welcome); err != nil {
		return nil, err
	}
	return m, nil
}

// Ticks returns how many ticks the server has run.
func (m *MiniServer) Ticks() uint32 { return m.ticks }

// World returns the server's world (read it, do not change it).
func (m *MiniServer) World() *game.World { return m.world }

// Acked records that the client received message id on channel (call it
// from the transport's ack notification); snapshot acks choose the delta
// baseline.
func (m *MiniServer) Acked(channel int, id netcode.MessageID) {
	if channel == SnapshotChannel {
		m.base.Ack(m.sentTick[id])
	}
}

// ReadInputs moves the inputs of the received input messages to the queue.
// Malformed messages are dropped.
func (m *MiniServer) ReadInputs() {
	for {
		msg, ok := m.link.ReadMessage(InputChannel)
		if !ok {
			return
		}
		if err := wire.DecodeInputMessage(msg, &m.msg); err != nil {
			continue
		}
		for i, in := range m.msg.Inputs {
			m.queue.Offer(m.msg.NewestTick-uint32(i), in)
		}
		m.gotInput = true
		if m.msg.Resync {
			// The client lost a baseline: the next snapshot goes in full.
			m.base.Reset()
		}
	}
}

// Tick runs one tick and, on even ticks, sends a snapshot.
func (m *MiniServer) Tick() error {
	tick := m.ticks + 1
	in, src := m.queue.Take(tick)
	if src != server.InputNone && src != server.InputMissing {
		if v, _, err := game.DecodeInput(in); err == nil {
			_ = m.world.SetInput(m.player, v)
		}
	}
	for i, at := range m.bots {
		b := uint32(i + 1)
		_ = m.world.SetInput(m.player+b, ScriptFrom(tick+b*37, at.X, at.Y))
	}
	m.world.Step()
	m.ticks = tick
	if tick%2 != 0 {
		return nil
	}
	m.ents = m.world.Entities(m.ents[:0])
	slices.SortFunc(m.ents, func(a, b game.Entity) int { return int(int64(a.ID) - int64(b.ID)) })
	m.snap.Reset(tick, game.NumEntityFields)
	for _, e := range m.ents {
		f := m.snap.Add(e.ID)
		copy(f, e.AppendFields(f[:0]))
	}
	hdr := wire.SnapshotHeader{HasInputAck: m.gotInput, InputAck: tick}
	if newest, ok := m.queue.Newest(); ok {
		hdr.InputLead = int32(int64(newest) - int64(tick))
	}
	var err error
	m.out = wire.AppendSnapshotHeader(m.out[:0], hdr)
	m.out, err = m.enc.Encode(m.out, m.snap, m.base.Baseline())
	if err != nil {
		return fmt.Errorf("clientui: mini server: encode snapshot: %w", err)
	}
	id, err := m.link.Send(SnapshotChannel, m.out)
	if err != nil {
		return nil // queue full on a thin link: skip this snapshot
	}
	m.sentTick[id] = tick
	m.base.Sent(m.snap)
	return nil
}

// InputStats returns the client's input queue counters (late, missing...).
func (m *MiniServer) InputStats() server.InputStats { return m.queue.Stats() }
