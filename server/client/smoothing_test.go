package client_test

import (
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// TestCorrectionSmoothing: a small correction moves the predicted state at
// once but slides on screen (SmoothOffset starts at before − after and
// fades out within SmoothTime); a correction beyond SnapDistance (a
// respawn) snaps.
func TestCorrectionSmoothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, dial := newFakeServer(t, nil, netsim.Config{Latency: 10 * time.Millisecond})
		f.useCodec(dotCodec)
		cfg := dotConfig() // SnapDistance 100, SmoothTime 150 ms
		cfg.Dial = dial
		c := connectFake(t, f, cfg)
		f.welcome(1, 0)
		frames(3, f, c, move{})

		// The server agrees with the prediction: the dot stands still.
		for tick := uint32(2); tick <= 20; tick += 2 {
			f.snapshotOf(tick, ent{1, 0, []int32{0, 0}})
			frames(2, f, c, move{})
		}
		require.Zero(t, c.Stats().Corrections)
		s, _, ok := c.Predicted()
		require.True(t, ok)
		require.Equal(t, dot{0, 0}, s)
		assert.Equal(t, []float64{0, 0}, c.SmoothOffset(time.Now()))

		// It was pushed 5 units right: a small correction, smoothed.
		f.snapshotOf(22, ent{1, 0, []int32{5, 0}})
		var off []float64
		for range 4 {
			now := time.Now()
			f.step(now)
			c.Update(now, move{})
			if c.Stats().Corrections == 1 {
				off = append(off[:0], c.SmoothOffset(now)...)
				break
			}
			time.Sleep(time.Second / 60)
		}
		st := c.Stats()
		require.Equal(t, uint64(1), st.Corrections)
		assert.Equal(t, 5.0, st.CorrectionSize)
		assert.Zero(t, st.SnappedCorrections)
		s, _, _ = c.Predicted()
		assert.Equal(t, dot{5, 0}, s, "the prediction follows the server at once")
		require.Len(t, off, 2)
		assert.InDelta(t, -5, off[0], 1e-9, "drawn where it was, at first")
		assert.Zero(t, off[1])
		time.Sleep(200 * time.Millisecond)
		assert.Equal(t, []float64{0, 0}, c.SmoothOffset(time.Now()), "faded out after SmoothTime")

		// A respawn far away snaps.
		f.snapshotOf(40, ent{1, 0, []int32{500, -300}})
		frames(4, f, c, move{})
		st = c.Stats()
		assert.Equal(t, uint64(2), st.Corrections)
		assert.Equal(t, uint64(1), st.SnappedCorrections)
		assert.InDelta(t, 5+math.Hypot(495, 300), st.CorrectionSize, 1e-9)
		assert.Equal(t, []float64{0, 0}, c.SmoothOffset(time.Now()), "no slide across the arena")
		s, _, _ = c.Predicted()
		assert.Equal(t, dot{500, -300}, s)
	})
}
