package server

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/state"

	"github.com/tickwire/tickwire/server/wire"
)

var testCodec = state.CodecConfig{Schema: testSchema}

// testServer drives a Server tick by tick without its loop.
type testServer struct {
	*Server
	tr    *fakeTransport
	game  *testGame
	start time.Time
	next  uint64
}

func newTestServer(t testing.TB, cfg Config, g *testGame) *testServer {
	t.Helper()
	if cfg.Codec.Schema.Fields == nil && cfg.Codec.Kinds == nil {
		cfg.Codec = testCodec
	}
	tr := newFakeTransport()
	s, err := New(cfg, g, tr)
	require.NoError(t, err)
	return &testServer{Server: s, tr: tr, game: g, start: time.Unix(1000, 0)}
}

// stepTo runs ticks up to and including tick.
func (ts *testServer) stepTo(t testing.TB, tick uint64) {
	t.Helper()
	for ; ts.next <= tick; ts.next++ {
		now := ts.start.Add(time.Duration(ts.next) * ts.loop.Interval())
		require.NoError(t, ts.Step(now))
	}
}

func inputMsg(t testing.TB, newest uint32, inputs ...string) []byte {
	t.Helper()
	m := wire.InputMessage{NewestTick: newest}
	for _, in := range inputs {
		m.Inputs = append(m.Inputs, []byte(in))
	}
	return wire.AppendInputMessage(nil, &m)
}

func TestServerTickSequence(t *testing.T) {
	g := newTestGame(2)
	ts := newTestServer(t, Config{}, g)
	ts.tr.connect(7)
	ts.tr.connect(8)
	// Client 7 sends the inputs of ticks 0..3 in two messages, repeating.
	ts.tr.deliver(7, DefaultInputChannel, inputMsg(t, 1, "b", "a"))
	ts.tr.deliver(7, DefaultInputChannel, inputMsg(t, 3, "d", "c", "b", "a"))
	ts.stepTo(t, 5)

	assert.Equal(t, []uint32{0, 1, 2, 3, 4, 5}, g.steps)
	assert.Equal(t, []appliedInput{
		{1, 0, "a"}, {1, 1, "b"}, {1, 2, "c"}, {1, 3, "d"},
		{1, 4, "d"}, {1, 5, "d"}, // missing: repeated
	}, g.applied)
	assert.Equal(t, 2, ts.Clients())
	assert.Equal(t, 6, ts.tr.flushes)

	welcomes := ts.tr.take(DefaultControlChannel)
	require.Len(t, welcomes, 2)
	for i, m := range welcomes {
		w, err := wire.DecodeWelcome(m.msg)
		require.NoError(t, err)
		assert.Equal(t, wire.Welcome{Player: PlayerID(i + 1), TickRate: 60, SnapshotRate: 30, Tick: 0}, w)
	}

	snaps := ts.tr.take(DefaultSnapshotChannel)
	require.Len(t, snaps, 6, "three each: player 2 on ticks 0, 2, 4, player 1 (phase 1) on 1, 3, 5")
	reader, err := wire.NewSnapshotReader(testCodec, 0)
	require.NoError(t, err)
	for _, m := range snaps {
		if m.client != 7 {
			h, _, err := wire.DecodeSnapshotMessage(m.msg)
			require.NoError(t, err)
			assert.False(t, h.HasInputAck, "client 8 sent no input")
			continue
		}
		snap, h, err := reader.Read(m.msg)
		require.NoError(t, err)
		assert.True(t, h.HasInputAck)
		assert.Equal(t, snap.Tick, h.InputAck)
		assert.Len(t, snap.IDs, 4, "2 NPCs and 2 players")
	}
	st := ts.Stats()
	assert.Equal(t, uint64(6), st.SnapshotsFull, "no acks: every snapshot full")
	assert.Equal(t, uint64(0), st.SnapshotsDelta)
	var bytes uint64
	for _, m := range snaps {
		bytes += uint64(len(m.msg))
	}
	assert.Equal(t, bytes, st.SnapshotBytesFull)
	assert.Equal(t, [NumInputSources]uint64{InputFresh: 4, InputRepeated: 2, InputNone: 6}, st.InputTicks,
		"client 7: 4 fresh then 2 repeated; client 8 sent nothing")
	assert.Equal(t, [NumInputVerdicts]uint64{InputAccepted: 4, InputDuplicate: 2}, st.Inputs)
	assert.Equal(t, [NumDropReasons]uint64{}, st.Drops)
}

