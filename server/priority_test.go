package server

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// stampGame is a world of NPCs whose x is the tick (so a client can tell
// how old the values it holds are) and whose y moves with their id; NPCs
// spawn and despawn. Entity near (id 1<<20) matters most to everyone.
type stampGame struct {
	testGame
	ids    []uint32
	weight map[uint32]float32
	calls  int
}

const nearEntity = 1 << 20

func newStampGame(n int) *stampGame {
	g := &stampGame{weight: map[uint32]float32{nearEntity: UrgentPriority}}
	for i := range n {
		g.ids = append(g.ids, nearEntity+uint32(i))
	}
	return g
}

func (g *stampGame) Snapshot(tick uint32, dst *state.Snapshot) {
	for _, id := range g.ids {
		f := dst.Add(id)
		f[0], f[1] = int32(tick), int32(id%1000)*int32(tick%100)
	}
}

func (g *stampGame) Priority(_ PlayerID, world *state.Snapshot, i int) float32 {
	g.calls++
	if w, ok := g.weight[world.IDs[i]]; ok {
		return w
	}
	return 1
}

// TestBudgetedSnapshots: with a snapshot budget far below the world, under
// random loss and late acks, with spawns and despawns:
//   - every delivered snapshot decodes, and every entity in it holds
//     exactly the values it had in the world at some tick (its x says
//     which), never older than MaxStaleTicks plus a snapshot interval, and
//     never older than what the client held before;
//   - the entity with the top priority is fresh in every snapshot;
//   - snapshots fit the budget on average, and few exceed it by half;
//   - every entity reaches the client.
func TestBudgetedSnapshots(t *testing.T) {
	const (
		entities = 200
		budget   = 12000 // bytes/s: 400 B per snapshot at 30 Hz, a quarter of the world
		maxStale = 32
	)
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		g := newStampGame(entities)
		ts := newMsgServer(t, Config{SnapshotBudget: budget, MaxStaleTicks: maxStale}, g)
		ts.tr.connect(1)
		reader, err := wire.NewSnapshotReader(testCodec, 0)
		require.NoError(t, err)
		worlds := map[uint32]map[uint32][2]int32{} // tick -> id -> (x, y)
		held := map[uint32]int32{}                 // id -> the tick of the values the client holds
		everSeen := map[uint32]bool{}
		type lateAck struct {
			m  fakeSent
			at uint32
		}
		var pending []lateAck
		overBudget, snaps, partial, total := 0, 0, 0, 0
		nextID := uint32(nearEntity + entities)
		for tick := uint32(0); tick < 900; tick++ {
			if rng.Float64() < 0.05 { // despawn one (never the near one)
				i := 1 + rng.IntN(len(g.ids)-1)
				g.ids = slices.Delete(g.ids, i, i+1)
			}
			if rng.Float64() < 0.05 { // spawn one
				g.ids = append(g.ids, nextID)
				nextID++
			}
			w := map[uint32][2]int32{}
			for _, id := range g.ids {
				w[id] = [2]int32{int32(tick), int32(id%1000) * int32(tick%100)}
			}
			worlds[tick] = w
			// Acks come back 4..7 ticks after their snapshot; 10% never.
			keep := pending[:0]
			for _, a := range pending {
				if a.at > tick {
					keep = append(keep, a)
				} else if rng.Float64() >= 0.1 {
					ts.tr.ack(a.m)
				}
			}
			pending = keep
			ts.stepTo(t, uint64(tick))
			for _, m := range ts.tr.take(DefaultSnapshotChannel) {
				snaps++
				total += len(m.msg)
				if len(m.msg) > budget/30*3/2 {
					overBudget++
				}
				if rng.Float64() < 0.2 {
					continue // lost on the way
				}
				snap, _, err := reader.Read(m.msg)
				require.NoError(t, err, "seed %d tick %d", seed, tick)
				pending = append(pending, lateAck{m: m, at: tick + 4 + uint32(rng.IntN(4))})
				sawNear := false
				for i, id := range snap.IDs {
					f := snap.Fields(i)
					src := uint32(f[0])
					want, ok := worlds[src][id]
					require.True(t, ok, "seed %d tick %d: entity %d holds values of tick %d, when it was not in the world", seed, tick, id, src)
					require.Equal(t, want, [2]int32{f[0], f[1]}, "seed %d tick %d entity %d", seed, tick, id)
					assert.LessOrEqual(t, tick-src, uint32(maxStale+2), "seed %d tick %d entity %d: too stale", seed, tick, id)
					if prev, ok := held[id]; ok {
						assert.GreaterOrEqual(t, f[0], prev, "seed %d tick %d entity %d went back in time", seed, tick, id)
					}
					held[id] = f[0]
					everSeen[id] = true
					if id == nearEntity {
						sawNear = true
						assert.Equal(t, tick, src, "seed %d tick %d: the top-priority entity is fresh", seed, tick)
					}
				}
				assert.True(t, sawNear, "seed %d tick %d", seed, tick)
			}
		}
		st := ts.Stats()
		partial = int(st.SnapshotsPartial)
		t.Logf("seed %d: %d snapshots (mean %d B, budget %d B), %d partial, %d over 1.5 x budget, %d delta, %d full",
			seed, snaps, total/snaps, budget/30, partial, overBudget, st.SnapshotsDelta, st.SnapshotsFull)
		assert.Greater(t, partial, snaps*9/10, "the budget is far below the world")
		assert.LessOrEqual(t, total/snaps, budget/30, "on average, snapshots fit the budget")
		assert.Less(t, overBudget, snaps/20, "few go over it by half (acks lost: what they carried goes again)")
		for _, id := range g.ids {
			if id < nextID-10 { // the last spawns may not have had their turn
				assert.True(t, everSeen[id], "seed %d: entity %d never reached the client", seed, id)
			}
		}
		assert.Positive(t, g.calls, "the Game's Prioritizer was asked")
	}
}

