package demoserver

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/tokens"
)

// TestSecureModeWithBackendTokens: the token backend (package tokens)
// issues a token for the room a player asks for; the demo server in secure
// mode, sharing the key, accepts it and its game sees the room as the
// player's user data; a client without a token gets nowhere.
func TestSecureModeWithBackendTokens(t *testing.T) {
	rnd := rand.NewChaCha8([32]byte{3})
	key, err := netcode.GenerateKey(rnd)
	require.NoError(t, err)
	picker, err := tokens.NewPicker([]netip.AddrPort{pipeServer})
	require.NoError(t, err)
	backend, err := tokens.New(tokens.Config{Key: key, ProtocolID: protocol.ProtocolID, Picker: picker,
		Auth: tokens.SharedSecret("0123456789abcdef"), Rand: rnd, TokenTTL: time.Hour,
		Now: func() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }}) // the bubble's epoch
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(`{"room":"arena-1"}`))
	req.Header.Set("Authorization", "Bearer 0123456789abcdef")
	req.Header.Set("X-Player-ID", "ana")
	rec := httptest.NewRecorder()
	backend.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp tokens.Response
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	tok, err := base64.StdEncoding.DecodeString(resp.Token)
	require.NoError(t, err)

	synctest.Test(t, func(t *testing.T) {
		userData := make(chan string, 1)
		var srv *Server
		srv, cpc := newPipeServer(t, io.Discard, func(c *ServerConfig) {
			c.TokenKey, c.PublicAddr = &key, pipeServer
			c.OnTick = func(server.TickInfo, time.Duration) { // the tick's goroutine may ask the server
				for _, p := range srv.Players() {
					if info, ok := srv.Player(p); ok && len(userData) == 0 {
						userData <- string(info.UserData)
					}
				}
			}
		})
		done := make(chan error, 1)
		go func() { done <- srv.Run(t.Context()) }()

		cli, err := netcode.DialConn(t.Context(), cpc, pipeServer, netcode.ClientConfig{ProtocolID: protocol.ProtocolID, Token: tok})
		require.NoError(t, err)
		assert.Equal(t, "arena-1", <-userData)
		require.NoError(t, cli.Close())
		srv.Shutdown()
		require.NoError(t, <-done)
	})

	synctest.Test(t, func(t *testing.T) {
		srv, cpc := newPipeServer(t, io.Discard, func(c *ServerConfig) { c.TokenKey, c.PublicAddr = &key, pipeServer })
		done := make(chan error, 1)
		go func() { done <- srv.Run(t.Context()) }()
		_, err := netcode.DialConn(t.Context(), cpc, pipeServer, netcode.ClientConfig{ProtocolID: protocol.ProtocolID, ConnectTimeout: 2 * time.Second})
		require.ErrorIs(t, err, netcode.ErrTokenDenied, "no token, no game")
		assert.Zero(t, srv.Stats().Connects)
		srv.Shutdown()
		require.NoError(t, <-done)
	})
}