func TestServerInputDropsAndMalformed(t *testing.T) {
	g := newTestGame(0)
	ts := newTestServer(t, Config{Input: InputConfig{Window: 8}}, g)
	ts.tr.connect(1)
	ts.stepTo(t, 10)
	ts.tr.deliver(1, DefaultInputChannel, inputMsg(t, 12, "x", "y", "z"))           // 12, 11 ok; 10 late
	ts.tr.deliver(1, DefaultInputChannel, inputMsg(t, 40, "far"))                   // far future
	ts.tr.deliver(1, DefaultInputChannel, []byte{wire.KindInput, 0, 1})             // malformed
	ts.tr.deliver(1, DefaultControlChannel, []byte("unexpected"))                   // wrong channel
	ts.tr.deliver(1, DefaultInputChannel, inputMsg(t, 13, strings.Repeat("o", 65))) // oversized
	ts.stepTo(t, 12)
	assert.Equal(t, []appliedInput{{1, 11, "y"}, {1, 12, "x"}}, g.applied)
	st := ts.Stats()
	assert.Equal(t, [NumDropReasons]uint64{
		DropInputLate: 1, DropInputFarFuture: 1, DropInputMalformed: 1, DropUnexpectedMsg: 1, DropInputOversized: 1,
	}, st.Drops)
	assert.Equal(t, [NumInputVerdicts]uint64{InputAccepted: 2, InputLate: 1, InputFarFuture: 1, InputOversized: 1}, st.Inputs)
	assert.Equal(t, uint64(1), st.MessagesDropped, "the control message; inputs are not messages")
}

func TestServerConnectRefuseDisconnect(t *testing.T) {
	g := newTestGame(0)
	g.refuse = map[PlayerID]bool{2: true}
	ts := newTestServer(t, Config{}, g)
	ts.tr.connect(10)
	ts.tr.connect(20) // player 2: refused
	ts.tr.connect(30)
	ts.tr.connect(10) // duplicate event: ignored
	ts.stepTo(t, 0)
	assert.Equal(t, []ClientID{20}, ts.tr.kicked)
	assert.Equal(t, 2, ts.Clients())
	ts.tr.disconnect(10)
	ts.tr.disconnect(99) // unknown: ignored
	ts.stepTo(t, 1)
	assert.Equal(t, []PlayerID{1}, g.removed)
	assert.Equal(t, 1, ts.Clients())
	st := ts.Stats()
	assert.Equal(t, 1, st.Clients)
	assert.Equal(t, uint64(2), st.Connects)
	assert.Equal(t, uint64(2), st.Disconnects, "player 2 refused, player 1 left")
	// Only player 3 (client 30) still gets snapshots (odd ticks: phase 1).
	ts.tr.take(DefaultSnapshotChannel)
	ts.stepTo(t, 3)
	snaps := ts.tr.take(DefaultSnapshotChannel)
	require.Len(t, snaps, 1)
	assert.Equal(t, ClientID(30), snaps[0].client)
}

