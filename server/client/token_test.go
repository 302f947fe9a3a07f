package client_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// TestConnectToken: against a secure server, a client with a connect token
// the backend issued with the server's key connects and plays; one with a
// token sealed under another key is refused (the server cannot seal its
// denial, so netcode.Dial reports it after ConnectTimeout), and does not
// retry.
func TestConnectToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		key, err := netcode.GenerateKey(rand.Reader)
		require.NoError(t, err)
		other, err := netcode.GenerateKey(rand.Reader)
		require.NoError(t, err)
		token := func(k [netcode.KeySize]byte, id netcode.ClientID) []byte {
			tok, err := netcode.IssueConnectToken(k, netcode.ConnectToken{
				ProtocolID: testProtocol, ClientID: id, Expires: time.Now().Add(time.Hour),
				ServerAddrs: []netip.AddrPort{pipeServerAddr},
			}, rand.Reader)
			require.NoError(t, err)
			return tok
		}

		h := netsim.NewHub()
		tr, err := server.NewNetcodeTransport(h, netcode.ServerConfig{ProtocolID: testProtocol, TokenKey: &key, PublicAddr: pipeServerAddr})
		require.NoError(t, err)
		srv, err := server.New(server.Config{Codec: dotCodec}, newDotsGame(0), tr)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()

		link := netsim.Config{Latency: 10 * time.Millisecond}
		newClient := func(tok []byte) *client.Client[dot, move] {
			d := &dialer{target: h, up: link, down: link, ncfg: netcode.ClientConfig{Token: tok, ConnectTimeout: time.Second}}
			cfg := dotConfig()
			cfg.Dial = d.dial
			cfg.Reconnect = client.ReconnectPolicy{Enabled: true, MinDelay: 100 * time.Millisecond}
			c, err := client.New(cfg)
			require.NoError(t, err)
			return c
		}
		good, bad := newClient(token(key, 41)), newClient(token(other, 42))
		for range 180 {
			now := time.Now()
			good.Update(now, move{DX: 1})
			bad.Update(now, move{DX: 1})
			time.Sleep(time.Second / 60)
		}
		_, _, ok := good.Predicted()
		assert.True(t, ok, "the good token plays: %v", good.Status())
		assert.Equal(t, client.Connected, good.Status().State)

		st := bad.Status()
		assert.Equal(t, client.Disconnected, st.State)
		assert.ErrorIs(t, st.Err, netcode.ErrTokenDenied)
		var denied *netcode.DeniedError
		require.True(t, errors.As(st.Err, &denied))
		assert.Equal(t, netcode.DenyTokenInvalid, denied.Reason)
		assert.Zero(t, st.RetryIn, "a refused token is not retried")
		assert.Zero(t, st.Attempt)
		assert.Zero(t, bad.Stats().Connects)

		require.NoError(t, good.Close())
		require.NoError(t, bad.Close())
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, h.Close())
	})
}
