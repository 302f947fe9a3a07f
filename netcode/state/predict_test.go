package state

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deterministic integer test game: a body with velocity and friction
// on a bounded line, pushed by inputs.
type gameState struct {
	X, Y   int32
	VX, VY int32
	Jumps  int32
}

type gameInput struct {
	DX, DY int8
	Jump   bool
}

func gameStep(s gameState, in gameInput) gameState {
	s.VX += int32(in.DX) * 3
	s.VY += int32(in.DY) * 3
	s.VX -= s.VX / 8 // friction, truncating: exact on every machine
	s.VY -= s.VY / 8
	if in.Jump && s.Y == 0 {
		s.VY = 40
		s.Jumps++
	}
	s.X = min(max(s.X+s.VX, -10000), 10000)
	s.Y = max(s.Y+s.VY-2, 0)
	return s
}

func newGamePredictor(t testing.TB, tick uint32, s gameState, maxInputs int) *Predictor[gameState, gameInput] {
	t.Helper()
	p, err := NewPredictor(PredictorConfig[gameState, gameInput]{
		Step: gameStep, Equal: EqualComparable[gameState], MaxInputs: maxInputs,
	}, tick, s)
	require.NoError(t, err)
	return p
}

// TestPredictionMatchesServer plays the test game over a lossy, delayed link
// in ticks. The client predicts ahead and sends each input with the last
// few repeated; the server applies the input of each tick, or repeats the
// last one it has when it is missing (which makes the client mispredict),
// and sends its state with the tick of the input it applied. After every
// reconcile, and at the end when every input has been acked, the client's
// prediction for an acked tick equals the server's state exactly.
func TestPredictionMatchesServer(t *testing.T) {
	ticks := 3000
	if testing.Short() {
		ticks = 1000
	}
	tests := []struct {
		loss            int // percent, each direction
		delay, jitter   int // ticks
		lead            int // ticks the client runs ahead
		wantCorrections bool
	}{
		{loss: 0, delay: 3, lead: 8},
		// Repeating the last 5 inputs hides moderate loss entirely.
		{loss: 5, delay: 3, jitter: 2, lead: 8},
		{loss: 20, delay: 6, jitter: 4, lead: 16},
		// Heavy loss loses inputs; a lead shorter than the delay makes every
		// input late: the server substitutes, the client corrects.
		{loss: 50, delay: 3, jitter: 3, lead: 8, wantCorrections: true},
		{loss: 5, delay: 10, jitter: 0, lead: 4, wantCorrections: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("loss%d_delay%d_jitter%d_lead%d", tt.loss, tt.delay, tt.jitter, tt.lead), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tt.loss), uint64(tt.delay)))
			type inputMsg struct {
				at     int
				ticks  []uint32
				inputs []gameInput
			}
			type snapMsg struct {
				at    int
				acked uint32
				state gameState
			}
			var toServer []inputMsg
			var toClient []snapMsg
			delay := func() int { return tt.delay + rng.IntN(tt.jitter+1) }
			lost := func() bool { return rng.IntN(100) < tt.loss }

			serverState := gameState{}
			serverInputs := map[uint32]gameInput{}
			var lastInput gameInput
			// The client starts `lead` ticks ahead with neutral inputs
			// already delivered for the ticks before.
			p := newGamePredictor(t, 0, serverState, 0)
			for range tt.lead {
				serverInputs[p.Predict(gameInput{})] = gameInput{}
			}
			input := gameInput{}
			var reconciles int
			lastTick := ticks + tt.lead // the server runs the ticks the client predicted
			for now := 0; now < lastTick+tt.delay+tt.jitter+1; now++ {
				// Client: one predicted tick per tick, with a random walk of
				// inputs, until it has predicted up to lastTick.
				if now < ticks {
					if rng.IntN(10) == 0 {
						input = gameInput{DX: int8(rng.IntN(3) - 1), DY: int8(rng.IntN(3) - 1), Jump: rng.IntN(20) == 0}
					}
					p.Predict(input)
					from, to := p.Unacked()
					from = max(from, to-5) // repeat the last 5
					msg := inputMsg{at: now + delay()}
					for tk := from; tk < to; tk++ {
						in, ok := p.Input(tk)
						require.True(t, ok)
						msg.ticks = append(msg.ticks, tk)
						msg.inputs = append(msg.inputs, in)
					}
					if !lost() {
						toServer = append(toServer, msg)
					}
				}
				// Server: receive inputs, run tick `now`, send the state
				// (reliably at the end, so the last inputs get acked).
				keep := toServer[:0]
				for _, m := range toServer {
					if m.at > now {
						keep = append(keep, m)
						continue
					}
					for i, tk := range m.ticks {
						if tk >= uint32(now) { // late inputs are dropped
							serverInputs[tk] = m.inputs[i]
						}
					}
				}
				toServer = keep
				if now < lastTick {
					if in, ok := serverInputs[uint32(now)]; ok {
						lastInput = in
					}
					delete(serverInputs, uint32(now))
					serverState = gameStep(serverState, lastInput)
					if now == lastTick-1 || !lost() {
						toClient = append(toClient, snapMsg{at: now + delay(), acked: uint32(now), state: serverState})
					}
				}
				// Client: reconcile with what arrived.
				keepS := toClient[:0]
				for _, m := range toClient {
					if m.at > now {
						keepS = append(keepS, m)
						continue
					}
					r := p.Reconcile(m.acked, m.state)
					if r.Stale {
						continue
					}
					require.False(t, r.Reset)
					reconciles++
					// The replayed prediction agrees with the server on the
					// acked tick: the history now holds the server's state.
					if m.acked+1 < p.Tick() {
						in, _ := p.Input(m.acked + 1)
						assert.Equal(t, gameStep(m.state, in), p.after[p.slot(m.acked+1)])
					}
				}
				toClient = keepS
			}
			st := p.Stats()
			t.Logf("reconciles %d, corrections %d, replayed %d", reconciles, st.Corrections, st.Replayed)
			require.Positive(t, reconciles)
			// Every input was acked: the prediction is the server's state.
			from, to := p.Unacked()
			assert.Equal(t, from, to, "no unacked inputs left")
			assert.Equal(t, serverState, p.State(), "predicted state equals the server's exactly")
			if tt.wantCorrections {
				assert.Positive(t, st.Corrections)
			} else {
				assert.Zero(t, st.Corrections, "every input reached the server in time")
			}
		})
	}
}