func TestSnapshotRateSpread(t *testing.T) {
	tests := []struct{ tick, snap int }{
		{60, 30}, {60, 60}, {60, 20}, {60, 1}, {64, 30}, {60, 7}, {60, 45},
	}
	for _, tt := range tests {
		ts := newTestServer(t, Config{TickRate: tt.tick, SnapshotRate: tt.snap}, newTestGame(0))
		period := (tt.tick + tt.snap - 1) / tt.snap
		perTick := make([]int, 3*tt.tick)
		for p := PlayerID(1); p <= PlayerID(period); p++ {
			phase := ts.snapshotPhase(p)
			n := 0
			for tick := range uint32(3 * tt.tick) {
				if ts.snapshotDue(tick, phase) {
					n++
					perTick[tick]++
				}
			}
			// 3 s: exactly 3·rate, give or take the one at tick 0.
			assert.InDelta(t, 3*tt.snap, n, 1, "%d Hz ticks, %d Hz snapshots, phase %d", tt.tick, tt.snap, phase)
		}
		if tt.tick%tt.snap == 0 {
			// One client of each phase: the load is the same on every tick.
			for tick := 1; tick < len(perTick); tick++ {
				assert.Equal(t, perTick[1], perTick[tick], "%d/%d tick %d", tt.tick, tt.snap, tick)
			}
		}
	}
	aligned := newTestServer(t, Config{AlignSnapshots: true}, newTestGame(0))
	assert.Equal(t, uint32(0), aligned.snapshotPhase(7))
}

// ackProfile is how one simulated client's link treats snapshots.
type ackProfile struct {
	deliver  float64 // probability a snapshot arrives
	ack      float64 // probability an arrived snapshot's ack reaches the server
	maxDelay int     // ticks an ack may take
	blackout [2]uint32
}

