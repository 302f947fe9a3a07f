package clientui

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// fakeServer plays the demo server's side of the protocol in-process: it
// applies the client's inputs by tick (repeating the last one when an input
// is missing), steps a game.World at 60 Hz and sends a full snapshot every
// second tick.
type fakeServer struct {
	t       *testing.T
	w       *game.World
	enc     *state.Encoder
	snap    *state.Snapshot
	inputs  map[uint32]game.Input
	last    game.Input
	gotAny  bool
	players map[uint32]game.Player   // own player after each tick
	ents    map[uint32][]game.Entity // all entities after each tick
	msg     wire.InputMessage
	noLog   bool // do not record players and entities per tick (benchmarks)
}

const testPlayer = 1

func newFakeServer(t *testing.T) *fakeServer {
	w, err := game.New(game.DefaultConfig())
	require.NoError(t, err)
	require.NoError(t, w.AddPlayer(testPlayer))
	enc, err := state.NewEncoder(Codec())
	require.NoError(t, err)
	return &fakeServer{
		t: t, w: w, enc: enc, snap: state.NewSnapshot(0, game.NumEntityFields, 64),
		inputs: map[uint32]game.Input{}, players: map[uint32]game.Player{}, ents: map[uint32][]game.Entity{},
	}
}

func (f *fakeServer) welcome() []byte {
	return wire.AppendWelcome(nil, wire.Welcome{Player: testPlayer, TickRate: 60, SnapshotRate: 30, Tick: f.w.Tick()})
}

func (f *fakeServer) receive(msg []byte) {
	require.NoError(f.t, wire.DecodeInputMessage(msg, &f.msg))
	for i, b := range f.msg.Inputs {
		tick := f.msg.NewestTick - uint32(i)
		in, _, err := game.DecodeInput(b)
		require.NoError(f.t, err)
		if tick > f.w.Tick() { // inputs for ticks already run are late
			f.inputs[tick] = in
		}
		f.gotAny = true
	}
}

// step runs one tick and returns the snapshot message when one is due.
func (f *fakeServer) step() []byte {
	tick := f.w.Tick() + 1
	if in, ok := f.inputs[tick]; ok {
		f.last = in
		delete(f.inputs, tick)
	}
	require.NoError(f.t, f.w.SetInput(testPlayer, f.last))
	f.w.Step()
	if !f.noLog {
		p, _ := f.w.Player(testPlayer)
		f.players[tick] = p
		f.ents[tick] = f.w.Entities(nil)
	}
	if tick%2 != 0 {
		return nil
	}
	f.snap.Reset(tick, game.NumEntityFields)
	ents := f.w.Entities(nil)
	sort.Slice(ents, func(i, j int) bool { return ents[i].ID < ents[j].ID })
	for _, e := range ents {
		copy(f.snap.Add(e.ID), e.AppendFields(nil))
	}
	msg := wire.AppendSnapshotHeader(nil, wire.SnapshotHeader{HasInputAck: f.gotAny, InputAck: tick})
	msg, err := f.enc.Encode(msg, f.snap, nil)
	require.NoError(f.t, err)
	return msg
}

// delayed is a one-way link with a fixed latency, uniform jitter and loss.
type delayed struct {
	latency, jitter time.Duration
	loss            float64
	rng             *rand.Rand
	q               []packet
}

type packet struct {
	at  time.Time
	msg []byte
}

func (d *delayed) send(now time.Time, msg []byte) {
	if d.rng.Float64() < d.loss {
		return
	}
	j := time.Duration(0)
	if d.jitter > 0 {
		j = time.Duration(d.rng.Int64N(int64(2*d.jitter))) - d.jitter
	}
	d.q = append(d.q, packet{now.Add(d.latency + j), append([]byte(nil), msg...)})
}

func (d *delayed) due(now time.Time, fn func([]byte)) {
	sort.SliceStable(d.q, func(i, j int) bool { return d.q[i].at.Before(d.q[j].at) })
	n := 0
	for n < len(d.q) && !d.q[n].at.After(now) {
		fn(d.q[n].msg)
		n++
	}
	d.q = d.q[n:]
}

type run struct {
	s            *Session
	srv          *fakeServer
	predictions  map[uint32]game.Player // the client's final prediction of each tick
	npcChecks    int
	maxNPCOffset int32
}

