package client_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server/client"
)

// TestReconnect: the server shuts down; the client shows why, backs off,
// fails while there is no server, and connects to a new server on a fresh
// pipe as soon as there is one, with a fresh Welcome and prediction. Then
// that server dies without a word: the client times out and reconnects to
// a third.
func TestReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		link := netsim.Config{Latency: 30 * time.Millisecond}
		d := &dialer{up: link, down: link, ncfg: netcode.ClientConfig{Timeout: time.Second, ConnectTimeout: 500 * time.Millisecond}}
		cfg := dotConfig()
		cfg.Dial = d.dial
		cfg.Reconnect = client.ReconnectPolicy{Enabled: true, MinDelay: 200 * time.Millisecond, MaxDelay: time.Second, Seed: 1}
		c, err := client.New(cfg)
		require.NoError(t, err)
		defer c.Close()

		const frame = time.Second / 60
		var events []client.EntityEvent
		var statuses []string
		run := func(dur time.Duration, until func() bool) bool {
			for end := time.Now().Add(dur); time.Now().Before(end); {
				now := time.Now()
				c.Update(now, move{DX: 1})
				events = append(events, c.Events()...)
				if s := c.Status().String(); len(statuses) == 0 || statuses[len(statuses)-1] != s {
					statuses = append(statuses, s)
				}
				if until != nil && until() {
					return true
				}
				time.Sleep(frame)
			}
			return until == nil
		}
		predicting := func() bool { _, _, ok := c.Predicted(); return ok }

		// First server.
		s1 := startServer(t, 1)
		d.setTarget(s1.hub)
		require.True(t, run(2*time.Second, predicting), "predicting on the first server")
		run(time.Second, nil)
		_, tick1, _ := c.Predicted()
		assert.Greater(t, tick1, uint32(60))
		spawned := len(events)
		assert.Equal(t, 2, spawned, "own dot and the NPC")

		// It shuts down (telling the client); nothing listens for a while.
		d.setTarget(nil)
		s1.stop(t)
		events = events[:0]
		require.True(t, run(time.Second, func() bool { return c.Status().State == client.Disconnected }))
		st := c.Status()
		assert.ErrorIs(t, st.Err, netcode.ErrDisconnected)
		assert.Positive(t, st.RetryIn)
		assert.LessOrEqual(t, st.RetryIn, 200*time.Millisecond)
		assert.Contains(t, st.String(), "disconnected: netcode: disconnected by peer")
		assert.Contains(t, st.String(), "; reconnecting in ")
		assert.Len(t, events, 2, "the old world despawned")
		for _, e := range events {
			assert.Equal(t, client.Despawned, e.Kind)
		}
		_, _, ok := c.Predicted()
		assert.False(t, ok, "the prediction is gone with the world")
		require.True(t, run(time.Second, func() bool { st := c.Status(); return st.Attempt >= 2 && st.State == client.Disconnected }), "attempts fail while no server runs")
		assert.Equal(t, "disconnected: no server; reconnecting in 700ms", c.Status().String(),
			"the second delay is twice the first, jittered (upper half)")

		// A new server on a fresh pipe.
		s2 := startServer(t, 1)
		d.setTarget(s2.hub)
		events = events[:0]
		require.True(t, run(3*time.Second, predicting), "predicting on the second server: %v", c.Status())
		st = c.Status()
		assert.Equal(t, client.Connected, st.State)
		assert.Zero(t, st.Attempt)
		assert.NoError(t, st.Err)
		w, ok := c.Welcome()
		require.True(t, ok)
		assert.Equal(t, uint32(1), uint32(w.Player), "player 1 of the new server")
		_, tick2, _ := c.Predicted()
		assert.Less(t, tick2, tick1, "the new server's ticks start again from 0")
		run(time.Second, nil)
		assert.Equal(t, 2, countKind(events, client.Spawned), "the new world spawned")
		assert.Equal(t, uint64(2), c.Stats().Connects)

		// It dies without telling anyone: a timeout, then a third server.
		d.setTarget(nil)
		require.NoError(t, s2.hub.Close())
		require.True(t, run(3*time.Second, func() bool { return c.Status().State == client.Disconnected }))
		assert.ErrorIs(t, c.Status().Err, netcode.ErrTimeout)
		s2.stop(t)
		s3 := startServer(t, 0)
		d.setTarget(s3.hub)
		require.True(t, run(5*time.Second, predicting), "predicting on the third server: %v", c.Status())
		assert.Equal(t, uint64(3), c.Stats().Connects)

		t.Logf("statuses:\n%s", strings.Join(statuses, "\n"))
		require.NoError(t, c.Close())
		assert.Equal(t, client.Disconnected, c.Status().State)
		assert.ErrorIs(t, c.Status().Err, client.ErrClosed)
		s3.stop(t)
	})
}

func countKind(evs []client.EntityEvent, k client.EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}
