package main

import (
	"context"
	"fmt"
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

// The guide's game, played by three clients over an in-memory network with
// 5% loss and 30 ms each way, in simulated time: everyone joins, moves,
// sees the others and the coins come and go, and every chat reaches every
// client.
func TestQuickstartPlays(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure=%v", secure), func(t *testing.T) { testQuickstart(t, secure) })
	}
}

func testQuickstart(t *testing.T, secure bool) {
	synctest.Test(t, func(t *testing.T) {
		hub := netsim.NewHub()
		scfg := netcode.ServerConfig{ProtocolID: protocolID}
		key := [netcode.KeySize]byte{1, 2, 3}
		if secure {
			scfg.TokenKey = &key
		}
		tr, err := server.NewNetcodeTransport(hub, scfg)
		require.NoError(t, err)
		srv, err := newServer(tr)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
		defer cancel()
		ran := make(chan error, 1)
		go func() { ran <- srv.Run(ctx) }()

		link := netsim.Config{Loss: 0.05, Latency: 30 * time.Millisecond}
		const clients = 3
		overHub := func(cfg client.Config[Dot, Move], seed uint64) client.Config[Dot, Move] {
			pipe := hub.Dial(link, link, seed)
			cfg.Dial = func(ctx context.Context) (*netcode.Client, error) {
				return netcode.DialConn(ctx, pipe, netsim.ServerAddr, cfg.Netcode)
			}
			return cfg
		}
		var why error
		refusal := make(chan error, 1)
		if secure {
			cfg := clientConfig()
			cfg.Netcode.Token, err = badToken(netsim.ServerAddr)
			require.NoError(t, err)
			cfg = overHub(cfg, 99)
			go func() {
				var err error
				why, err = refused(ctx, cfg)
				refusal <- err
			}()
		}
		reports, err := playAll(ctx, clients, func(n int) client.Config[Dot, Move] {
			cfg := clientConfig()
			if secure {
				tok, err := issueToken(key, netsim.ServerAddr, uint64(100+n), fmt.Sprintf("ana-%d", n))
				assert.NoError(t, err)
				cfg.Netcode.Token = tok
			}
			return overHub(cfg, uint64(n+1))
		})
		require.NoError(t, err)
		if secure {
			require.NoError(t, <-refusal)
			assert.ErrorIs(t, why, netcode.ErrTokenDenied)
		}
		require.NoError(t, <-ran)
		assert.EqualValues(t, clients, srv.Stats().MessagesIn, "one hello from each client")
		require.NoError(t, hub.Close())

		for n, r := range reports {
			assert.NotZero(t, r.player, "client %d was welcomed", n)
			assert.True(t, r.moved, "client %d predicted its dot moving", n)
			assert.Equal(t, clients+1, r.remoteMax, "client %d saw every dot and the coin", n)
			assert.GreaterOrEqual(t, r.spawns, clients+2, "client %d: dots and at least two coins appeared", n)
			assert.GreaterOrEqual(t, r.despawns, 1, "client %d: a coin vanished", n)
			// Chats go to whoever is connected: every client gets its own
			// hello back from the server, after the notice of its own join.
			assert.Contains(t, r.chats, Chat{From: r.player, Text: fmt.Sprintf("hello from client %d", n)}, "client %d", n)
			name := fmt.Sprintf("player %d", r.player)
			if secure {
				name = fmt.Sprintf("ana-%d", n) // from the token's user data
			}
			assert.Contains(t, r.chats, Chat{Text: name + " joined"}, "client %d", n)
			assert.Zero(t, r.stats.Stalls, "client %d", n)
		}
	})
}
