package server

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// tickBench is a server with n clients on the fake transport, each
// sending an input message every tick and acking every snapshot.
type tickBench struct {
	ts  *testServer
	n   int
	w   *wire.InputWriter
	msg []byte
}

func newTickBench(t testing.TB, n, workers int, g *testGame) *tickBench {
	g.noRecord = true
	return newGameBench(t, n, Config{SnapshotRate: 60, SnapshotWorkers: workers}, g)
}

// newGameBench is newTickBench for any game and config.
func newGameBench(t testing.TB, n int, cfg Config, g Game) *tickBench {
	if cfg.Codec.Schema.Fields == nil && cfg.Codec.Kinds == nil {
		cfg.Codec = testCodec
	}
	tr := newFakeTransport()
	srv, err := New(cfg, g, tr)
	require.NoError(t, err)
	ts := &testServer{Server: srv, tr: tr, start: time.Unix(1000, 0)}
	w, err := wire.NewInputWriter(4)
	require.NoError(t, err)
	ts.tr.bench = true
	for c := range n {
		ts.tr.connect(ClientID(c + 1))
	}
	ts.stepTo(t, 0)
	return &tickBench{ts: ts, n: n, w: w}
}

// tick delivers every client's input message and the acks of the
// snapshots sent last tick, then runs one tick.
func (b *tickBench) tick(t testing.TB) {
	ts := b.ts
	b.w.Push(uint32(ts.next), []byte{1, 2})
	// The server reads the message during this tick: one buffer will do.
	b.msg = b.w.AppendMessage(b.msg[:0])
	for c := range b.n {
		ts.tr.deliverShared(ClientID(c+1), DefaultInputChannel, b.msg)
	}
	ts.tr.acks = append(ts.tr.acks[:0], ts.tr.sent...)
	ts.tr.sent = ts.tr.sent[:0]
	ts.stepTo(t, ts.next)
}

// warmUp runs the ticks after which a tick allocates nothing: every slot
// of every client's snapshot history (SnapshotHistory ticks of them) has
// been filled once, and has grown to what the view sizes need.
func (b *tickBench) warmUp(t testing.TB) {
	for range 4 * DefaultSnapshotHistory {
		b.tick(t)
	}
}

// BenchmarkServerTick measures one snapshot tick (inputs, step, a snapshot
// per client built, delta-encoded and handed to the transport) with the
// fake transport acking every snapshot, for N clients each seeing about 30
// entities. ns/op is the tick's cost: at 60 Hz the budget is 16.7 ms. The
// fake transport copies nothing here, so allocs/op are the server's own
// (the game's test rules are O(players·entities) per snapshot, so ns/op is
// an upper bound of the server's share).
//
// The server is warmed up first (warmUp): until each client's snapshot
// history has filled once, a tick allocates the history slots' memory
// (three slices per slot: 19,200 allocations over the first 64 ticks at
// 100 clients), which amortised over b.N made allocs/op depend on the
// benchmark time rather than on the steady state.
func BenchmarkServerTick(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("clients=%d/workers=%d", n, workers), func(b *testing.B) {
				g := newTestGame(n)
				g.Radius = 2500
				tb := newTickBench(b, n, workers, g)
				tb.warmUp(b)
				b.ReportAllocs()
				for b.Loop() {
					tb.tick(b)
				}
				b.ReportMetric(viewedPerClient(tb.ts), "entities/client")
			})
		}
	}
}

// TestServerTickAllocs: once warmed up, a tick with inputs, acks and a
// delta snapshot for every client allocates nothing (one worker; a game
// whose views keep their size, so no history slot has to grow).
func TestServerTickAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 300 ticks of 50 clients")
	}
	tb := newTickBench(t, 50, 1, newTestGame(20))
	tb.warmUp(t)
	allocs := testing.AllocsPerRun(50, func() { tb.tick(t) })
	assert.Zero(t, allocs)
	st := tb.ts.Stats()
	assert.Greater(t, st.SnapshotsDelta, 50*uint64(4*DefaultSnapshotHistory-2), "deltas: the acks were used")
	assert.Equal(t, [NumDropReasons]uint64{}, st.Drops)
}

// BenchmarkSnapshotBuild measures what snapshots cost per client per tick:
// the server's snapshot phase alone (the game's view of the world, delta
// encoding against each client's acked baseline, the hand-over to the
// transport) for n clients that ack every snapshot, with every client
// due every tick. ns/client is ns/op divided by the clients.
func BenchmarkSnapshotBuild(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			heap0 := heapInUse()
			g := newTestGame(n)
			g.Radius = 2500
			tb := newTickBench(b, n, 1, g)
			tb.warmUp(b)
			ts := tb.ts
			perClient := float64(heapInUse()-heap0) / float64(n)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				ts.tr.acks = append(ts.tr.acks[:0], ts.tr.sent...)
				ts.tr.sent = ts.tr.sent[:0]
				ts.tr.Poll(ts.start, ts.onEventFn) // hands the acks over
				ts.tick++
				g.Step(ts.tick)
				b.StartTimer()
				ts.sendSnapshots()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
			b.ReportMetric(viewedPerClient(ts), "entities/client")
			b.ReportMetric(perClient, "heap-B/client")
		})
	}
}

