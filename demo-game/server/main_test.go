package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/demo-game/internal/demoserver"
	"github.com/tickwire/tickwire/internal/clitest"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server/agones"
	"github.com/tickwire/tickwire/server/client"
)

func TestParseFlagsDefaults(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	c := o.cfg
	assert.Equal(t, "127.0.0.1:7777", c.Addr)
	assert.Equal(t, 60, c.TickRate)
	assert.Equal(t, 30, c.SnapshotRate)
	assert.Equal(t, 64, c.MaxPlayers)
	assert.Equal(t, "", c.AdminAddr)
	assert.Equal(t, 6, c.Arena.Game.NPCs)
	assert.Equal(t, 0, c.Arena.ViewRadius)
	assert.Equal(t, netsim.Config{}, c.Link, "a perfect link: the socket is not wrapped")
	assert.Equal(t, 30*time.Second, c.DrainTimeout)
	assert.False(t, o.agones)
	assert.Equal(t, "", o.agonesURL)
	assert.Equal(t, 2*time.Second, c.HealthInterval)

	o, err = parseFlags([]string{"-drain-timeout", "0s", "-agones", "-agones-url", "http://localhost:59358", "-agones-health", "500ms"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), o.cfg.DrainTimeout)
	assert.True(t, o.agones)
	assert.Equal(t, "http://localhost:59358", o.agonesURL)
	assert.Equal(t, 500*time.Millisecond, o.cfg.HealthInterval)

	o, err = parseFlags([]string{"-token-key-file", "key.hex", "-public-addr", "203.0.113.7:7777"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "key.hex", o.tokenKeyFile)
	assert.Equal(t, "203.0.113.7:7777", o.cfg.PublicAddr.String())
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-tick-rate", "30", "-snapshot-rate", "10", "-max-players", "200",
		"-admin", "127.0.0.1:9100", "-npcs", "12", "-seed", "9", "-view-radius", "300",
		"-loss", "5%", "-latency", "50ms", "-jitter", "10ms", "-dup", "0.01", "-log-level", "debug"}, io.Discard)
	require.NoError(t, err)
	c := o.cfg
	assert.Equal(t, 30, c.TickRate)
	assert.Equal(t, 10, c.SnapshotRate)
	assert.Equal(t, 200, c.MaxPlayers)
	assert.Equal(t, "127.0.0.1:9100", c.AdminAddr)
	assert.Equal(t, 12, c.Arena.Game.NPCs)
	assert.Equal(t, uint64(9), c.Arena.Game.Seed)
	assert.Equal(t, 300, c.Arena.ViewRadius)
	assert.Equal(t, netsim.Config{Loss: 0.05, Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Duplicate: 0.01}, c.Link)
}

func TestParseFlagsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-tick-rate", "0"}, `-tick-rate "0": want a whole number of ticks per second, 1..1000`},
		{[]string{"-tick-rate", "fast"}, `-tick-rate "fast"`},
		{[]string{"-snapshot-rate", "90"}, `-snapshot-rate "90": must be at most -tick-rate (60)`},
		{[]string{"-max-players", "0"}, `-max-players "0": want 1..4096 players`},
		{[]string{"-max-players", "5000"}, `-max-players "5000"`},
		{[]string{"-npcs", "300"}, `-npcs "300": want 0..256 NPCs`},
		{[]string{"-view-radius", "-1"}, `-view-radius "-1": want 0 (whole arena) or 1..16384 world units`},
		{[]string{"-loss", "150%"}, `-loss "150%": must be between 0% and 100%`},
		{[]string{"-dup", "2"}, `-dup "2"`},
		{[]string{"-latency", "soon"}, `-latency "soon"`},
		{[]string{"-latency", "1m"}, `-latency "1m": must be at most 10s`},
		{[]string{"-addr", "nowhere"}, `-addr "nowhere": want host:port with a port from 0 to 65535`},
		{[]string{"-admin", "127.0.0.1:99999"}, `-admin "127.0.0.1:99999"`},
		{[]string{"-seed", "-3"}, `-seed "-3": want a whole number`},
		{[]string{"-log-level", "loud"}, `-log-level "loud": want debug, info, warn or error`},
		{[]string{"-frobnicate"}, "flag provided but not defined: -frobnicate"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			require.Error(t, err)
			assert.IsType(t, &flagError{}, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestRunUsageErrors runs the command on each bad command line: one line on
// stderr naming the flag, the value and what is allowed, the prefix once,
// exit status 2.
func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-max-players", "0"}, `server: -max-players "0": want 1..4096 players`},
		{[]string{"-tick-rate", "-5"}, `server: -tick-rate "-5": want a whole number of ticks per second`},
		{[]string{"-loss", "5"}, `server: -loss "5"`},
		{[]string{"-latency", "-5ms"}, `server: -latency "-5ms"`},
		{[]string{"-addr", ":99999"}, `server: -addr ":99999": want host:port`},
		{[]string{"-nope"}, "server: flag provided but not defined: -nope"},
		{[]string{"stray"}, `server: unexpected argument "stray"`},
		{[]string{"-public-addr", "203.0.113.7:7777"}, `server: -public-addr "203.0.113.7:7777": only with -token-key-file`},
		{[]string{"-token-key-file", "k", "-public-addr", "game:7777"}, `server: -public-addr "game:7777": want ip:port`},
		{[]string{"-token-key-file", "/nonexistent/key.hex"}, `server: -token-key-file "/nonexistent/key.hex": open /nonexistent/key.hex: no such file or directory`},
		{[]string{"-drain-timeout", "2h"}, `server: -drain-timeout "2h": must be between 0 and 1h`},
		{[]string{"-drain-timeout", "-1s"}, `server: -drain-timeout "-1s"`},
		{[]string{"-agones-url", "localhost:9358"}, `server: -agones-url "localhost:9358": want http://host:port`},
		{[]string{"-agones-health", "10ms"}, `server: -agones-health "10ms": must be at least 100ms`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), nil, tt.args, &stdout, &stderr, nil)
			clitest.UsageError(t, "server:", tt.want, code, stdout.String(), stderr.String())
		})
	}
}

func TestRunHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(t.Context(), nil, []string{"-h"}, &stdout, &stderr, nil))
	help := stderr.String()
	assert.Contains(t, help, "Usage: server ")
	for _, line := range []string{"-max-players count", "-tick-rate rate", "-snapshot-rate rate", "-npcs count", "-loss percentage", "-version"} {
		assert.Contains(t, help, line)
	}
	assert.NotContains(t, help, " string\n")

	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, run(t.Context(), nil, []string{"-version"}, &stdout, &stderr, nil))
	assert.Regexp(t, `^server \S+ .*go1\.\d+`, stdout.String())
	assert.Empty(t, stderr.String())
}

// TestRunServesAndShutsDownGracefully runs the command on an ephemeral
// port, connects one client runtime (as the demo client has it) that plays,
// then stops the server as SIGINT would: the command exits 0 and the client
// learns at once that the server closed (it does not wait for a timeout).
func TestRunServesAndShutsDownGracefully(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan *demoserver.Server, 1)
	var logs clitest.SyncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, nil, []string{"-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-npcs", "3"}, io.Discard, &logs,
			func(s *demoserver.Server) { ready <- s })
	}()
	var srv *demoserver.Server
	select {
	case srv = <-ready:
	case code := <-exit:
		t.Fatalf("exited %d: %s", code, logs.String())
	}

	static := game.NewStatic()
	cfg := clientui.ClientConfig(static)
	cfg.Addr = srv.Addr().String()
	c, err := client.New(cfg)
	require.NoError(t, err)
	o := clientui.NewOnline(c, static, nil, "test")
	defer o.Close()
	toggles := clientui.DefaultToggles()
	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	var v clientui.View
	// Real sockets: poll until 30 snapshots arrived, bounded.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && c.Stats().Snapshots < 30; {
		<-frame.C
		now := time.Now()
		require.NoError(t, o.Update(now, game.Input{Buttons: game.ButtonRight}, toggles))
		v = o.View(now, toggles)
	}
	require.GreaterOrEqual(t, c.Stats().Snapshots, uint64(30), "snapshots arrive")
	assert.NotZero(t, v.Own, "welcomed")
	assert.Len(t, v.Entities, 1+3, "the own player and three NPCs (and no projectiles yet)")

	cancel() // what SIGINT does
	select {
	case code := <-exit:
		require.Equal(t, 0, code, logs.String())
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop")
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && c.Status().State == client.Connected; {
		<-frame.C
		c.Update(time.Now(), game.Input{})
	}
	require.Equal(t, client.Disconnected, c.Status().State)
	require.ErrorIs(t, c.Status().Err, netcode.ErrDisconnected, "the server told the client (not a timeout)")
	assert.Contains(t, logs.String(), "server shut down")
	assert.Contains(t, logs.String(), "clients_told=1")
}