// simulate runs server and client for dur of simulated time, 1 ms at a
// time: server ticks every 1/60 s, client frames every 16 ms.
func simulate(t *testing.T, dur time.Duration, up, down *delayed) *run {
	t.Helper()
	s, err := NewSession(SessionConfig{})
	require.NoError(t, err)
	srv := newFakeServer(t)
	r := &run{s: s, srv: srv, predictions: map[uint32]game.Player{}}
	now := t0
	require.NoError(t, s.HandleMessage(now, srv.welcome()))
	rtt := up.latency + down.latency
	s.SetRTT(rtt)
	tickDt := time.Second / 60
	nextTick := now
	frame := 0
	for ms := 0; ms < int(dur/time.Millisecond); ms++ {
		now = t0.Add(time.Duration(ms) * time.Millisecond)
		up.due(now, srv.receive)
		for !nextTick.After(now) {
			if msg := srv.step(); msg != nil {
				down.send(now, msg)
			}
			nextTick = nextTick.Add(tickDt)
		}
		down.due(now, func(m []byte) {
			if err := s.HandleMessage(now, m); err != nil {
				t.Logf("handle: %v", err)
			}
		})
		if ms%16 != 0 {
			continue
		}
		frame++
		for _, msg := range s.Tick(now, Script(uint32(frame/4))) {
			up.send(now, msg)
		}
		if p, tick, ok := s.Predicted(); ok {
			r.predictions[tick] = p
		}
		v := s.View(now, DefaultToggles())
		r.checkNPCs(srv, v)
	}
	return r
}

// checkNPCs checks that every drawn NPC is where the server had it at some
// tick 3 to 14 ticks (50-230 ms) ago, within 2 world units: remote entities
// follow the server's path about InterpDelay behind.
func (r *run) checkNPCs(srv *fakeServer, v View) {
	cur := srv.w.Tick()
	if cur < 60 {
		return
	}
	for _, e := range v.Entities {
		if e.Kind != game.KindNPC || !e.Alive() {
			continue // dead entities are not drawn
		}
		best := int32(1 << 30)
		for k := cur - 14; k <= cur-3; k++ {
			for _, se := range srv.ents[k] {
				if se.ID == e.ID {
					best = min(best, max(abs32(se.X-e.X), abs32(se.Y-e.Y)))
				}
			}
		}
		r.npcChecks++
		r.maxNPCOffset = max(r.maxNPCOffset, best)
	}
}

func TestSessionPredictsExactlyOnASteadyLink(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	up := &delayed{latency: 40 * time.Millisecond, rng: rng}
	down := &delayed{latency: 40 * time.Millisecond, rng: rng}
	r := simulate(t, 5*time.Second, up, down)

	st := r.s.Stats()
	assert.Greater(t, st.Snapshots, uint64(130), "30 Hz for ~5 s")
	assert.Zero(t, st.BadMessages)
	assert.Zero(t, st.Stalls, "no stalls on a steady link")
	// The first inputs reach the server after it ran their ticks with a
	// stand-in; a few corrections in the first ~15 ticks follow.
	assert.LessOrEqual(t, st.Corrections, uint64(4), "only the start-up corrections")

	// Every tick the client predicted and the server ran must agree exactly,
	// once the first snapshot round trip has passed.
	matched := 0
	for tick, p := range r.predictions {
		sp, ok := r.srv.players[tick]
		if !ok || tick < 30 {
			continue
		}
		require.Equal(t, predicted(sp), predicted(p), "tick %d: prediction differs from the server", tick)
		matched++
	}
	assert.Greater(t, matched, 200, "ticks compared")
	assert.Greater(t, r.npcChecks, 500)
	assert.LessOrEqual(t, r.maxNPCOffset, int32(2*game.FixedOne), "NPCs drawn on the server's path, ~100 ms behind")
	t.Logf("snapshots %d, corrections %d, predictions compared %d, NPC checks %d (max offset %.2f units)",
		st.Snapshots, st.Corrections, matched, r.npcChecks, game.Units(r.maxNPCOffset))
}

func TestSessionRecoversFromLossAndJitter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	up := &delayed{latency: 50 * time.Millisecond, jitter: 10 * time.Millisecond, loss: 0.05, rng: rng}
	down := &delayed{latency: 50 * time.Millisecond, jitter: 10 * time.Millisecond, loss: 0.05, rng: rng}
	r := simulate(t, 6*time.Second, up, down)
	st := r.s.Stats()
	assert.Zero(t, st.BadMessages)
	frames := st.Frames
	require.Positive(t, frames)
	assert.Less(t, float64(st.Stalls)/float64(frames), 0.01, "stalls under 1%% of frames at 5%% loss")

	// Final prediction for ticks the server has run: exact wherever all
	// inputs up to that tick arrived, which with 4-fold redundancy is almost
	// every tick.
	same, total := 0, 0
	for tick, p := range r.predictions {
		if sp, ok := r.srv.players[tick]; ok && tick >= 30 {
			total++
			if predicted(sp) == predicted(p) {
				same++
			}
		}
	}
	require.Positive(t, total)
	assert.Greater(t, float64(same)/float64(total), 0.9, "%d of %d predicted ticks exact", same, total)
	assert.LessOrEqual(t, r.maxNPCOffset, int32(4*game.FixedOne))
	t.Logf("stalls %d/%d frames, extrapolated %d, corrections %d, exact %d/%d", st.Stalls, frames, st.Extrapolated, st.Corrections, same, total)
}

