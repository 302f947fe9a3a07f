package state

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientLoopEndToEnd wires every piece of the package the way a game
// does, over a simulated link with delay, jitter and loss, in fake time:
// the server steps the test game at 60 Hz, applies the client's inputs (the
// last 5 repeated in every input message), and sends delta snapshots at
// 30 Hz against the newest one the client acked; the client decodes them
// into its History, feeds the Clock, the Interpolator and the Predictor, and
// predicts ahead by Clock.PredictionTick. It checks that the prediction ends
// equal to the server's state, that remote entities are drawn where they
// really were, and that snapshots stay small.
func TestClientLoopEndToEnd(t *testing.T) {
	tests := []struct {
		delay, jitter time.Duration
		loss          int
	}{
		{delay: 30 * time.Millisecond},
		{delay: 50 * time.Millisecond, jitter: 20 * time.Millisecond, loss: 5},
		{delay: 100 * time.Millisecond, jitter: 40 * time.Millisecond, loss: 15},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("delay%v_jitter%v_loss%d", tt.delay, tt.jitter, tt.loss), func(t *testing.T) {
			runEndToEnd(t, tt.delay, tt.jitter, tt.loss)
		})
	}
}

const (
	e2ePlayer = 1
	e2eNPCs   = 20
)

var e2eSchema = Schema{Fields: []Field{
	{Name: "x", Bits: 24, Signed: true},
	{Name: "y", Bits: 24, Signed: true},
	{Name: "vx", Bits: 16, Signed: true},
	{Name: "vy", Bits: 16, Signed: true},
	{Name: "jumps", Bits: 16},
}}

func e2eFields(f []int32, s gameState) { f[0], f[1], f[2], f[3], f[4] = s.X, s.Y, s.VX, s.VY, s.Jumps }

func e2eState(f []int32) gameState {
	return gameState{X: f[0], Y: f[1], VX: f[2], VY: f[3], Jumps: f[4]}
}

// npcX is where NPC i is at tick: it walks 3 units per tick.
func npcX(i int, tick uint32) int32 { return int32(i*100) + 3*int32(tick) }

