package client

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server/wire"
)

// recorder is a sender that decodes and keeps what it is given.
type recorder struct {
	t    *testing.T
	msgs []wire.InputMessage
	fail error
}

func (r *recorder) Send(_ int, b []byte) (netcode.MessageID, error) {
	if r.fail != nil {
		return 0, r.fail
	}
	var m wire.InputMessage
	require.NoError(r.t, wire.DecodeInputMessage(b, &m))
	for i, in := range m.Inputs {
		m.Inputs[i] = append([]byte(nil), in...)
	}
	r.msgs = append(r.msgs, m)
	return 0, nil
}

// ticks returns the ticks of message i, newest first.
func (r *recorder) ticks(i int) []uint32 {
	var out []uint32
	for k := range r.msgs[i].Inputs {
		out = append(out, r.msgs[i].NewestTick-uint32(k))
	}
	return out
}

// frame pushes the inputs of ticks from..to (none when to < from) and
// flushes, returning the messages of that frame.
func frame(t *testing.T, s *inputSender, from, to int) *recorder {
	t.Helper()
	for tick := from; tick <= to; tick++ {
		s.push(uint32(tick), []byte{byte(tick)})
	}
	r := &recorder{t: t}
	_, err := s.flush(r, 1, false)
	require.NoError(t, err)
	for _, m := range r.msgs {
		for i, in := range m.Inputs {
			assert.Equal(t, []byte{byte(m.NewestTick - uint32(i))}, in, "each input is its tick's")
		}
	}
	return r
}

func TestInputSenderSteady(t *testing.T) {
	var s inputSender
	s.reset(4, 60)
	r := frame(t, &s, 0, 0)
	require.Len(t, r.msgs, 1)
	assert.Equal(t, []uint32{0}, r.ticks(0), "the first message has the one input there is")
	for tick := uint32(1); tick < 10; tick++ {
		r = frame(t, &s, int(tick), int(tick))
		require.Len(t, r.msgs, 1, "tick %d", tick)
		want := []uint32{tick}
		for k := uint32(1); k < 4 && k <= tick; k++ {
			want = append(want, tick-k)
		}
		assert.Equal(t, want, r.ticks(0), "the last four inputs")
	}
	// A frame with no new tick still sends the inputs sent fewer than 4
	// times.
	r = frame(t, &s, 10, 9)
	require.Len(t, r.msgs, 1)
	assert.Equal(t, []uint32{9, 8, 7, 6}, r.ticks(0))
}

// TestInputSenderSlowFrame: a frame covering 12 ticks with redundancy 4
// sends all 12 (and the three before, which had gone out in fewer than 4
// frames), and the next frames send each of them again until every input
// went out in 4 frames.
func TestInputSenderSlowFrame(t *testing.T) {
	var s inputSender
	s.reset(4, 60)
	for tick := range 20 {
		frame(t, &s, tick, tick)
	}
	count := map[uint32]int{}
	record := func(r *recorder) {
		for i := range r.msgs {
			for _, tk := range r.ticks(i) {
				count[tk]++
			}
		}
	}
	r := frame(t, &s, 20, 31)
	require.Len(t, r.msgs, 4)
	assert.Equal(t, []uint32{31, 30, 29, 28}, r.ticks(0))
	assert.Equal(t, []uint32{27, 26, 25, 24}, r.ticks(1))
	assert.Equal(t, []uint32{23, 22, 21, 20}, r.ticks(2))
	assert.Equal(t, []uint32{19, 18, 17, 16}, r.ticks(3), "17..19 went out in fewer than 4 frames so far")
	record(r)
	for tick := 32; tick < 35; tick++ {
		r = frame(t, &s, tick, tick)
		record(r)
	}
	for tick := uint32(20); tick < 32; tick++ {
		assert.GreaterOrEqual(t, count[tick], 4, "tick %d went out in 4 frames", tick)
	}
	// Once every input went out 4 times, one message a frame again.
	r = frame(t, &s, 35, 35)
	assert.Len(t, r.msgs, 1)
}

// TestInputSenderAck: inputs the server consumed are not sent again, and
// a jump starts a new run (no message spans the gap).
func TestInputSenderAckAndJump(t *testing.T) {
	var s inputSender
	s.reset(4, 60)
	frame(t, &s, 0, 10)
	s.ack(12)
	r := frame(t, &s, 11, 11)
	assert.Empty(t, r.msgs, "everything up to tick 12 was consumed")
	s.ack(5) // older acks are ignored
	r = frame(t, &s, 13, 13)
	require.Len(t, r.msgs, 1)
	assert.Equal(t, []uint32{13}, r.ticks(0), "tick 12 was never pushed: a new run starts at 13")

	r = frame(t, &s, 100, 105)
	require.Len(t, r.msgs, 2)
	assert.Equal(t, []uint32{105, 104, 103, 102}, r.ticks(0))
	assert.Equal(t, []uint32{101, 100}, r.ticks(1), "the run starts at the jump")

	fail := &recorder{t: t, fail: errors.New("queue full")}
	s.push(106, []byte{106})
	n, err := s.flush(fail, 1, true)
	assert.Zero(t, n)
	assert.Error(t, err)
	r = frame(t, &s, 107, 107)
	assert.Equal(t, []uint32{107, 106, 105, 104}, r.ticks(0), "a refused message counts as not sent")
}

