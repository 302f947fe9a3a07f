package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/internal/demoserver"
)

// startServer runs a demo server on 127.0.0.1 with its admin handler on
// another ephemeral port, whose address it returns; it stops when the test
// ends (or at stop).
func startServer(t *testing.T, cfg demoserver.ServerConfig) (srv *demoserver.Server, admin string, stop func()) {
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
	return srv, ln.Addr().String(), stop
}

// TestSoakModeEndToEnd runs the command as scripts/soak.sh does (-soak,
// the server's admin address), small: 4 bots for 6 s against a real server
// on loopback sockets, sampling its Prometheus metrics over HTTP once a
// second. The run exits 0 with every check printed ok: bots connected and
// welcomed, none lost, snapshots decoded, the server's heap and goroutines
// flat, every bot counted by the server. The bounds that real time on a
// shared machine decides (stalls, tick overruns and skips) are lifted
// here: the soak run judges them, and the bot swarm's tests check stalls in
// simulated time.
func TestSoakModeEndToEnd(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, admin, stop := startServer(t, demoserver.ServerConfig{MaxPlayers: 8, Arena: arena.Config{ViewRadius: 300}})
	var out, errs strings.Builder
	code := run([]string{"-soak", "-addr", srv.Addr().String(), "-admin", admin, "-n", "4", "-duration", "6s", "-interval", "1s",
		"-max-stalls", "1", "-max-overruns", "1", "-max-skipped", "1"}, &out, &errs)
	t.Log("\n" + out.String())
	stop()
	require.Equal(t, 0, code, "stderr:\n%s", errs.String())
	assert.NotContains(t, out.String(), "FAIL")
	for _, check := range []string{"every bot connected: 4 of 4", "no connection ended: 0 connections lost", "server heap flat",
		"server goroutines flat", "server counts every bot: server has 4 clients, 4 bots connected"} {
		assert.Contains(t, out.String(), "ok   "+check)
	}
	assert.Regexp(t, `server: \d+ samples; first/last:`, out.String())
	assert.Equal(t, uint64(4), srv.Arena().Stats().Joined)
}

// TestRunExitsOneWhenACheckFails: the command's exit status follows its
// checks, soak or not. Against a real server with room for one player,
// one bot passes every check (exit 0; the stall bound, which real time on a
// shared machine decides, lifted); two bots do not all connect (the second
// is refused: the server is full), the summary prints FAIL and the command
// exits 1.
func TestRunExitsOneWhenACheckFails(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, _, stop := startServer(t, demoserver.ServerConfig{MaxPlayers: 1})
	defer stop()
	addr := srv.Addr().String()

	var out, errs strings.Builder
	code := run([]string{"-addr", addr, "-n", "1", "-duration", "2s", "-interval", "1s", "-max-stalls", "1"}, &out, &errs)
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