// TestBudgetOffIsUnchanged: without a budget, the snapshot carries every
// entity fresh and no Prioritizer is asked.
func TestBudgetOffIsUnchanged(t *testing.T) {
	g := newStampGame(50)
	ts := newMsgServer(t, Config{AlignSnapshots: true}, g)
	ts.tr.connect(1)
	ts.stepTo(t, 4)
	reader, err := wire.NewSnapshotReader(testCodec, 0)
	require.NoError(t, err)
	var last *state.Snapshot
	for _, m := range ts.tr.take(DefaultSnapshotChannel) {
		last, _, err = reader.Read(m.msg)
		require.NoError(t, err)
	}
	require.NotNil(t, last)
	assert.Equal(t, 50, last.Len())
	for i := range last.Len() {
		assert.Equal(t, int32(4), last.Fields(i)[0])
	}
	assert.Zero(t, g.calls)
	assert.Zero(t, ts.Stats().SnapshotsPartial)
}

func TestBudgetConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{Codec: testCodec, SnapshotBudget: -1}, "Config.SnapshotBudget is -1"},
		{Config{Codec: testCodec, MaxStaleTicks: 33}, "Config.MaxStaleTicks is 33, want 0 (default SnapshotHistory/2) or 1..32"},
		{Config{Codec: testCodec, SnapshotHistory: 200, MaxStaleTicks: 101}, "1..100"},
	} {
		_, err := New(tt.cfg, newTestGame(0), newFakeTransport())
		require.ErrorIs(t, err, ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.want)
	}
}

// TestBudgetedSnapshotsNoAllocs: once warmed up, a tick of budgeted
// snapshots allocates nothing.
func TestBudgetedSnapshotsNoAllocs(t *testing.T) {
	g := newStampGame(300)
	ts := newMsgServer(t, Config{SnapshotBudget: 9000, SnapshotRate: 60}, g)
	for c := range ClientID(20) {
		ts.tr.connect(c + 1)
	}
	tick := func() {
		ts.tr.acks = append(ts.tr.acks[:0], ts.tr.sent...)
		ts.tr.sent = ts.tr.sent[:0]
		ts.stepTo(t, ts.next)
	}
	ts.tr.bench = true
	for range 4 * DefaultSnapshotHistory {
		tick()
	}
	assert.Zero(t, testing.AllocsPerRun(50, tick))
	assert.Positive(t, ts.Stats().SnapshotsPartial)
}

// TestLinkBudgetCapsSnapshots: a transport's per-connection send budget
// (LinkStats.SendBudget) caps the client's snapshots at 80% of it, and the
// snapshot header tells the client the budget and the rate estimate.
func TestLinkBudgetCapsSnapshots(t *testing.T) {
	g := newStampGame(400)
	ts := newMsgServer(t, Config{AlignSnapshots: true}, g)
	ts.tr.connect(1)
	ts.tr.stats[1] = LinkStats{SendBudget: 20_000, EstimatedRate: 18_000}
	var sizes []int
	for tick := uint64(0); tick < 40; tick++ {
		ts.stepTo(t, tick)
		for _, m := range ts.tr.take(DefaultSnapshotChannel) {
			hdr, _, err := wire.DecodeSnapshotMessage(m.msg)
			require.NoError(t, err)
			assert.Equal(t, uint32(20_000), hdr.SendBudget)
			assert.Equal(t, uint32(18_000), hdr.EstimatedRate)
			sizes = append(sizes, len(m.msg))
			ts.tr.ack(m)
		}
	}
	require.Len(t, sizes, 20)
	limit := 20_000 * 8 / 10 / 30 // 533 bytes per snapshot at 30 Hz
	for i, n := range sizes[1:] {
		assert.LessOrEqual(t, n, limit*3/2, "snapshot %d", i+1)
	}
	assert.Positive(t, ts.Stats().SnapshotsPartial, "400 entities do not fit")
}

// TestSnapshotsSkipStatsWithoutBudgets: a transport whose links never have
// a send budget is not asked each client's Stats at every snapshot, and
// the snapshots are the same (no cap, no budget in the header).
func TestSnapshotsSkipStatsWithoutBudgets(t *testing.T) {
	var out [2][][]byte
	for k, noBudgets := range []bool{false, true} {
		g := newTestGame(4)
		tr := newFakeTransport()
		tr.noBudgets = noBudgets
		srv, err := New(Config{Codec: testCodec}, g, tr)
		require.NoError(t, err)
		ts := &testServer{Server: srv, tr: tr, game: g, start: time.Unix(1000, 0)}
		ts.tr.connect(1)
		ts.tr.connect(2)
		ts.stepTo(t, 10)
		for _, m := range ts.tr.take(DefaultSnapshotChannel) {
			out[k] = append(out[k], m.msg)
		}
		if noBudgets {
			assert.Zero(t, ts.tr.statsCalls)
		} else {
			assert.Positive(t, ts.tr.statsCalls)
		}
	}
	require.NotEmpty(t, out[0])
	assert.Equal(t, out[0], out[1])
}
