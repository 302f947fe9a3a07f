package server

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stepClock is a Clock whose time the test sets: a Step's duration is what
// the game adds to it.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// TestStepTickSequence drives two servers with Step at explicit times and
// the same inputs: each Step is one tick, numbered from 0, in the order
// poll, messages, inputs, step, snapshots, flush; both produce the same
// bytes; Stats and OnTick see every Step.
func TestStepTickSequence(t *testing.T) {
	type run struct {
		calls []string
		sent  []fakeSent
		ticks []TickInfo
		stats Stats
	}
	drive := func() run {
		clock := &stepClock{now: time.Unix(50, 0)}
		g := newMsgGame()
		g.stepHook = func(tick uint32) { clock.now = clock.now.Add(time.Duration(tick+1) * time.Millisecond) }
		var r run
		var ts *testServer
		ts = newMsgServer(t, Config{Clock: clock, OnTick: func(ti TickInfo, took time.Duration) {
			r.ticks = append(r.ticks, ti)
			assert.Equal(t, time.Duration(ti.Tick+1)*time.Millisecond, took)
			assert.Equal(t, ti.Tick+1, ts.Stats().Ticks, "Stats counts the tick before OnTick")
		}}, g)
		ts.tr.connect(1)
		ts.tr.connect(2)
		ts.tr.deliver(1, DefaultInputChannel, inputMsg(t, 1, "b", "a"))
		ts.tr.deliver(2, DefaultControlChannel, gameMsg(t, chatMsg{Text: "hi"}))
		at := time.Unix(100, 0)
		for i := range 4 {
			require.NoError(t, ts.Step(at.Add(time.Duration(i)*time.Second))) // any times: a Step is a tick
			assert.Equal(t, uint32(i), ts.Tick())
		}
		r.calls, r.sent, r.stats = g.calls, ts.tr.sent, ts.Stats()
		assert.Equal(t, 4, ts.tr.flushes)
		return r
	}
	a, b := drive(), drive()
	assert.Equal(t, []string{
		"add 1", "add 2", "msg 2 {0 hi}", "input 1 0", "step 0",
		"input 1 1", "step 1", "input 1 2", "step 2", "input 1 3", "step 3",
	}, a.calls)
	require.Len(t, a.ticks, 4)
	for i, ti := range a.ticks {
		at := time.Unix(100+int64(i), 0)
		assert.Equal(t, TickInfo{Tick: uint64(i), Scheduled: at, Start: at}, ti)
	}
	var snaps, snapBytes uint64
	for _, m := range a.sent {
		if m.channel == DefaultSnapshotChannel {
			snaps++
			snapBytes += uint64(len(m.msg))
		}
	}
	require.Equal(t, uint64(4), snaps, "two each (phases 1 and 0)")
	assert.Equal(t, Stats{
		Tick: 3, Clients: 2, Ticks: 4, LastTickDuration: 4 * time.Millisecond,
		AvgTickDuration: (1 + 2 + 3 + 4) * time.Millisecond / 4, Connects: 2, MessagesIn: 1, Rooms: 1, RoomsCreated: 1,
		Inputs:        [NumInputVerdicts]uint64{InputAccepted: 2},
		InputTicks:    [NumInputSources]uint64{InputFresh: 2, InputRepeated: 2, InputNone: 4},
		SnapshotsFull: 4, SnapshotBytesFull: snapBytes,
		Transport: TransportCounters{Drops: map[string]uint64{}}, // sampled at New only: less than a second of ticks
	}, a.stats)
	assert.Equal(t, a, b, "the same ticks, bytes and stats")
}

