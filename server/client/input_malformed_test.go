package client_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// Issue 10, item 4: at 20% loss each way, the clients' input path never
// sends the server an input message it cannot decode. (The demo's old
// clientui.Session sent zero-length ones from Tick's "ahead of target"
// branch before its first input, which the server counted as
// input_malformed.)
func TestNoMalformedInputsAtTwentyPercentLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const nClients, frame = 10, 16700 * time.Microsecond
		link := netsim.Config{Loss: 0.2, Latency: 30 * time.Millisecond}
		ts := startServer(t, 0)
		cs := make([]*client.Client[dot, move], nClients)
		for k := range cs {
			d := &dialer{target: ts.hub, up: link, down: link, seed: uint64(k)*7 + 1}
			cfg := dotConfig()
			cfg.Dial = d.dial
			c, err := client.New(cfg)
			require.NoError(t, err)
			cs[k] = c
		}
		for i := range int(25 * time.Second / frame) {
			now := time.Now()
			for k, c := range cs {
				c.Update(now, script(k, i))
			}
			time.Sleep(frame)
		}
		st := ts.srv.Stats()
		for k, c := range cs {
			assert.Equal(t, client.Connected, c.Stats().State, "client %d", k)
			c.Close()
		}
		assert.Positive(t, st.Inputs[server.InputAccepted], "inputs arrived")
		assert.Zero(t, st.Drops[server.DropInputMalformed], "no malformed input at 20%% loss")
		ts.stop(t)
	})
}