// TestSnapshotBaselineSelection runs clients with random loss and ack
// patterns (including a blackout long enough to lose every baseline)
// against the fake transport, on the shared world history, with NPCs
// entering and leaving each view, spawning and despawning. Every sent snapshot must use exactly the
// baseline an independent model predicts (the newest acked tick still in
// the server's history, else full), and every delivered snapshot must
// decode to what the game showed that client at that tick.
func TestSnapshotBaselineSelection(t *testing.T) {
	profiles := []ackProfile{
		{deliver: 1, ack: 1, maxDelay: 0},
		{deliver: 0.9, ack: 0.9, maxDelay: 6},
		{deliver: 0.5, ack: 0.6, maxDelay: 12},
		{deliver: 0.8, ack: 0.8, maxDelay: 3, blackout: [2]uint32{200, 400}},
		{deliver: 0.1, ack: 0.3, maxDelay: 40},
	}
	ticks := uint32(900)
	if testing.Short() {
		ticks = 400
	}
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		g := newTestGame(60)
		g.Radius = 12000 // NPCs enter and leave each view
		history := 32
		ts := newTestServer(t, Config{SnapshotHistory: history}, g)

		type pendingAck struct {
			at  uint32
			msg fakeSent
		}
		type client struct {
			prof    ackProfile
			reader  *wire.SnapshotReader
			writer  *wire.InputWriter
			acked   map[uint32]bool // ticks whose ack reached the server
			sent    []uint32        // ticks sent, in order
			pending []pendingAck
			full    int
			delta   int
			decoded int
		}
		clients := map[ClientID]*client{}
		var worlds []uint32 // the ticks whose world the server took
		var spawned uint32
		for i, p := range profiles {
			id := ClientID(i + 1)
			r, err := wire.NewSnapshotReader(testCodec, history)
			require.NoError(t, err)
			w, err := wire.NewInputWriter(4)
			require.NoError(t, err)
			clients[id] = &client{prof: p, reader: r, writer: w, acked: map[uint32]bool{}}
			ts.tr.connect(id)
		}
		for tick := uint32(0); tick < ticks; tick++ {
			// Acks due now reach the server in this tick's Poll.
			for id, c := range clients {
				keep := c.pending[:0]
				for _, p := range c.pending {
					if p.at <= tick {
						ts.tr.ack(p.msg)
						c.acked[tickOfMsg(t, p.msg.msg)] = true
					} else {
						keep = append(keep, p)
					}
				}
				c.pending = keep
				// Random steering input, sent with 20% loss.
				c.writer.Push(tick+2, []byte{byte(rng.IntN(7) - 3), byte(rng.IntN(7) - 3)})
				if rng.Float64() < 0.8 {
					ts.tr.deliver(id, DefaultInputChannel, c.writer.AppendMessage(nil))
				}
			}
			// Spawns and despawns: NPCs come and go while clients hold
			// baselines that include them.
			if len(g.npcs) > 0 && rng.Float64() < 0.05 {
				i := rng.IntN(len(g.npcs))
				g.npcs = slices.Delete(g.npcs, i, i+1)
			}
			if rng.Float64() < 0.05 {
				spawned++
				g.npcs = append(g.npcs, testEntity{id: 1<<21 + spawned, x: int32(rng.IntN(40000)) - 20000, y: int32(rng.IntN(40000)) - 20000, pathDX: 1})
			}
			ts.stepTo(t, uint64(tick))
			snaps := ts.tr.take(DefaultSnapshotChannel)
			if len(snaps) > 0 {
				worlds = append(worlds, tick) // the server took this tick's world
			}
			for _, m := range snaps {
				c := clients[m.client]
				hdr := payloadHeader(t, m.msg)
				require.Equal(t, tick, hdr.Tick)
				// The model: newest acked tick, unless the world of a
				// later tick has reused its slot of the shared history.
				want, ok := newestAcked(c.acked)
				if ok {
					for _, s := range worlds {
						if s > want && int(s)%history == int(want)%history {
							ok = false
						}
					}
				}
				require.Equal(t, ok, hdr.Delta, "seed %d client %d tick %d: delta", seed, m.client, tick)
				if ok {
					require.Equal(t, want, hdr.Baseline, "seed %d client %d tick %d: baseline", seed, m.client, tick)
					c.delta++
				} else {
					c.full++
				}
				c.sent = append(c.sent, tick)

				inBlackout := tick >= c.prof.blackout[0] && tick < c.prof.blackout[1]
				if inBlackout || rng.Float64() >= c.prof.deliver {
					continue
				}
				snap, _, err := c.reader.Read(m.msg)
				require.NoError(t, err, "seed %d client %d tick %d", seed, m.client, tick)
				wantSnap := g.expectedSnapshot(PlayerID(m.client), tick)
				require.True(t, wantSnap.Equal(snap), "seed %d client %d tick %d: decoded snapshot differs", seed, m.client, tick)
				c.decoded++
				if rng.Float64() < c.prof.ack {
					c.pending = append(c.pending, pendingAck{at: tick + 1 + uint32(rng.IntN(c.prof.maxDelay+1)), msg: m})
				}
			}
		}
		for id, c := range clients {
			t.Logf("seed %d client %d %+v: %d full, %d delta, %d decoded", seed, id, c.prof, c.full, c.delta, c.decoded)
			assert.Positive(t, c.decoded, "client %d", id)
			assert.Zero(t, c.reader.MissingBaselines(), "client %d", id)
			if c.prof.deliver >= 0.5 {
				assert.Greater(t, c.delta, c.full, "seed %d client %d: mostly deltas", seed, id)
			}
		}
		// The blackout client lost every baseline and got full snapshots
		// until acks resumed.
		assert.Greater(t, clients[4].full, 2)
	}
}

func tickOfMsg(t testing.TB, msg []byte) uint32 { return payloadHeader(t, msg).Tick }

func payloadHeader(t testing.TB, msg []byte) state.Header {
	t.Helper()
	_, payload, err := wire.DecodeSnapshotMessage(msg)
	require.NoError(t, err)
	dec, err := state.NewDecoder(testCodec)
	require.NoError(t, err)
	h, err := dec.ReadHeader(payload)
	require.NoError(t, err)
	return h
}

func newestAcked(acked map[uint32]bool) (uint32, bool) {
	var newest uint32
	ok := false
	for tick := range acked {
		if !ok || tick > newest {
			newest, ok = tick, true
		}
	}
	return newest, ok
}