func TestReconcileSteps(t *testing.T) {
	right := gameInput{DX: 1}
	p := newGamePredictor(t, 10, gameState{}, 8)
	for range 5 {
		p.Predict(right)
	}
	require.Equal(t, uint32(15), p.Tick())
	from, to := p.Unacked()
	assert.Equal(t, [2]uint32{10, 15}, [2]uint32{from, to})

	// The server agrees about tick 11: nothing replayed.
	want := gameStep(gameStep(gameState{}, right), right)
	r := p.Reconcile(11, want)
	assert.False(t, r.Corrected)
	assert.Zero(t, r.Replayed)
	from, _ = p.Unacked()
	assert.Equal(t, uint32(12), from)
	_, ok := p.Input(11)
	assert.False(t, ok, "acked inputs are dropped")

	// Stale ack.
	r = p.Reconcile(11, gameState{X: 999})
	assert.True(t, r.Stale)

	// The server says the body was blocked at tick 12: rewind and replay 13, 14.
	blocked := gameState{X: 5}
	before := p.State()
	r = p.Reconcile(12, blocked)
	assert.True(t, r.Corrected)
	assert.Equal(t, 2, r.Replayed)
	assert.Equal(t, before, r.Before)
	assert.Equal(t, gameStep(gameStep(blocked, right), right), p.State())

	// An ack beyond the prediction resets to the server state.
	r = p.Reconcile(20, gameState{X: 7})
	assert.True(t, r.Reset)
	assert.Equal(t, uint32(21), p.Tick())
	assert.Equal(t, gameState{X: 7}, p.State())

	// Running more than MaxInputs ahead forgets the oldest inputs; an ack
	// before them resets.
	for range 10 {
		p.Predict(right)
	}
	from, to = p.Unacked()
	assert.Equal(t, [2]uint32{23, 31}, [2]uint32{from, to})
	r = p.Reconcile(21, gameState{})
	assert.True(t, r.Reset)
	assert.Equal(t, PredictorStats{Predicted: 15, Reconciles: 4, Corrections: 3, Replayed: 2, Resets: 2, Stale: 1}, p.Stats())
}

