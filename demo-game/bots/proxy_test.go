package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/demo-game/internal/botswarm"
	"github.com/tickwire/tickwire/demo-game/internal/demoserver"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// startServer runs a demo server on 127.0.0.1 with its admin handler on
// another ephemeral port; it stops when the test ends (or at stop).
func startServer(t *testing.T, cfg demoserver.ServerConfig) (srv *demoserver.Server, sample botswarm.Sampler, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.AdminListener = ln
	srv, err = demoserver.Listen(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			require.NoError(t, <-done)
		}
	}
	t.Cleanup(stop)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + ln.Addr().String() + "/metrics"
	sample = func(ctx context.Context) (botswarm.ServerSample, error) { return botswarm.ScrapeMetrics(ctx, hc, url) }
	return srv, sample, stop
}

// TestSwarmThroughLossyProxy is the demo under a bad network: the netsim
// proxy between a bot swarm and the real server loses 5% of the datagrams
// each way and delays each by 50 ms (100 ms RTT). Every bot connects and
// gets its reliable welcome; interpolation stalls stay under 1% of frames;
// prediction corrections (inputs the server lacked, hits and respawns) stay
// rare; the link statistics see the loss and the RTT.
func TestSwarmThroughLossyProxy(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	run, bots := 12*time.Second, 8
	if testing.Short() {
		run = 6 * time.Second
	}
	srv, sample, stopServer := startServer(t, demoserver.ServerConfig{MaxPlayers: 16})
	link := netsim.Config{Loss: 0.05, Latency: 50 * time.Millisecond}
	proxy, err := netsim.ListenProxy(netsim.ProxyConfig{
		Listen: "127.0.0.1:0", Target: srv.Addr().String(), Up: link, Down: link, Seed: 7,
	})
	require.NoError(t, err)
	pctx, stopProxy := context.WithCancel(context.Background())
	proxyDone := make(chan error, 1)
	go func() { proxyDone <- proxy.Serve(pctx) }()
	defer func() {
		stopProxy()
		require.NoError(t, <-proxyDone)
	}()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	swarm, err := botswarm.Dial(ctx, botswarm.Config{Addr: proxy.Addr().String(), Bots: bots, Seed: 3})
	require.NoError(t, err)
	rctx, rcancel := context.WithTimeout(ctx, run)
	defer rcancel()
	var out strings.Builder
	rep := botswarm.Monitor(rctx, swarm, sample, run/6, botswarm.SoakLimits{StallRatio: 0.01}, &out)
	t.Log("\n" + out.String())
	require.NoError(t, swarm.Close())
	stopServer()

	st := rep.Bots
	assert.Equal(t, bots, st.Connected, "every bot connected")
	assert.Equal(t, bots, st.Welcomed, "every reliable welcome arrived")
	assert.Zero(t, st.Ended, "no connection ended during the run")
	assert.Zero(t, st.BadMessages)
	frames := float64(bots) * run.Seconds() * 60
	assert.Greater(t, float64(st.Frames), 0.8*frames, "the bots drew (almost) every frame")
	assert.Less(t, st.StallRatio(), 0.01, "interpolation stalls under 1%% of frames at 5%% loss (%d of %d)", st.Stalls, st.Frames)
	assert.Greater(t, st.SnapshotsPerBotSecond(), 0.85*30*0.95, "about 30 snapshots/s less the 5%% lost")
	// Corrections come from inputs that arrive after their tick, and from
	// hits and respawns; at 5% loss with inputs sent four times each, a few
	// per second per bot at most.
	steady := rep.Steady
	assert.Less(t, steady.CorrectionsPerBotSecond(), 1.0, "prediction corrections per bot-second after warm-up (%d)", steady.Corrections)
	assert.Less(t, steady.StallRatio(), 0.01, "stalls after warm-up")
	assert.GreaterOrEqual(t, st.RTTMedian, 100*time.Millisecond, "RTT is at least the proxy's 2 × 50 ms")
	assert.Less(t, st.RTTMedian, 200*time.Millisecond)
	assert.InDelta(t, 0.05, st.LossMean, 0.04, "the link statistics see the proxy's loss")

	ps := proxy.Stats()
	assert.Greater(t, ps.Up.DroppedLoss, uint64(0), "the proxy really dropped datagrams up")
	assert.Greater(t, ps.Down.DroppedLoss, uint64(0), "and down")
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.Name, "server heap") || strings.HasPrefix(c.Name, "server goroutines") || strings.HasPrefix(c.Name, "tick overruns") {
			continue // judged by the soak run: longer, and not under the race detector
		}
		assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	as := srv.Arena().Stats()
	assert.Equal(t, uint64(bots), as.Joined)
	assert.Zero(t, as.BadInputs)
}