func runEndToEnd(t *testing.T, delay, jitter time.Duration, loss int) {
	rng := rand.New(rand.NewPCG(uint64(delay), uint64(loss)))
	const dt = tick60
	duration := 12 * time.Second
	cfg := CodecConfig{Schema: e2eSchema}
	enc, dec := newCodec(t, cfg)
	tracker, err := NewBaselineTracker(64)
	require.NoError(t, err)
	hist, err := NewHistory(64)
	require.NoError(t, err)
	clock, err := NewClock(ClockConfig{TickInterval: dt})
	require.NoError(t, err)
	ip, err := NewInterpolator(InterpolatorConfig{TickInterval: dt, Stride: e2eSchema.NumFields()})
	require.NoError(t, err)
	var pred *Predictor[gameState, gameInput]

	type snapMsg struct {
		at         time.Duration
		payload    []byte
		ackedInput uint32
	}
	type inputMsg struct {
		at     time.Duration
		first  uint32
		inputs []gameInput
	}
	type ackMsg struct {
		at   time.Duration
		tick uint32
	}
	var toClient []snapMsg
	var toServer []inputMsg
	var acks []ackMsg
	link := func(now time.Duration) (time.Duration, bool) {
		var j time.Duration
		if jitter > 0 {
			j = time.Duration(rng.Int64N(int64(jitter)))
		}
		return now + delay + j, rng.IntN(100) < loss
	}

	// Server state.
	var serverTick uint32
	player := gameState{}
	serverInputs := map[uint32]gameInput{}
	var lastInput gameInput
	lastApplied := uint32(0)
	heard := false
	snap := NewSnapshot(0, e2eSchema.NumFields(), e2eNPCs+1)
	var snapBytes, snapCount int

	// Client state.
	clientT0 := time.Unix(77_000, 0)
	var frame Frame
	var input gameInput
	var frames, worstNPC int
	var worstNPCErr float64
	stopInputsAt := duration - 2*time.Second // then idle, so every input gets acked

	for now := time.Duration(0); now < duration; now += time.Millisecond {
		// Server: one tick every dt.
		for time.Duration(serverTick)*dt <= now {
			keep := toServer[:0]
			for _, m := range toServer {
				if m.at > now {
					keep = append(keep, m)
					continue
				}
				for i, in := range m.inputs {
					if tk := m.first + uint32(i); tk >= serverTick {
						serverInputs[tk] = in
					}
				}
			}
			toServer = keep
			keepA := acks[:0]
			for _, a := range acks {
				if a.at > now {
					keepA = append(keepA, a)
					continue
				}
				tracker.Ack(a.tick)
			}
			acks = keepA
			if in, ok := serverInputs[serverTick]; ok {
				lastInput, heard = in, true
			}
			delete(serverInputs, serverTick)
			player = gameStep(player, lastInput)
			lastApplied = serverTick
			if serverTick%2 == 0 {
				snap.Reset(serverTick, e2eSchema.NumFields())
				e2eFields(snap.Add(e2ePlayer), player)
				for i := range e2eNPCs {
					f := snap.Add(uint32(100 + i))
					f[0] = npcX(i, serverTick)
				}
				payload, err := enc.Encode(nil, snap, tracker.Baseline())
				require.NoError(t, err)
				tracker.Sent(snap)
				snapBytes += len(payload)
				snapCount++
				at, lost := link(now)
				if !lost && heard {
					toClient = append(toClient, snapMsg{at: at, payload: payload, ackedInput: lastApplied})
				} else if !lost {
					toClient = append(toClient, snapMsg{at: at, payload: payload, ackedInput: ^uint32(0)})
				}
			}
			serverTick++
		}

		// Client: receive snapshots.
		local := clientT0.Add(now)
		keep := toClient[:0]
		for _, m := range toClient {
			if m.at > now {
				keep = append(keep, m)
				continue
			}
			s, err := hist.Decode(dec, m.payload)
			if err != nil {
				require.ErrorIs(t, err, ErrStaleSnapshot)
				continue
			}
			if at, lost := link(now); !lost {
				acks = append(acks, ackMsg{at: at, tick: s.Tick})
			}
			clock.Observe(local, s.Tick, 2*(delay+jitter/2))
			ip.Add(local, s)
			i, ok := s.Find(e2ePlayer)
			require.True(t, ok)
			own := e2eState(s.Fields(i))
			if pred == nil {
				// Start predicting from the first snapshot at the tick after it.
				pred, err = NewPredictor(PredictorConfig[gameState, gameInput]{Step: gameStep, Equal: EqualComparable[gameState]}, s.Tick+1, own)
				require.NoError(t, err)
				continue
			}
			if m.ackedInput != ^uint32(0) {
				pred.Reconcile(m.ackedInput, own)
			}
		}
		toClient = keep
		if pred == nil || now%(16*time.Millisecond) != 0 {
			continue
		}

		// Client frame: predict up to the clock's target, send inputs.
		for target := clock.PredictionTick(local); pred.Tick() < target; {
			if now < stopInputsAt && rng.IntN(15) == 0 {
				input = gameInput{DX: int8(rng.IntN(3) - 1), Jump: rng.IntN(10) == 0}
			} else if now >= stopInputsAt {
				input = gameInput{}
			}
			pred.Predict(input)
			from, to := pred.Unacked()
			from = max(from, to-5)
			msg := inputMsg{first: from}
			for tk := from; tk < to; tk++ {
				in, _ := pred.Input(tk)
				msg.inputs = append(msg.inputs, in)
			}
			at, lost := link(now)
			msg.at = at
			if !lost {
				toServer = append(toServer, msg)
			}
		}

		// Draw remote entities.
		require.True(t, ip.Sample(clock.SnapshotTime(local), &frame))
		if now < 2*time.Second {
			continue
		}
		frames++
		rtTick := float64(frame.RenderTime) / float64(dt)
		for i := range e2eNPCs {
			k, ok := frame.Find(uint32(100 + i))
			require.True(t, ok)
			want := float64(i*100) + 3*rtTick
			if e := abs(frame.Fields(k)[0] - want); e > worstNPCErr {
				worstNPCErr, worstNPC = e, i
			}
		}
	}

	require.NotNil(t, pred)
	st, ist := pred.Stats(), ip.Stats()
	bps := float64(snapBytes) / duration.Seconds()
	t.Logf("server tick %d, client tick %d (lead %v); corrections %d; frames %d, extrapolated %d, stalls %d, delay %v; worst NPC error %.2f (npc %d); snapshots %.0f B each, %.0f B/s",
		serverTick, pred.Tick(), clock.Lead().Round(time.Millisecond), st.Corrections, frames, ist.Extrapolated, ist.Stalls, ip.Delay().Round(time.Millisecond),
		worstNPCErr, worstNPC, float64(snapBytes)/float64(snapCount), bps)

	// Every input was acked and the prediction is the server's state (the
	// client is ahead: the server state at the client's tick is the
	// predicted one, since the last inputs were idle).
	from, to := pred.Unacked()
	assert.LessOrEqual(t, to-from, uint32(40), "only the inputs of the last lead are unacked")
	srv := player
	for tk := serverTick; tk < pred.Tick(); tk++ {
		srv = gameStep(srv, gameInput{})
	}
	assert.Equal(t, srv, pred.State(), "prediction equals the server state advanced to the client's tick")
	// The client ran ahead of the server by about the lead.
	assert.Greater(t, pred.Tick(), serverTick)
	// Remote entities are where they were at the render time (linear motion
	// is reproduced exactly, up to rounding) and rarely extrapolated.
	assert.Less(t, worstNPCErr, 0.5)
	assert.Zero(t, ist.Stalls)
	assert.LessOrEqual(t, float64(ist.Extrapolated), 0.02*float64(frames))
	// 21 entities, all moving along x: deltas are a fraction of the 252
	// bytes of a full snapshot.
	assert.Less(t, float64(snapBytes)/float64(snapCount), 80.0)
}
