package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// TestDialAddr: with Config.Addr the client dials a real UDP server with
// netcode.Dial (on its short-lived goroutine, while the frame loop runs)
// and plays. Real sockets, so real time: the loop runs until the client
// predicts, for at most 10 s.
func TestDialAddr(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tr, err := server.ListenNetcode("127.0.0.1:0", netcode.ServerConfig{ProtocolID: testProtocol})
	require.NoError(t, err)
	srv, err := server.New(server.Config{Codec: dotCodec}, newDotsGame(1), tr)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	cfg := dotConfig()
	cfg.Addr = tr.Addr().String()
	cfg.Netcode = netcode.ClientConfig{ProtocolID: testProtocol}
	c, err := client.New(cfg)
	require.NoError(t, err)
	frames := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); frames++ {
		c.Update(time.Now(), move{DY: -1})
		if _, _, ok := c.Predicted(); ok {
			break
		}
		time.Sleep(time.Second / 60)
	}
	_, _, ok := c.Predicted()
	require.True(t, ok, "not predicting after %d frames: %v", frames, c.Status())
	assert.Equal(t, client.Connected, c.Status().State)
	w, _ := c.Welcome()
	assert.Equal(t, server.PlayerID(1), w.Player)
	require.NoError(t, c.Close())
	cancel()
	require.NoError(t, <-done)
}