func TestSessionRejectsBadMessages(t *testing.T) {
	s, err := NewSession(SessionConfig{})
	require.NoError(t, err)
	assert.Error(t, s.HandleMessage(t0, nil))
	assert.Error(t, s.HandleMessage(t0, []byte{9, 9}))
	srv := newFakeServer(t)
	srv.step()
	snap := srv.step()
	assert.NoError(t, s.HandleMessage(t0, snap), "a snapshot before the welcome is kept as a baseline")
	assert.Empty(t, s.Tick(t0, game.Input{}), "nothing to send before the first snapshot")
	require.NoError(t, s.HandleMessage(t0, srv.welcome()))
	assert.Error(t, s.HandleMessage(t0, snap[:len(snap)-3]), "truncated")
	require.NoError(t, s.HandleMessage(t0, snap))
	assert.Equal(t, uint64(3), s.Stats().BadMessages)
	assert.Equal(t, uint64(1), s.Stats().EarlySnapshots)
	id, ok := s.Welcomed()
	assert.True(t, ok)
	assert.Equal(t, uint32(testPlayer), id)
	v := s.View(t0, DefaultToggles())
	assert.True(t, v.Online)
	assert.NotEmpty(t, v.Entities)

	_, err = NewSession(SessionConfig{SmoothTime: -1})
	assert.ErrorContains(t, err, "SmoothTime = -1ns")
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// predicted returns the fields of p that the client predicts; health, score,
// deaths and respawn are the server's alone (projectile hits).
func predicted(p game.Player) game.Player {
	p.Health, p.Score, p.Deaths, p.RespawnTicks = 0, 0, 0, 0
	return p
}

func TestSessionSendsEveryTickAfterASlowFrame(t *testing.T) {
	s, err := NewSession(SessionConfig{InputRedundancy: 3})
	require.NoError(t, err)
	srv := newFakeServer(t)
	require.NoError(t, s.HandleMessage(t0, srv.welcome()))
	srv.step()
	require.NoError(t, s.HandleMessage(t0, srv.step()))
	require.NotEmpty(t, s.Tick(t0, game.Input{}))

	// 200 ms without a frame: about 12 ticks to cover at once.
	got := map[uint32]bool{}
	later := t0.Add(200 * time.Millisecond)
	msgs := s.Tick(later, game.Input{Buttons: game.ButtonRight})
	require.Greater(t, len(msgs), 3, "one message per 3 ticks")
	var m wire.InputMessage
	for _, msg := range msgs {
		require.NoError(t, wire.DecodeInputMessage(msg, &m))
		for i := range m.Inputs {
			got[m.NewestTick-uint32(i)] = true
		}
	}
	_, last, ok := s.Predicted()
	require.True(t, ok)
	for tick := last - 10; tick <= last; tick++ {
		assert.True(t, got[tick], "input of tick %d sent", tick)
	}
	assert.Zero(t, s.Stats().InputJumps)
}

func TestSessionTogglesChangeWhatIsDrawn(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	up := &delayed{latency: 50 * time.Millisecond, rng: rng}
	down := &delayed{latency: 50 * time.Millisecond, rng: rng}
	r := simulate(t, 3*time.Second, up, down)
	s := r.s
	now := t0.Add(3 * time.Second)
	latest := map[uint32]game.Entity{}
	for _, e := range s.latest {
		latest[e.ID] = e
	}

	all := s.View(now, DefaultToggles())
	require.NotNil(t, all.Ghost, "ghost with prediction on")
	own, ok := Own(all.Entities, testPlayer)
	require.True(t, ok)
	p, _, _ := s.Predicted()
	assert.Equal(t, p.X, own.X, "own player predicted (no correction pending)")
	assert.NotEqual(t, latest[testPlayer].X, own.X, "the prediction runs ahead of the server")

	off := s.View(now, Toggles{})
	assert.Nil(t, off.Ghost, "no ghost without prediction")
	own, ok = Own(off.Entities, testPlayer)
	require.True(t, ok)
	assert.Equal(t, latest[testPlayer], own, "prediction off: the server's own player")
	for _, e := range off.Entities {
		assert.Equal(t, latest[e.ID], e, "interpolation off: entity %d as in the newest snapshot", e.ID)
	}
	interp := s.View(now, Toggles{Interpolation: true})
	moved := 0
	for _, e := range interp.Entities {
		if e.Kind == game.KindNPC && e != latest[e.ID] {
			moved++
		}
	}
	assert.Positive(t, moved, "interpolation on: NPCs drawn behind the newest snapshot")
}