// viewedPerClient returns how many entities of its room's world a client
// sees, on average.
func viewedPerClient(ts *testServer) float64 {
	var v state.View
	ents := 0
	for _, ss := range ts.sessions {
		r := ss.room
		if r.world == nil {
			continue
		}
		if r.interest == nil {
			ents += r.world.Len()
			continue
		}
		v.Reset(r.world.Len())
		r.interest.View(ss.player, r.world, &v)
		ents += v.Len()
	}
	return float64(ents) / float64(max(len(ts.sessions), 1))
}

// heapInUse returns the bytes of live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// gridGame is the load test's world (server/cmd/loadtest): players that
// move at up to 3 units a tick and resting props (two per player) in an
// 8000-unit square, each viewer seeing the 3×3 cells of 250 units around
// it (about 50 entities at 2000 players), its entities kept in id order
// so that View marks world indexes without a search.
type gridGame struct {
	ents  []gridEntity // by id: players (ids 0..n-1), then props
	cells [32 * 32][]int32
	rng   *rand.Rand
}

type gridEntity struct{ x, y, vx, vy int32 }

// gridSchema is the load test's.
var gridSchema = state.Schema{Fields: []state.Field{
	{Name: "x", Bits: 13}, {Name: "y", Bits: 13},
	{Name: "vx", Bits: 3, Signed: true}, {Name: "vy", Bits: 3, Signed: true},
}}

func newGridGame(players int) *gridGame {
	g := &gridGame{rng: rand.New(rand.NewPCG(1, 2))}
	for c := range g.cells {
		g.cells[c] = make([]int32, 0, 64) // room enough: Step allocates nothing
	}
	g.ents = make([]gridEntity, 3*players)
	for i := range g.ents {
		g.ents[i] = gridEntity{x: g.rng.Int32N(8000), y: g.rng.Int32N(8000)}
	}
	g.rebuild()
	return g
}

func (g *gridGame) rebuild() {
	for c := range g.cells {
		g.cells[c] = g.cells[c][:0]
	}
	for i, e := range g.ents {
		c := int(e.y)/250*32 + int(e.x)/250
		g.cells[c] = append(g.cells[c], int32(i))
	}
}

func (g *gridGame) AddPlayer(PlayerID) error { return nil }
func (g *gridGame) RemovePlayer(PlayerID)    {}

// ApplyInput ignores the bench's inputs (the same for every client): the
// players wander on their own, so that they stay spread over the world.
func (g *gridGame) ApplyInput(PlayerID, uint32, []byte) {}

func (g *gridGame) Step(uint32) {
	for i := range len(g.ents) / 3 {
		e := &g.ents[i]
		if g.rng.IntN(30) == 0 { // turn now and then, as the clients do
			e.vx, e.vy = g.rng.Int32N(7)-3, g.rng.Int32N(7)-3
		}
		if e.x+e.vx < 0 || e.x+e.vx > 7999 {
			e.vx = -e.vx
		}
		if e.y+e.vy < 0 || e.y+e.vy > 7999 {
			e.vy = -e.vy
		}
		e.x, e.y = e.x+e.vx, e.y+e.vy
	}
	g.rebuild()
}

func (g *gridGame) Snapshot(_ uint32, dst *state.Snapshot) {
	for i, e := range g.ents {
		f := dst.Add(uint32(i))
		f[0], f[1], f[2], f[3] = e.x, e.y, e.vx, e.vy
	}
}

func (g *gridGame) View(viewer PlayerID, _ *state.Snapshot, v *state.View) {
	me := g.ents[viewer]
	cx, cy := int(me.x)/250, int(me.y)/250
	for y := max(0, cy-1); y <= min(31, cy+1); y++ {
		for x := max(0, cx-1); x <= min(31, cx+1); x++ {
			for _, i := range g.cells[y*32+x] {
				v.Add(int(i))
			}
		}
	}
}

// BenchmarkGridTick is BenchmarkServerTick in the load test's world, at
// its rates (60 Hz ticks, 30 Hz snapshots: half the clients each tick),
// where each client's view is a small part of a large world: ns/client is
// a tick's cost per connected client, the figure that decides how many
// clients a core carries.
func BenchmarkGridTick(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			tb := newGameBench(b, n, Config{Codec: state.CodecConfig{Schema: gridSchema}}, newGridGame(n))
			tb.warmUp(b)
			b.ReportAllocs()
			for b.Loop() {
				tb.tick(b)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
			b.ReportMetric(viewedPerClient(tb.ts), "entities/client")
		})
	}
}