func TestInputSenderResyncAndEmpty(t *testing.T) {
	var s inputSender
	s.reset(2, 60)
	r := &recorder{t: t}
	n, err := s.flush(r, 1, true)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing pushed, nothing sent")
	s.push(7, []byte{1})
	_, err = s.flush(r, 1, true)
	require.NoError(t, err)
	require.Len(t, r.msgs, 1)
	assert.True(t, r.msgs[0].Resync)
}

// TestInputSenderRandomFrames: with random frame lengths, every pushed
// tick goes out in at least n frames, and within the ring.
func TestInputSenderRandomFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s inputSender
	s.reset(3, 60)
	frames := map[uint32]int{}
	next := 0
	for range 2000 {
		k := rng.IntN(8) // 0..7 ticks this frame
		r := frame(t, &s, next, next+k-1)
		next += k
		for i := range r.msgs {
			seen := map[uint32]bool{}
			for _, tk := range r.ticks(i) {
				if !seen[tk] {
					frames[tk]++
				}
				seen[tk] = true
			}
		}
	}
	for tk := uint32(0); int(tk)+30 < next; tk++ {
		assert.GreaterOrEqual(t, frames[tk], 3, "tick %d", tk)
	}
}

func TestAppendDiff(t *testing.T) {
	type ev = EntityEvent
	snap := func(ids []uint32, kinds ...uint8) *state.Snapshot {
		s := state.NewSnapshot(1, 1, len(ids))
		for i, id := range ids {
			if kinds != nil {
				s.AddKind(id, kinds[i])
			} else {
				s.Add(id)
			}
		}
		return s
	}
	for _, tc := range []struct {
		prev, cur *state.Snapshot
		want      []ev
	}{
		{nil, nil, nil},
		{nil, snap([]uint32{1, 2}), []ev{{Spawned, 1, 0, 9}, {Spawned, 2, 0, 9}}},
		{snap([]uint32{1, 2}), nil, []ev{{Despawned, 1, 0, 9}, {Despawned, 2, 0, 9}}},
		{snap([]uint32{1, 3, 5}), snap([]uint32{1, 3, 5}), nil},
		{snap([]uint32{1, 3, 5}), snap([]uint32{2, 3, 6}), []ev{{Despawned, 1, 0, 9}, {Spawned, 2, 0, 9}, {Despawned, 5, 0, 9}, {Spawned, 6, 0, 9}}},
		{snap([]uint32{4}), snap([]uint32{1, 2, 3, 4, 5}), []ev{{Spawned, 1, 0, 9}, {Spawned, 2, 0, 9}, {Spawned, 3, 0, 9}, {Spawned, 5, 0, 9}}},
		{snap([]uint32{1, 2, 3}, 0, 1, 2), snap([]uint32{1, 2, 4}, 0, 2, 1),
			[]ev{{Despawned, 2, 1, 9}, {Spawned, 2, 2, 9}, {Despawned, 3, 2, 9}, {Spawned, 4, 1, 9}}},
		{snap([]uint32{1, 2}), snap([]uint32{1, 2}, 0, 3), []ev{{Despawned, 2, 0, 9}, {Spawned, 2, 3, 9}}},
	} {
		assert.Equal(t, tc.want, appendDiff(nil, tc.prev, tc.cur, 9), "%v → %v", tc.prev, tc.cur)
	}
}

func TestBackoff(t *testing.T) {
	p := ReconnectPolicy{MinDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	rng := rand.New(rand.NewPCG(3, 4))
	for n, base := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		base *= time.Millisecond
		for range 50 {
			d := backoff(p, n+1, rng)
			require.GreaterOrEqual(t, d, base/2, "attempt %d", n+1)
			require.LessOrEqual(t, d, base, "attempt %d", n+1)
		}
	}
	d := backoff(p, 1000, rng)
	assert.True(t, d >= 500*time.Millisecond && d <= time.Second, "no overflow after many attempts: %v", d)
	assert.Zero(t, backoff(ReconnectPolicy{}, 3, rng), "no delay configured, none applied")
}

