package botswarm_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/internal/botswarm"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// memServer is a real demo server (the arena on server.Server) on an
// in-memory hub, run on its own goroutine.
type memServer struct {
	hub  *netsim.Hub
	srv  *server.Server
	stop context.CancelFunc
	done chan error
}

func startMemServer(t *testing.T) *memServer {
	t.Helper()
	return startMemServerWith(t, netcode.ServerConfig{})
}

// startMemServerWith is startMemServer with the transport's config (the
// protocol id and client limit are the demo's).
func startMemServerWith(t *testing.T, ncfg netcode.ServerConfig) *memServer {
	t.Helper()
	hub := netsim.NewHub()
	ncfg.ProtocolID, ncfg.MaxClients = protocol.ProtocolID, 16
	tr, err := server.NewNetcodeTransport(hub, ncfg)
	require.NoError(t, err)
	a, err := arena.New(arena.Config{})
	require.NoError(t, err)
	srv, err := server.New(server.Config{Codec: protocol.Codec()}, a, tr)
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	s := &memServer{hub: hub, srv: srv, stop: stop, done: make(chan error, 1)}
	go func() { s.done <- srv.Run(ctx) }()
	return s
}

// kill ends the server without a word to its clients: the hub goes dead
// first (as a crashed process's socket would), then the loop stops.
func (s *memServer) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, s.hub.Close())
	s.stop()
	require.NoError(t, <-s.done)
}

// TestBotsSurviveTheirServer runs three bots with reconnect on against a
// server that is killed after 3 s and started again (a new process on the
// same address) 10 s later. The bots see the loss (the connection times
// out: their status says so and counts down to the next attempt), keep
// trying while nothing answers, reconnect to the new server and play on;
// the run's summary prints FAIL for the lost connections, so the bots
// command exits 1.
func TestBotsSurviveTheirServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		current := startMemServer(t)
		dial := func(ctx context.Context, bot int) (*netcode.Client, error) {
			mu.Lock()
			hub := current.hub
			mu.Unlock()
			pc := hub.Dial(netsim.Config{}, netsim.Config{}, uint64(bot))
			return netcode.DialConn(ctx, pc, netsim.ServerAddr, clientui.NetcodeConfig())
		}
		const bots = 3
		s, err := botswarm.Dial(t.Context(), botswarm.Config{
			Addr: "memnet", Bots: bots, Seed: 5, Drivers: 1, DialTimeout: 2 * time.Second, Dial: dial,
			Reconnect: client.ReconnectPolicy{Enabled: true, MinDelay: 500 * time.Millisecond, MaxDelay: 2 * time.Second},
		})
		require.NoError(t, err)
		assert.Empty(t, s.DialErrors())

		ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
		defer cancel()
		var out strings.Builder
		report := make(chan botswarm.SoakReport, 1)
		go func() { report <- botswarm.Monitor(ctx, s, nil, time.Second, botswarm.SoakLimits{}, &out) }()

		time.Sleep(3 * time.Second)
		first := current
		require.Equal(t, bots, first.srv.Stats().Clients)
		first.kill(t)

		// The connections time out after 5 s of silence; then each bot
		// shows why and when it tries again, and tries (the dead address
		// does not answer either).
		time.Sleep(5200 * time.Millisecond)
		down := s.Stats()
		assert.Equal(t, bots, down.Ended, "every bot knows its server is gone")
		for i, b := range s.Bots() {
			assert.Regexp(t, `^disconnected: netcode: connection timed out.*; reconnecting in \d+(\.\d+)?m?s$`, b.Ended, "bot %d", i)
			assert.Equal(t, 1, b.Lost, "bot %d", i)
		}
		time.Sleep(4800 * time.Millisecond)
		for i, b := range s.Bots() {
			assert.Regexp(t, `^(reconnecting \(attempt [1-9]\)|disconnected): `, b.Ended, "bot %d is still down, trying", i)
			assert.Zero(t, b.Reconnects, "bot %d", i)
		}

		mu.Lock()
		current = startMemServer(t)
		mu.Unlock()
		time.Sleep(6 * time.Second)
		back := s.Stats()
		assert.Zero(t, back.Ended, "every bot is connected again")
		assert.Equal(t, bots, back.Reconnects)
		assert.Equal(t, bots, back.Lost)
		assert.Equal(t, bots, back.Welcomed, "and welcomed by the new server")
		assert.Equal(t, bots, current.srv.Stats().Clients)
		before := back.Snapshots
		time.Sleep(2 * time.Second)
		assert.Greater(t, s.Stats().Snapshots, before+uint64(bots)*50, "the bots play on")
		for i, b := range s.Bots() {
			assert.Equal(t, "connected", b.Status, "bot %d", i)
		}

		rep := <-report
		t.Log("\n" + out.String())
		assert.False(t, rep.OK(), "a run that lost its server fails")
		assert.Contains(t, out.String(), "FAIL no connection ended: 3 connections lost, 3 reconnects, 0 bots not connected now")
		assert.Contains(t, out.String(), "ended 3 lost 3 reconnects 0", "a periodic line shows the bots down")
		require.NoError(t, s.Close())
		current.kill(t)
	})
}