// TestStepRunAndCloseExclusive: Step, Run and Close refuse to run during
// one another, Steps may precede Run (whose ticks go on from there), and
// Close shuts a stepped server down as Run does.
func TestStepRunAndCloseExclusive(t *testing.T) {
	t.Run("step inside a step", func(t *testing.T) {
		g := newTestGame(0)
		ts := newTestServer(t, Config{}, g)
		var inner, closeErr error
		g.stepHook = func(uint32) { inner, closeErr = ts.Step(time.Now()), ts.Close() }
		require.NoError(t, ts.Step(time.Now()))
		assert.ErrorIs(t, inner, ErrBusy)
		assert.ErrorContains(t, inner, "Step called during a Step")
		assert.ErrorIs(t, closeErr, ErrBusy)
		require.NoError(t, ts.Step(time.Now()), "idle again")
	})
	t.Run("close", func(t *testing.T) {
		g := newMsgGame()
		ts := newMsgServer(t, Config{}, g)
		var broadcast error
		g.onRemove = func(PlayerID) { broadcast = ts.Broadcast(chatMsg{Text: "bye"}) }
		ts.tr.connect(1)
		ts.tr.connect(2)
		ts.stepTo(t, 2)
		ts.tr.take(DefaultControlChannel)
		require.NoError(t, ts.Close())
		assert.True(t, ts.tr.closed, "transport closed: it tells the clients")
		assert.ElementsMatch(t, []PlayerID{1, 2}, g.removed)
		assert.NoError(t, broadcast, "nobody left to send to")
		assert.Empty(t, ts.tr.take(DefaultControlChannel))
		assert.Equal(t, 0, ts.Clients())
		assert.Equal(t, 0, ts.Stats().Clients)
		assert.ErrorIs(t, ts.Step(time.Now()), ErrClosed)
		assert.ErrorIs(t, ts.Close(), ErrClosed)
		assert.ErrorIs(t, ts.Run(t.Context()), ErrClosed)
	})
	t.Run("run", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := newTestGame(0)
			tr := newFakeTransport()
			s, err := New(Config{Codec: testCodec}, g, tr)
			require.NoError(t, err)
			for range 3 {
				require.NoError(t, s.Step(time.Now()))
			}
			var during []error
			g.stepHook = func(tick uint32) {
				if tick == 10 {
					during = append(during, s.Step(time.Now()), s.Close(), s.Run(t.Context()))
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Second-time.Nanosecond)
			defer cancel()
			stepErr := make(chan error, 1)
			go func() {
				time.Sleep(500 * time.Millisecond)
				stepErr <- s.Step(time.Now())
			}()
			require.NoError(t, s.Run(ctx))
			assert.ErrorIs(t, <-stepErr, ErrBusy, "Step from another goroutine during Run")
			require.Len(t, during, 3)
			for _, err := range during {
				assert.ErrorIs(t, err, ErrBusy)
			}
			assert.ErrorContains(t, during[0], "Step called while Run is running")
			assert.Len(t, g.steps, 3+60)
			assert.Equal(t, uint32(3), g.steps[3], "Run goes on from the Steps' ticks")
			assert.Equal(t, uint32(62), s.Tick())
			assert.Equal(t, uint64(63), s.Stats().Ticks)
			assert.True(t, tr.closed)
			assert.ErrorIs(t, s.Step(time.Now()), ErrClosed)
			assert.ErrorIs(t, s.Close(), ErrClosed)
		})
	})
}

// TestStatsWhileRunning reads Stats from another goroutine while Run runs
// (run with -race): the counts only grow, and at the end they are Run's.
func TestStatsWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newMsgGame()
		tr := newFakeTransport()
		tr.connect(1)
		tr.connect(2)
		s, err := New(Config{Codec: testCodec, Messages: testMessages(t)}, g, tr)
		require.NoError(t, err)
		g.stepHook = func(tick uint32) {
			switch tick {
			case 100:
				time.Sleep(40 * time.Millisecond) // an overrun, caught up (late)
			case 200:
				tr.deliver(1, DefaultControlChannel, gameMsg(t, chatMsg{Text: "x"}))
				tr.deliver(1, DefaultControlChannel, []byte{0}) // no such kind
			case 300:
				require.NoError(t, s.Broadcast(chatMsg{Text: "y"}))
				require.NoError(t, s.Kick(2, "bye"))
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second-time.Nanosecond)
		defer cancel()

		var wg sync.WaitGroup
		var seen []Stats
		wg.Go(func() {
			time.Sleep(5 * time.Millisecond) // between ticks, never at the same instant as one
			for ctx.Err() == nil {
				seen = append(seen, s.Stats())
				time.Sleep(250 * time.Millisecond)
			}
		})
		require.NoError(t, s.Run(ctx))
		wg.Wait()

		require.Greater(t, len(seen), 30)
		for i := 1; i < len(seen); i++ {
			a, b := seen[i-1], seen[i]
			assert.LessOrEqual(t, a.Ticks, b.Ticks)
			assert.LessOrEqual(t, a.MessagesOut, b.MessagesOut)
		}
		assert.Equal(t, uint64(1), seen[0].Ticks, "5 ms in: tick 0 done")
		assert.Equal(t, uint64(16), seen[1].Ticks, "255 ms in: ticks 0..15 done")
		var snapBytes uint64
		snaps := tr.take(DefaultSnapshotChannel)
		for _, m := range snaps {
			snapBytes += uint64(len(m.msg))
		}
		require.Len(t, snaps, 300+150, "player 1 on odd ticks, player 2 on even ones until its kick at 300")
		st := s.Stats()
		assert.Equal(t, Stats{
			Tick: 599, Clients: 0, Ticks: 600, Overruns: 1, Late: 1,
			LastTickDuration: 0, AvgTickDuration: 40 * time.Millisecond / 600,
			Connects: 2, Disconnects: 1, Kicks: 1, Rooms: 1, RoomsCreated: 1,
			MessagesIn: 1, MessagesOut: 2, MessagesDropped: 1,
			InputTicks:    [NumInputSources]uint64{InputNone: 600 + 301}, // no inputs; player 2 until tick 300
			SnapshotsFull: 450, SnapshotBytesFull: snapBytes,             // no acks: all full
			Drops: [NumDropReasons]uint64{DropUnexpectedMsg: 1},
			Transport: TransportCounters{PacketsIn: 2, PacketsOut: 2 + 2 + 1 + 450, BytesIn: tr.ctr.BytesIn, BytesOut: tr.ctr.BytesOut,
				Drops: map[string]uint64{}}, // sampled at shutdown
		}, st)
		assert.Equal(t, LoopStats{Ticks: 600, Overruns: 1, Late: 1}, s.LoopStats())
	})
}