// TestRunDrainsOnSIGTERM runs the command under a fake Agones sidecar with
// one client playing, then sends SIGTERM: the server stops taking players
// (/readyz 503), kicks the client with "server shutting down" once
// -drain-timeout (0s here) has passed, tells the sidecar Shutdown after
// that, and exits 0.
func TestRunDrainsOnSIGTERM(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var mu sync.Mutex
	var calls []string
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/watch/gameserver" {
			_, _ = io.WriteString(w, `{"result":{"object_meta":{"name":"tw-1"},"status":{"state":"Ready"}}}`+"\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	defer sidecar.Close()
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), calls...)
	}

	term := make(chan os.Signal, 1)
	ready := make(chan *demoserver.Server, 1)
	var logs clitest.SyncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(t.Context(), term, []string{"-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-npcs", "0", "-drain-timeout", "0s",
			"-agones", "-agones-url", sidecar.URL, "-agones-health", "100ms"}, io.Discard, &logs, func(s *demoserver.Server) { ready <- s })
	}()
	var srv *demoserver.Server
	select {
	case srv = <-ready:
	case code := <-exit:
		t.Fatalf("exited %d: %s", code, logs.String())
	}
	static := game.NewStatic()
	cfg := clientui.ClientConfig(static)
	cfg.Addr = srv.Addr().String()
	c, err := client.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	frame := time.NewTicker(time.Second / 60)
	defer frame.Stop()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && (c.Stats().Snapshots < 10 || !slices.Contains(got(), "POST /health")); {
		<-frame.C
		c.Update(time.Now(), game.Input{})
	}
	require.GreaterOrEqual(t, c.Stats().Snapshots, uint64(10))
	require.Contains(t, got(), "POST /ready")
	require.Contains(t, got(), "POST /health")
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + srv.AdminAddr() + "/readyz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	term <- syscall.SIGTERM
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && c.Status().State == client.Connected; {
		<-frame.C
		c.Update(time.Now(), game.Input{})
	}
	var kicked *client.KickedError
	require.ErrorAs(t, c.Status().Err, &kicked)
	assert.Equal(t, demoserver.ShutdownReason, kicked.Reason)
	select {
	case code := <-exit:
		require.Equal(t, 0, code, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not exit")
	}
	final := got()
	require.NotEmpty(t, final)
	assert.Equal(t, "POST /shutdown", final[len(final)-1], "Shutdown last, after the drain")
	assert.Equal(t, len(final)-1, slices.Index(final, "POST /shutdown"), "once")
	l := logs.String()
	assert.Contains(t, l, "draining signal=terminated")
	assert.Contains(t, l, "drain timed out: kicking the players left")
	assert.Less(t, strings.Index(l, "drain timed out"), strings.Index(l, "agones: shutdown requested"))
}

// TestAgonesAddr: the public address tokens name under Agones is the
// GameServer's address and the port named "default".
func TestAgonesAddr(t *testing.T) {
	answers := []string{
		`{"status":{"state":"Scheduled","address":"10.1.2.3","ports":[{"name":"admin","port":7001},{"name":"default","port":7654}]}}`,
		`{"status":{"state":"Scheduled","address":"10.1.2.3","ports":[{"name":"game","port":7655}]}}`,
		`{"status":{"state":"Creating","address":"","ports":[{"name":"default","port":7654}]}}`,
		`{"status":{"state":"Creating"}}`,
	}
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/gameserver", r.URL.Path)
		_, _ = io.WriteString(w, answers[0])
		answers = answers[1:]
	}))
	defer sidecar.Close()
	sdk, err := agones.New(agones.Config{URL: sidecar.URL})
	require.NoError(t, err)
	a, err := agonesAddr(t.Context(), sdk)
	require.NoError(t, err)
	assert.Equal(t, "10.1.2.3:7654", a.String())
	a, err = agonesAddr(t.Context(), sdk)
	require.NoError(t, err)
	assert.Equal(t, "10.1.2.3:7655", a.String(), "the first port when none is named default")
	_, err = agonesAddr(t.Context(), sdk)
	assert.ErrorContains(t, err, `the GameServer's address "" port 7654 is no ip:port (state "Creating")`)
	_, err = agonesAddr(t.Context(), sdk)
	assert.ErrorContains(t, err, `the GameServer lists no port (state "Creating")`)
}