func TestLeadControlLate(t *testing.T) {
	var l leadControl
	t0 := time.Unix(100, 0)
	l.observe(t0, 0)
	assert.Equal(t, 1, l.late, "late: raise")
	l.observe(t0.Add(100*time.Millisecond), -3)
	assert.Equal(t, 1, l.late, "at most one raise per 250 ms")
	l.observe(t0.Add(250*time.Millisecond), -3)
	assert.Equal(t, 2, l.late)
	l.observe(t0.Add(time.Second), 3)
	assert.Equal(t, 2, l.late, "in time: no change")
	l.observe(t0.Add(time.Second), 9)
	assert.Equal(t, 2, l.late, "comfortable, but the last change is recent")
	l.observe(t0.Add(2250*time.Millisecond), 9)
	assert.Equal(t, 1, l.late, "comfortable for 2 s: lower")
	for i := range 100 {
		l.observe(t0.Add(time.Duration(10+i)*time.Second), -1)
	}
	assert.Equal(t, maxExtraLead, l.late, "bounded")
	assert.Equal(t, maxExtraLead, l.extra())
}

func TestLossLead(t *testing.T) {
	tick := time.Second / 60
	for _, tc := range []struct {
		loss       float64
		redundancy int
		frame      time.Duration
		want       int
	}{
		{0, 4, tick, 0},
		{0.001, 4, tick, 0},               // 2 copies: the buffer covers the second
		{0.01, 4, tick, 0},                // 2 copies
		{0.03, 4, tick, 1},                // 3 copies: 2 frames, one covered
		{0.1, 4, tick, 2},                 // 4 copies: 3 frames
		{0.1, 2, tick, 0},                 // only 2 copies are sent
		{0.1, 4, 2 * tick, 5},             // 30 fps: 3 frames are 6 ticks
		{0.1, 4, tick / 2, 1},             // 120 fps: 3 frames are 1.5 ticks
		{0.5, 16, tick, 12},               // 14 copies
		{0.5, 16, 2 * tick, maxExtraLead}, // bounded
		{1, 4, tick, 2},
		{0.1, 4, 0, 0}, // no frame interval yet
	} {
		assert.Equal(t, tc.want, lossLead(tc.loss, tc.redundancy, tc.frame, tick), "%+v", tc)
	}

	var l leadControl
	t0 := time.Unix(100, 0)
	for i := range 10 {
		l.frameAt(t0.Add(time.Duration(i)*tick), 0.1, 4, tick)
	}
	assert.Equal(t, tick, l.frame)
	assert.Equal(t, 2, l.loss, "raised at once")
	l.frameAt(t0.Add(10*tick), 0, 4, tick)
	assert.Equal(t, 2, l.loss, "lowered only 2 s after the last change")
	l.frameAt(t0.Add(3*time.Second), 0, 4, tick)
	assert.Equal(t, 1, l.loss, "a tick at a time")
	assert.Equal(t, 1, l.extra())
}

func TestPermanent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&KickedError{Reason: "x"}, true},
		{ErrClosed, true},
		{&netcode.DeniedError{Reason: netcode.DenyTokenExpired}, true},
		{&netcode.DeniedError{Reason: netcode.DenyVersionMismatch}, true},
		{&netcode.DeniedError{Reason: netcode.DenyServerFull}, false},
		{&netcode.DisconnectError{Reason: netcode.ReasonTimeout, Local: true}, false},
		{&netcode.DisconnectError{Reason: netcode.ReasonServerClosed}, false},
		{&netcode.DisconnectError{Reason: netcode.ReasonKicked}, true},
		{errors.New("dial failed"), false},
	} {
		assert.Equal(t, tc.want, permanent(tc.err), "%v", tc.err)
	}
}

func TestStatusString(t *testing.T) {
	for _, tc := range []struct {
		s    Status
		want string
	}{
		{Status{}, "connecting"},
		{Status{State: Connected}, "connected, waiting for the welcome"},
		{Status{State: Connected, Welcomed: true}, "connected"},
		{Status{State: Disconnected, Err: &KickedError{Reason: "afk"}}, `disconnected: client: kicked: "afk"`},
		{Status{State: Disconnected, Err: errors.New("boom"), RetryIn: 1234 * time.Millisecond}, "disconnected: boom; reconnecting in 1.3s"},
		{Status{State: Disconnected, Err: errors.New("boom"), RetryIn: time.Millisecond}, "disconnected: boom; reconnecting in 100ms"},
		{Status{State: Connecting, Attempt: 2, Err: errors.New("boom")}, "reconnecting (attempt 2): boom"},
		{Status{State: 9}, "ConnState(9)"},
	} {
		assert.Equal(t, tc.want, tc.s.String())
	}
	assert.Equal(t, "spawned", Spawned.String())
	assert.Equal(t, "despawned", Despawned.String())
	assert.Equal(t, "EventKind(0)", EventKind(0).String())
}