// TestSwarmOverLossyLinks is the demo under a bad network: eight bots play
// the real server, each over its own link losing 5% of the datagrams each
// way and delaying each by 50 ms, for 12 s of simulated time. Every bot
// connects and gets its reliable welcome, no connection is lost, nothing
// stalls, the link statistics see the loss and the RTT, and after warm-up
// the prediction is corrected only when the server killed or respawned the
// player (snapped) or an input was late.
func TestSwarmOverLossyLinks(t *testing.T) {
	t.Run("no budget", func(t *testing.T) { testSwarmOverLossyLinks(t, netcode.ServerConfig{}) })
	// With a send budget per player and the congestion response, the
	// snapshots follow the budget, the arena's own player first: the bots
	// play as well.
	ep := endpoint.DefaultConfig()
	ep.MaxPacketSize = 0
	ep.SendRate, ep.CongestionControl = 1_000_000/8, true
	t.Run("server budget", func(t *testing.T) { testSwarmOverLossyLinks(t, netcode.ServerConfig{Endpoint: ep}) })
}

func testSwarmOverLossyLinks(t *testing.T, ncfg netcode.ServerConfig) {
	synctest.Test(t, func(t *testing.T) {
		srv := startMemServerWith(t, ncfg)
		link := netsim.Config{Loss: 0.05, Latency: 50 * time.Millisecond}
		const bots = 8
		s, err := botswarm.Dial(t.Context(), botswarm.Config{
			Addr: "memnet", Bots: bots, Seed: 3, Drivers: 2,
			Dial: func(ctx context.Context, bot int) (*netcode.Client, error) {
				pc := srv.hub.Dial(link, link, uint64(bot)+100)
				return netcode.DialConn(ctx, pc, netsim.ServerAddr, clientui.NetcodeConfig())
			},
		})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 12*time.Second)
		defer cancel()
		var out strings.Builder
		rep := botswarm.Monitor(ctx, s, nil, 2*time.Second, botswarm.SoakLimits{}, &out)
		t.Log("\n" + out.String())
		require.NoError(t, s.Close())
		srv.kill(t)

		for _, c := range rep.Checks {
			assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
		}
		st, steady := rep.Bots, rep.Steady
		assert.Equal(t, bots, st.Connected)
		assert.Equal(t, bots, st.Welcomed)
		assert.Zero(t, st.Lost)
		assert.Zero(t, st.BadMessages)
		assert.Zero(t, steady.Stalls, "no stall after warm-up")
		assert.GreaterOrEqual(t, steady.Frames, uint64(bots*60*8), "the bots drew every frame")
		assert.InDelta(t, 0.05, st.LossMean, 0.03, "the link statistics see the loss")
		assert.InDelta(t, 100, float64(st.RTTMedian.Milliseconds()), 30, "RTT ≈ 2 × 50 ms")
		assert.LessOrEqual(t, steady.Corrections-steady.Snapped, steady.Deaths+1,
			"after warm-up, corrections only where the server killed a bot (or one input was late)")
	})
}

// TestSoakChecksInSimulatedTime is a small soak run (what scripts/soak.sh
// does for 10 minutes with 200 bots) in simulated time: 12 bots for 20 s
// against the real server on a hub, sampled once a second in-process (the
// server's Stats and the Go runtime, where the bots command scrapes the
// same figures from the admin address). Every soak check passes, with the
// default bounds: a tick costs no simulated time, so overruns and stalls
// are the protocol's, not the machine's.
func TestSoakChecksInSimulatedTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := startMemServer(t)
		const bots = 12
		s, err := botswarm.Dial(t.Context(), botswarm.Config{
			Addr: "memnet", Bots: bots, Seed: 11, Drivers: 2,
			Dial: func(ctx context.Context, bot int) (*netcode.Client, error) {
				link := netsim.Config{Latency: 20 * time.Millisecond, Loss: 0.01}
				return netcode.DialConn(ctx, srv.hub.Dial(link, link, uint64(bot)), netsim.ServerAddr, clientui.NetcodeConfig())
			},
		})
		require.NoError(t, err)
		sample := func(context.Context) (botswarm.ServerSample, error) {
			st := srv.srv.Stats()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return botswarm.ServerSample{
				HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, Goroutines: runtime.NumGoroutine(),
				Clients: st.Clients, Ticks: st.Ticks, Overruns: st.Overruns, Skipped: st.Skipped, Disconnects: st.Disconnects,
			}, nil
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var out strings.Builder
		rep := botswarm.Monitor(ctx, s, sample, time.Second, botswarm.SoakLimits{RequireSamples: true}, &out)
		t.Log("\n" + out.String())
		require.NoError(t, s.Close())
		srv.kill(t)

		require.GreaterOrEqual(t, len(rep.Samples), 20)
		assert.True(t, rep.OK(), "every soak check passes")
		for _, c := range rep.Checks {
			assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
		}
		first, last := rep.Samples[0], rep.Samples[len(rep.Samples)-1]
		assert.InDelta(t, (last.At-first.At).Seconds()*60, float64(last.Ticks-first.Ticks), 2, "the server kept its tick rate")
		assert.Zero(t, last.Disconnects, "no bot dropped during the run")
		assert.Equal(t, bots, last.Clients)
	})
}
