package client_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// TestServerBudgetSeenByClient: with a send budget on the server's
// connections (and its congestion response), the client still measures
// its RTT, and its Stats show the server's budget and rate estimate that
// the snapshots carry.
func TestServerBudgetSeenByClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newDotsGame(3)
		ep := endpoint.DefaultConfig()
		ep.SendRate, ep.CongestionControl = 1_000_000/8, true
		ts := startServerNetcode(t, server.Config{Codec: dotCodec}, netcode.ServerConfig{Endpoint: ep}, g, g, nil)
		defer ts.stop(t)
		link := netsim.Config{Latency: 50 * time.Millisecond, Loss: 0.05}
		cep := endpoint.DefaultConfig() // as the demo's clients configure theirs
		cep.MaxPacketSize = 0
		d := &dialer{target: ts.hub, up: link, down: link, ncfg: netcode.ClientConfig{Endpoint: cep}}
		cfg := dotConfig()
		cfg.Dial = d.dial
		c, err := client.New(cfg)
		require.NoError(t, err)
		defer c.Close()
		for range 180 {
			c.Update(time.Now(), move{DX: 1})
			time.Sleep(time.Second / 60)
		}
		snap, _, ok := c.Newest()
		require.True(t, ok, "snapshots arrive")
		t.Logf("newest snapshot: tick %d, %d entities %v", snap.Tick, snap.Len(), snap.IDs)
		_, _, predicting := c.Predicted()
		assert.True(t, predicting, "the client predicts its own player")
		st := c.Stats()
		t.Logf("client RTT %v, loss %.3f, server budget %d B/s, estimate %d B/s", st.RTT, st.Loss, st.ServerSendBudget, st.ServerEstimatedRate)
		assert.Greater(t, st.RTT, 90*time.Millisecond)
		assert.Less(t, st.RTT, 250*time.Millisecond)
		assert.Positive(t, st.ServerSendBudget)
	})
}