func TestPredictorConfigValidate(t *testing.T) {
	tests := []struct {
		cfg PredictorConfig[gameState, gameInput]
		msg string
	}{
		{PredictorConfig[gameState, gameInput]{Equal: EqualComparable[gameState]}, "PredictorConfig.Step is nil"},
		{PredictorConfig[gameState, gameInput]{Step: gameStep}, "PredictorConfig.Equal is nil"},
		{PredictorConfig[gameState, gameInput]{Step: gameStep, Equal: EqualComparable[gameState], MaxInputs: -1}, "PredictorConfig.MaxInputs is -1"},
	}
	for _, tt := range tests {
		_, err := NewPredictor(tt.cfg, 0, gameState{})
		require.ErrorIs(t, err, ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.msg)
	}
}

func TestSmoother(t *testing.T) {
	s, err := NewSmoother(SmootherConfig{Dims: 2, SmoothTime: 100 * time.Millisecond, SnapDistance: 50})
	require.NoError(t, err)
	t0 := time.Unix(100, 0)
	assert.False(t, s.Correct(t0, []float64{3, 4}))
	steps := []struct {
		after time.Duration
		want  float64 // fraction of the error left
	}{
		{0, 1},
		{20 * time.Millisecond, 0.36788}, // e^-1
		{50 * time.Millisecond, 0.08208}, // e^-2.5
		{99 * time.Millisecond, 0.00708},
		{100 * time.Millisecond, 0},
		{time.Second, 0},
	}
	var buf []float64
	for _, st := range steps {
		buf = s.Offset(t0.Add(st.after), buf)
		assert.InDelta(t, 3*st.want, buf[0], 1e-4, "after %v", st.after)
		assert.InDelta(t, 4*st.want, buf[1], 1e-4, "after %v", st.after)
	}
	// Corrections accumulate on what is left.
	t1 := t0.Add(20 * time.Millisecond)
	assert.False(t, s.Correct(t1, []float64{1, 0}))
	buf = s.Offset(t1, buf)
	assert.InDelta(t, 3*0.36788+1, buf[0], 1e-4)
	// A huge one snaps.
	assert.True(t, s.Correct(t1, []float64{60, 0}))
	assert.Equal(t, []float64{0, 0}, s.Offset(t1, buf))
	assert.Equal(t, uint64(1), s.Snaps())

	_, err = NewSmoother(SmootherConfig{Dims: 0})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestRateMeter(t *testing.T) {
	m, err := NewRateMeter(time.Second)
	require.NoError(t, err)
	t0 := time.Unix(0, 0)
	for i := range 50 { // 50 events over 500 ms
		m.Add(t0.Add(time.Duration(i)*10*time.Millisecond), 1)
	}
	tests := []struct {
		at   time.Duration
		want float64
	}{
		{500 * time.Millisecond, 100}, // 50 events in the 500 ms seen so far
		{999 * time.Millisecond, 50.05},
		{1600 * time.Millisecond, 0}, // the events left the window
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, m.Rate(t0.Add(tt.at)), 0.01, "at %v", tt.at)
	}
	// A steady 100/s reads 100/s whatever the phase of the buckets.
	for ms := 2000; ms < 4000; ms += 10 {
		m.Add(t0.Add(time.Duration(ms)*time.Millisecond), 1)
		if ms > 3000 {
			require.InDelta(t, 100, m.Rate(t0.Add(time.Duration(ms)*time.Millisecond)), 1.2, "at %d ms", ms)
		}
	}
	m.Add(t0.Add(time.Hour), 3)
	assert.InDelta(t, 3/0.9, m.Rate(t0.Add(time.Hour)), 0.01, "a fresh bucket")
	_, err = NewRateMeter(time.Millisecond)
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func BenchmarkPredictReconcile(b *testing.B) {
	p := newGamePredictor(b, 0, gameState{}, 0)
	in := gameInput{DX: 1}
	b.ReportAllocs()
	for b.Loop() {
		p.Predict(in)
		// A correction every tick, replaying 8 inputs: the worst case.
		if p.Tick() > 8 {
			p.Reconcile(p.Tick()-9, gameState{X: 1})
		}
	}
}