// TestSnapshotResync: a client that lost its history cannot decode a
// delta; it asks for a resync in its inputs and gets a full snapshot, and
// late acks of snapshots sent before are not used as baselines.
func TestSnapshotResync(t *testing.T) {
	g := newTestGame(5)
	ts := newTestServer(t, Config{AlignSnapshots: true}, g)
	ts.tr.connect(1)
	ts.stepTo(t, 0)
	first := ts.tr.take(DefaultSnapshotChannel)
	require.Len(t, first, 1)
	ts.tr.ack(first[0])
	ts.stepTo(t, 2)
	second := ts.tr.take(DefaultSnapshotChannel)
	require.Len(t, second, 1)
	require.True(t, payloadHeader(t, second[0].msg).Delta)

	fresh, err := wire.NewSnapshotReader(testCodec, 0) // the client restarted
	require.NoError(t, err)
	_, _, err = fresh.Read(second[0].msg)
	require.ErrorIs(t, err, state.ErrMissingBaseline)
	require.True(t, fresh.NeedResync())

	w, err := wire.NewInputWriter(4)
	require.NoError(t, err)
	w.Push(3, []byte{1, 1})
	w.SetResync(fresh.NeedResync())
	ts.tr.deliver(1, DefaultInputChannel, w.AppendMessage(nil))
	ts.tr.ack(second[0]) // a late ack of the delta sent before the resync
	ts.stepTo(t, 4)
	third := ts.tr.take(DefaultSnapshotChannel)
	require.Len(t, third, 1)
	assert.False(t, payloadHeader(t, third[0].msg).Delta, "full snapshot after resync")
	snap, _, err := fresh.Read(third[0].msg)
	require.NoError(t, err)
	assert.Equal(t, uint32(4), snap.Tick)
	assert.False(t, fresh.NeedResync())

	ts.tr.ack(third[0])
	ts.stepTo(t, 6)
	fourth := ts.tr.take(DefaultSnapshotChannel)
	h := payloadHeader(t, fourth[0].msg)
	assert.True(t, h.Delta)
	assert.Equal(t, uint32(4), h.Baseline)
	_, _, err = fresh.Read(fourth[0].msg)
	require.NoError(t, err)
}

// TestServerRunRateAndShutdown runs the whole server loop for 10
// simulated seconds: 600 ticks, 300 snapshots per client, a slow tick
// counted as an overrun, then a graceful shutdown that closes the
// transport and removes the players.
func TestServerRunRateAndShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newTestGame(2)
		g.stepHook = func(tick uint32) {
			if tick == 300 {
				time.Sleep(40 * time.Millisecond) // an overrun; caught up
			}
		}
		tr := newFakeTransport()
		tr.connect(1)
		tr.connect(2)
		var logs strings.Builder
		var onTick []time.Duration
		s, err := New(Config{Codec: testCodec, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			OnTick: func(_ TickInfo, took time.Duration) { onTick = append(onTick, took) }}, g, tr)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second-time.Nanosecond)
		defer cancel()
		require.NoError(t, s.Run(ctx))

		assert.Len(t, g.steps, 600)
		require.Len(t, onTick, 600)
		assert.Equal(t, 40*time.Millisecond, onTick[300])
		st := s.LoopStats()
		assert.Equal(t, LoopStats{Ticks: 600, Overruns: 1, Late: 1}, st)
		sst := s.Stats()
		assert.Equal(t, uint64(1), sst.Overruns)
		assert.Equal(t, uint64(1), sst.Late)
		assert.Equal(t, uint64(600), sst.Ticks)
		assert.Len(t, tr.take(DefaultSnapshotChannel), 600, "300 snapshots for each of 2 clients")
		assert.True(t, tr.closed, "transport closed on shutdown (it tells the clients)")
		assert.ElementsMatch(t, []PlayerID{1, 2}, g.removed)
		assert.Equal(t, 0, s.Clients())
		assert.Contains(t, logs.String(), "tick overruns")
		assert.Contains(t, logs.String(), "server stopped")

		err = s.Run(t.Context())
		assert.ErrorIs(t, err, ErrClosed)
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{TickRate: -1, Codec: testCodec}, "Config.TickRate is -1"},
		{Config{SnapshotRate: 61, Codec: testCodec}, "Config.SnapshotRate is 61"},
		{Config{TickRate: 20, SnapshotRate: 30, Codec: testCodec}, "1..TickRate (20)"},
		{Config{}, "Config.Codec"},
		{Config{SnapshotHistory: 1, Codec: testCodec}, "Config.SnapshotHistory is 1"},
		{Config{SnapshotWorkers: 65, Codec: testCodec}, "Config.SnapshotWorkers is 65"},
		{Config{Input: InputConfig{Window: -2}, Codec: testCodec}, "Config.Input: server: invalid config: InputConfig.Window"},
		{Config{SnapshotChannel: 3, Codec: testCodec}, "Config.InputChannel is 0, the same as ControlChannel (0)"},
		{Config{InputChannel: -1, SnapshotChannel: 2, Codec: testCodec}, "Config.InputChannel is -1, want 0..255"},
		{Config{KickGrace: -time.Second, Codec: testCodec}, "Config.KickGrace is -1s, want 0 (default 500ms) or up to 10s"},
		{Config{KickGrace: 11 * time.Second, Codec: testCodec}, "Config.KickGrace is 11s"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg, newTestGame(0), newFakeTransport())
		require.ErrorIs(t, err, ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.want)
	}
	_, err := New(Config{Codec: testCodec}, nil, newFakeTransport())
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.NoError(t, (Config{Codec: testCodec}).Validate())
}

