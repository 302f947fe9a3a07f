package server

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tickwire/tickwire/netcode/state"
)

// fakeTransport is an in-memory Transport: tests queue events and client
// messages, inspect what the server sent, and decide which sent messages
// are acked (delivered through the ack handler at the next Poll).
type fakeTransport struct {
	events  []Event
	inbox   map[ClientID]map[int]*fakeQueue
	sent    []fakeSent
	nextID  map[ClientID]uint16
	ackFn   func(ClientID, int, uint16)
	acks    []fakeSent
	stats   map[ClientID]LinkStats
	ctr     TransportCounters
	polls   int
	onPoll  func(n int) // called at the start of every Poll
	kicked  []ClientID
	closed  bool
	flushes int
	sendErr error
	// bench: Send records nothing but the ids (for acks), deliverShared
	// does not copy; the transport then allocates nothing in steady state.
	bench bool
	// noBudgets: the transport says its links have no send budgets
	// (linkBudgeter); statsCalls counts Stats calls.
	noBudgets  bool
	statsCalls int
}

// fakeQueue is a FIFO of messages that reuses its memory once drained.
type fakeQueue struct {
	msgs [][]byte
	head int
}

func (f *fakeTransport) queue(c ClientID, channel int) *fakeQueue {
	if f.inbox[c] == nil {
		f.inbox[c] = map[int]*fakeQueue{}
	}
	q := f.inbox[c][channel]
	if q == nil {
		q = &fakeQueue{}
		f.inbox[c][channel] = q
	}
	return q
}

type fakeSent struct {
	client  ClientID
	channel int
	id      uint16
	msg     []byte
}

func newFakeTransport() *fakeTransport {
	return &fakeTransport{
		inbox:  map[ClientID]map[int]*fakeQueue{},
		nextID: map[ClientID]uint16{},
		stats:  map[ClientID]LinkStats{},
		ctr:    TransportCounters{Drops: map[string]uint64{}},
	}
}

// fakeAddr is the address the fake transport gives client c.
func fakeAddr(c ClientID) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(1000+c))
}

func (f *fakeTransport) connect(c ClientID) { f.connectWith(c, nil) }

// connectWith connects c with a connect token's user data.
func (f *fakeTransport) connectWith(c ClientID, userData []byte) {
	f.events = append(f.events, Event{Kind: ClientConnected, Client: c, Addr: fakeAddr(c), UserData: userData})
}

func (f *fakeTransport) disconnect(c ClientID) {
	f.events = append(f.events, Event{Kind: ClientDisconnected, Client: c, Reason: "test"})
}

// deliver queues msg from client c on channel for the server.
func (f *fakeTransport) deliver(c ClientID, channel int, msg []byte) {
	q := f.queue(c, channel)
	q.msgs = append(q.msgs, bytes.Clone(msg))
	f.ctr.PacketsIn++
	f.ctr.BytesIn += uint64(len(msg))
}

// deliverShared queues msg without copying it (msg must not change).
func (f *fakeTransport) deliverShared(c ClientID, channel int, msg []byte) {
	q := f.queue(c, channel)
	q.msgs = append(q.msgs, msg)
}

// ack makes the next Poll report m as received by its client.
func (f *fakeTransport) ack(m fakeSent) { f.acks = append(f.acks, m) }

// take returns and forgets the messages sent so far on channel.
func (f *fakeTransport) take(channel int) []fakeSent {
	var out, rest []fakeSent
	for _, m := range f.sent {
		if m.channel == channel {
			out = append(out, m)
		} else {
			rest = append(rest, m)
		}
	}
	f.sent = rest
	return out
}

func (f *fakeTransport) Poll(now time.Time, fn func(Event)) {
	f.polls++
	if f.onPoll != nil {
		f.onPoll(f.polls)
	}
	evs := f.events
	f.events = nil
	for _, ev := range evs {
		fn(ev)
	}
	acks := f.acks
	f.acks = nil
	for _, a := range acks {
		f.ackFn(a.client, a.channel, a.id)
	}
	if f.acks == nil {
		f.acks = acks[:0] // reuse the memory (benchmarks)
	}
}

func (f *fakeTransport) ReadMessage(c ClientID, channel int) ([]byte, bool) {
	q := f.inbox[c][channel]
	if q == nil || q.head == len(q.msgs) {
		if q != nil {
			q.msgs, q.head = q.msgs[:0], 0
		}
		return nil, false
	}
	m := q.msgs[q.head]
	q.head++
	return m, true
}

func (f *fakeTransport) Send(c ClientID, channel int, msg []byte) (uint16, error) {
	if f.sendErr != nil {
		return 0, f.sendErr
	}
	id := f.nextID[c]
	f.nextID[c]++
	if f.bench {
		f.sent = append(f.sent, fakeSent{client: c, channel: channel, id: id})
		return id, nil
	}
	f.sent = append(f.sent, fakeSent{client: c, channel: channel, id: id, msg: bytes.Clone(msg)})
	f.ctr.PacketsOut++
	f.ctr.BytesOut += uint64(len(msg))
	return id, nil
}

func (f *fakeTransport) Flush(time.Time) { f.flushes++ }

func (f *fakeTransport) SetAckHandler(fn func(ClientID, int, uint16)) { f.ackFn = fn }

func (f *fakeTransport) linkBudgets() bool { return !f.noBudgets }

func (f *fakeTransport) Stats(c ClientID) (LinkStats, bool) {
	f.statsCalls++
	s, ok := f.stats[c]
	return s, ok
}

func (f *fakeTransport) Counters() TransportCounters { return f.ctr }

func (f *fakeTransport) Disconnect(c ClientID) { f.kicked = append(f.kicked, c) }

func (f *fakeTransport) Close() error {
	f.closed = true
	return nil
}

