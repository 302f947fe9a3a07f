package client_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server/client"
)

// TestStartupOrder: a snapshot that arrives before the Welcome is kept as
// a delta baseline and used for nothing else; the Welcome alone starts
// nothing either; the first snapshot after it (a delta against the early
// one) syncs the clock and starts prediction, inputs and interpolation.
func TestStartupOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, dial := newFakeServer(t, nil, netsim.Config{Latency: 20 * time.Millisecond})
		cfg := dotConfig()
		cfg.Dial = dial
		c := connectFake(t, f, cfg)
		st := c.Status()
		assert.False(t, st.Welcomed)
		assert.Equal(t, "connected, waiting for the welcome", st.String())

		// A full snapshot before the welcome.
		f.snapshot(10, 0, 1, 5)
		frames(10, f, c, move{DX: 1})
		stats := c.Stats()
		assert.Equal(t, uint64(1), stats.EarlySnapshots)
		assert.Zero(t, stats.Snapshots)
		_, _, ok := c.Predicted()
		assert.False(t, ok, "no prediction before the welcome")
		_, _, ok = c.Newest()
		assert.False(t, ok, "an early snapshot is not applied")
		_, ok = c.Remote(time.Now())
		assert.False(t, ok, "nor interpolated")
		assert.Zero(t, f.inputMsgs, "no input before prediction")

		// The welcome, and no snapshot yet: the clock is not synced.
		f.welcome(1, 12)
		frames(10, f, c, move{DX: 1})
		w, ok := c.Welcome()
		require.True(t, ok)
		assert.Equal(t, uint32(1), uint32(w.Player))
		assert.True(t, c.Status().Welcomed)
		assert.Equal(t, "connected", c.Status().String())
		_, _, ok = c.Predicted()
		assert.False(t, ok, "no prediction before the clock has a sample")
		assert.Zero(t, f.inputMsgs)

		// A delta against the early snapshot: it decodes, so the early
		// one was kept as a baseline.
		f.snapshot(14, 10, 1, 5, 7)
		var events []client.EntityEvent
		for range 10 {
			frames(1, f, c, move{DX: 1})
			events = append(events, c.Events()...)
		}
		stats = c.Stats()
		assert.Zero(t, stats.MissingBaselines)
		assert.Zero(t, stats.BadMessages)
		assert.Equal(t, uint64(1), stats.Snapshots)
		assert.Equal(t, []client.EntityEvent{
			{Kind: client.Spawned, ID: 1, Tick: 14}, {Kind: client.Spawned, ID: 5, Tick: 14}, {Kind: client.Spawned, ID: 7, Tick: 14},
		}, events, "spawns from the first applied snapshot only")
		snap, hdr, ok := c.Newest()
		require.True(t, ok)
		assert.Equal(t, uint32(14), snap.Tick)
		assert.Equal(t, uint32(14), hdr.InputAck)

		s, tick, ok := c.Predicted()
		require.True(t, ok, "prediction started")
		// Predicted from the server's own state at tick 14 (x = 1·10+14):
		// the ticks the server runs before any input can reach it with the
		// zero input (the server has none for them), then one unit of
		// dotSpeed per tick with the frames' input.
		require.Greater(t, tick, uint32(15))
		assert.Positive(t, f.inputMsgs, "inputs flow")
		zeros, moving := int32(0), 0
		for tk := uint32(15); tk < tick; tk++ {
			m, ok := f.inputTicks[tk]
			if !ok {
				continue // still on its way
			}
			switch m {
			case move{}:
				assert.Zero(t, moving, "tick %d: the zero input only before the first real one", tk)
				zeros++
			case move{DX: 1}:
				moving++
			default:
				t.Errorf("tick %d: input %+v", tk, m)
			}
		}
		assert.Positive(t, moving, "the frames' input follows")
		assert.Equal(t, dot{X: 24 + dotSpeed*(int32(tick-15)-zeros), Y: 1}, s)
		assert.Contains(t, f.inputTicks, uint32(15), "the first input is for the tick after the ack")
		assert.NotContains(t, f.inputTicks, uint32(14))

		fr, ok := c.Remote(time.Now())
		require.True(t, ok)
		assert.Equal(t, uint32(14), fr.From, "the early snapshot is not interpolated")
		assert.Equal(t, 3, fr.Len())
	})
}

// TestStartupCorrections: on a 60 ms link, the clock starts with
// AssumedRTT instead of the zero RTT the connection reports before its
// first acknowledgement, so the first inputs are not late by a one-way
// delay: only the inputs the server ran before any could arrive are
// corrected (4 here, against 17 with the zero RTT), all in the first
// second, and none after.
func TestStartupCorrections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := startServer(t, 0)
		link := netsim.Config{Latency: 60 * time.Millisecond}
		d := &dialer{target: ts.hub, up: link, down: link}
		cfg := dotConfig()
		cfg.Dial = d.dial
		c, err := client.New(cfg)
		require.NoError(t, err)
		started := -1
		var atOneSecond client.Stats
		for i := range 300 {
			c.Update(time.Now(), move{DX: 1})
			if _, _, ok := c.Predicted(); ok && started < 0 {
				started = i
				assert.Zero(t, c.Stats().RTT, "prediction starts before the first RTT sample")
			}
			if started >= 0 && i == started+60 {
				atOneSecond = c.Stats()
			}
			time.Sleep(time.Second / 60)
		}
		st := c.Stats()
		require.GreaterOrEqual(t, started, 0)
		t.Logf("corrections: %d in the first second of prediction, %d in total", atOneSecond.Corrections, st.Corrections)
		assert.LessOrEqual(t, atOneSecond.Corrections, uint64(5))
		assert.Equal(t, atOneSecond.Corrections, st.Corrections, "none after the first second")
		assert.Zero(t, st.ExtraLead, "no input came late enough to raise the lead")
		require.NoError(t, c.Close())
		ts.stop(t)
	})
}
