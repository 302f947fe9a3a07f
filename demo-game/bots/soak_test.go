package main

import (
	"context"
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