// testGame is a small deterministic game: each player steers one entity
// with a two-byte input (velocity x, y as int8); NPCs wander on fixed
// paths. Snapshot shows the viewer and the players and NPCs within
// Manhattan distance Radius of the viewer (everything when Radius is 0).
type testGame struct {
	Radius  int32
	players []testEntity // by id
	npcs    []testEntity
	applied []appliedInput
	steps   []uint32
	refuse  map[PlayerID]bool
	// stepHook, when set, runs inside Step (e.g. to make a tick slow).
	stepHook func(tick uint32)
	removed  []PlayerID
	noRecord bool // do not record applied inputs and steps (benchmarks)
}

type appliedInput struct {
	player PlayerID
	tick   uint32
	input  string
}

type testEntity struct {
	id             uint32
	x, y, vx, vy   int32
	pathDX, pathDY int32
}

// testSchema: x, y in ±2^19, vx, vy in ±2^7.
var testSchema = state.Schema{Fields: []state.Field{
	{Name: "x", Bits: 20, Signed: true}, {Name: "y", Bits: 20, Signed: true},
	{Name: "vx", Bits: 8, Signed: true}, {Name: "vy", Bits: 8, Signed: true},
}}

const testWorld = 100000

func newTestGame(npcs int) *testGame {
	g := &testGame{}
	for i := range npcs {
		// NPCs get ids from 1<<20 up, players their PlayerID.
		g.npcs = append(g.npcs, testEntity{
			id: 1<<20 + uint32(i), x: int32(i*997%20000) - 10000, y: int32(i*7919%20000) - 10000,
			pathDX: int32(i%5) - 2, pathDY: int32(i%3) - 1,
		})
	}
	return g
}

// applyTestInput is the rule shared by the server game and the client's
// prediction: the input sets the velocity.
func applyTestInput(e *testEntity, input []byte) {
	if len(input) >= 2 {
		e.vx, e.vy = int32(int8(input[0])), int32(int8(input[1]))
	}
}

// stepTestEntity moves e one tick, clamped to the world.
func stepTestEntity(e *testEntity) {
	e.x = min(max(e.x+e.vx, -testWorld), testWorld)
	e.y = min(max(e.y+e.vy, -testWorld), testWorld)
}

func (g *testGame) AddPlayer(id PlayerID) error {
	if g.refuse[id] {
		return fmt.Errorf("player %d refused", id)
	}
	g.players = append(g.players, testEntity{id: uint32(id), x: int32(id) * 100})
	return nil
}

func (g *testGame) RemovePlayer(id PlayerID) {
	g.removed = append(g.removed, id)
	g.players = slices.DeleteFunc(g.players, func(e testEntity) bool { return e.id == uint32(id) })
}

func (g *testGame) player(id PlayerID) *testEntity {
	for i := range g.players {
		if g.players[i].id == uint32(id) {
			return &g.players[i]
		}
	}
	return nil
}

func (g *testGame) ApplyInput(id PlayerID, tick uint32, input []byte) {
	if !g.noRecord {
		g.applied = append(g.applied, appliedInput{id, tick, string(input)})
	}
	if e := g.player(id); e != nil {
		applyTestInput(e, input)
	}
}

func (g *testGame) Step(tick uint32) {
	if !g.noRecord {
		g.steps = append(g.steps, tick)
	}
	if g.stepHook != nil {
		g.stepHook(tick)
	}
	for i := range g.players {
		stepTestEntity(&g.players[i])
	}
	for i := range g.npcs {
		e := &g.npcs[i]
		if tick%120 == 0 { // turn around every two seconds
			e.pathDX, e.pathDY = -e.pathDX, -e.pathDY
		}
		e.vx, e.vy = e.pathDX, e.pathDY
		stepTestEntity(e)
	}
}

// World adds every NPC and player, NPCs first and out of id order on
// purpose: the server sorts.
func (g *testGame) Snapshot(tick uint32, dst *state.Snapshot) {
	add := func(e *testEntity) {
		f := dst.Add(e.id)
		f[0], f[1], f[2], f[3] = e.x, e.y, e.vx, e.vy
	}
	for i := len(g.npcs) - 1; i >= 0; i-- {
		add(&g.npcs[i])
	}
	for i := range g.players {
		add(&g.players[i])
	}
}

// View (Interest) shows the viewer what is within Radius (Manhattan) of
// its player, and itself; everything with Radius 0 or no player.
func (g *testGame) View(viewer PlayerID, world *state.Snapshot, v *state.View) {
	me, ok := world.Find(uint32(viewer))
	if g.Radius == 0 || !ok {
		v.SetAll(world.Len())
		return
	}
	st, vals := world.Stride, world.Values
	mx, my := vals[me*st], vals[me*st+1]
	for i := range world.Len() {
		if abs(vals[i*st]-mx)+abs(vals[i*st+1]-my) <= g.Radius {
			v.Add(i) // the viewer too (distance 0)
		}
	}
}

func abs(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// expectedSnapshot is the snapshot viewer should decode at the game's
// current state, built from the game's entities without the server.
func (g *testGame) expectedSnapshot(viewer PlayerID, tick uint32) *state.Snapshot {
	s := state.NewSnapshot(tick, testSchema.NumFields(), 0)
	me := g.player(viewer)
	for _, list := range [][]testEntity{g.npcs, g.players} {
		for i := range list {
			e := &list[i]
			if g.Radius != 0 && me != nil && e != me && abs(e.x-me.x)+abs(e.y-me.y) > g.Radius {
				continue
			}
			f := s.Add(e.id)
			f[0], f[1], f[2], f[3] = e.x, e.y, e.vx, e.vy
		}
	}
	s.Sort()
	return s
}
