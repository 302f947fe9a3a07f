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

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/internal/botswarm"
	"github.com/tickwire/tickwire/demo-game/internal/demoserver"
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

// TestShortSoak is a small version of scripts/soak.sh (200 bots, 10
// minutes): 16 bots for 15 s against a real server on loopback, sampled
// through its admin metrics once a second. Every soak check passes: bots
// connected and welcomed, none dropped, stalls within bound, the server's
// heap and goroutines flat after warm-up, every bot counted. (Tick overruns
// are left to the real soak run: under the race detector on a shared
// machine a tick can take longer than 16 ms for reasons that say nothing
// about the server.)
func TestShortSoak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	run, bots := 15*time.Second, 16
	if testing.Short() {
		run, bots = 8*time.Second, 8
	}
	srv, sample, stop := startServer(t, demoserver.ServerConfig{MaxPlayers: 32, Arena: arena.Config{ViewRadius: 300}})
	ctx, cancel := context.WithTimeout(t.Context(), run+30*time.Second)
	defer cancel()
	swarm, err := botswarm.Dial(ctx, botswarm.Config{Addr: srv.Addr().String(), Bots: bots, Seed: 11})
	require.NoError(t, err)
	rctx, rcancel := context.WithTimeout(ctx, run)
	defer rcancel()
	var out strings.Builder
	rep := botswarm.Monitor(rctx, swarm, sample, time.Second, botswarm.SoakLimits{RequireSamples: true}, &out)
	t.Log("\n" + out.String())
	require.NoError(t, swarm.Close())
	stop()

	require.GreaterOrEqual(t, len(rep.Samples), 5)
	for _, c := range rep.Checks {
		if c.Name == "tick overruns within bound" {
			continue
		}
		assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	last := rep.Samples[len(rep.Samples)-1]
	assert.Greater(t, last.Ticks, uint64(run.Seconds()*60*0.9), "the server kept its tick rate")
	assert.Zero(t, last.Disconnects, "no bot dropped during the run")
}

// TestRunExitsOneWhenACheckFails: the command's exit status follows its
// checks, soak or not. Against a real server with room for one player,
// one bot passes every check (exit 0); two bots do not all connect (the
// second is refused: the server is full), the summary prints FAIL and the
// command exits 1.
func TestRunExitsOneWhenACheckFails(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, _, stop := startServer(t, demoserver.ServerConfig{MaxPlayers: 1})
	defer stop()
	addr := srv.Addr().String()

	var out, errs strings.Builder
	code := run([]string{"-addr", addr, "-n", "1", "-duration", "2s", "-interval", "1s"}, &out, &errs)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	assert.NotContains(t, out.String(), "FAIL")
	assert.Contains(t, out.String(), "ok   no connection ended: 0 connections lost")

	out.Reset()
	errs.Reset()
	code = run([]string{"-addr", addr, "-n", "2", "-duration", "1s", "-interval", "1s", "-per-bot"}, &out, &errs)
	assert.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	assert.Contains(t, out.String(), "FAIL every bot connected: 1 of 2 connected, 1 failed")
	assert.Contains(t, out.String(), "netcode: server full", "the per-bot table shows why")
	assert.Contains(t, errs.String(), "bots: checks failed")
}