// badGame has an entity whose value is outside its schema field, which
// only player 1 sees.
type badGame struct{ *testGame }

const badEntity = 1 << 30

func (g badGame) Snapshot(tick uint32, dst *state.Snapshot) {
	g.testGame.Snapshot(tick, dst)
	dst.Add(badEntity)[0] = 1 << 25 // x has 20 bits
}

func (g badGame) View(viewer PlayerID, world *state.Snapshot, v *state.View) {
	for i, id := range world.IDs {
		if id != badEntity || viewer == 1 {
			v.Add(i)
		}
	}
}

func TestServerInvalidSnapshotCountedAndLogRateLimited(t *testing.T) {
	var logs strings.Builder
	tr := newFakeTransport()
	s, err := New(Config{Codec: testCodec, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, badGame{newTestGame(1)}, tr)
	require.NoError(t, err)
	ts := &testServer{Server: s, tr: tr, start: time.Unix(1000, 0)}
	tr.connect(1)
	tr.connect(2)
	ts.stepTo(t, 60*12) // 12 s: 360 snapshot ticks of player 1 (odd), 361 of player 2 (even)
	assert.Equal(t, uint64(360), s.Stats().Drops[DropSnapshotInvalid])
	assert.Equal(t, 2, strings.Count(logs.String(), "snapshot not encoded"), "logged at 0 s and 10 s")
	var toGood int
	for _, m := range tr.take(DefaultSnapshotChannel) {
		require.Equal(t, ClientID(2), m.client, "the broken view is not sent")
		toGood++
	}
	assert.Equal(t, 361, toGood)
}

func TestServerCustomChannels(t *testing.T) {
	g := newTestGame(0)
	ts := newTestServer(t, Config{ControlChannel: 5, InputChannel: 6, SnapshotChannel: 7, AlignSnapshots: true}, g)
	ts.tr.connect(1)
	ts.tr.deliver(1, 6, inputMsg(t, 0, "a"))
	ts.tr.deliver(1, DefaultInputChannel, inputMsg(t, 1, "b")) // not read: another channel
	ts.stepTo(t, 1)
	assert.Equal(t, []appliedInput{{1, 0, "a"}, {1, 1, "a"}}, g.applied)
	assert.Len(t, ts.tr.take(5), 1, "welcome")
	assert.Len(t, ts.tr.take(7), 1, "snapshot of tick 0")
	assert.Empty(t, ts.tr.sent)
}
