package demoserver

import (
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/internal/clitest"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server/agones"
	"github.com/tickwire/tickwire/server/wire"
)

// pipeServer is the server end's address of a netsim.Pipe.
var pipeServer = netip.MustParseAddrPort("192.0.2.2:10002")

// sidecarCall is one request the fake sidecar received, and when (the
// bubble's time).
type sidecarCall struct {
	at                 time.Time
	method, path, body string
}

// fakeSidecar is an Agones SDK sidecar in memory: it records each call,
// fails the first failReady /ready calls and the first failHealth /health
// calls with 503, and streams the GameServer on /watch/gameserver: Ready at
// once, Allocated when allocate is closed.
type fakeSidecar struct {
	mu                    sync.Mutex
	calls                 []sidecarCall
	failReady, failHealth int
	allocate              chan struct{}
}

func (f *fakeSidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b []byte
	if r.Body != nil { // a client request: nil for a GET
		b, _ = io.ReadAll(r.Body)
	}
	f.mu.Lock()
	f.calls = append(f.calls, sidecarCall{time.Now(), r.Method, r.URL.Path, string(b)})
	fail := false
	switch r.URL.Path {
	case "/ready":
		fail, f.failReady = f.failReady > 0, f.failReady-1
	case "/health":
		fail, f.failHealth = f.failHealth > 0, f.failHealth-1
	}
	f.mu.Unlock()
	if fail {
		http.Error(w, "sidecar not up yet", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path != "/watch/gameserver" {
		_, _ = io.WriteString(w, "{}")
		return
	}
	line := func(state string) {
		_, _ = io.WriteString(w, `{"result":{"object_meta":{"name":"tw-1"},"status":{"state":"`+state+`"}}}`+"\n")
	}
	line("Ready")
	select {
	case <-f.allocate:
		line("Allocated")
	case <-r.Context().Done():
		return
	}
	<-r.Context().Done()
}

func (f *fakeSidecar) got(path string) []sidecarCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sidecarCall
	for _, c := range f.calls {
		if path == "" || c.path == path {
			out = append(out, c)
		}
	}
	return out
}

// inproc is an http.RoundTripper that serves each request with a handler in
// this process, streaming its response through a pipe (so that it works in
// a synctest bubble, where a real socket would stall the fake clock).
type inproc struct{ h http.Handler }

func (t inproc) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	w := &pipeResponse{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		t.h.ServeHTTP(w, req)
		w.WriteHeader(http.StatusOK)
		_ = pw.Close()
	}()
	select {
	case <-w.ready:
	case <-req.Context().Done():
		_ = pr.Close()
		return nil, req.Context().Err()
	}
	return &http.Response{StatusCode: w.code, Status: http.StatusText(w.code), Header: w.header, Body: pr, Request: req, ProtoMajor: 1, ProtoMinor: 1}, nil
}

type pipeResponse struct {
	header http.Header
	code   int
	pw     *io.PipeWriter
	once   sync.Once
	ready  chan struct{}
}

func (w *pipeResponse) Header() http.Header { return w.header }
func (w *pipeResponse) WriteHeader(code int) {
	w.once.Do(func() { w.code = code; close(w.ready) })
}
func (w *pipeResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(b)
}

// player is one netcode client over the pipe's client end, updated every
// 10 ms until it leaves or is disconnected; kicks has the reason of a kick
// message it read.
type player struct {
	cli   *netcode.Client
	kicks chan string
	done  chan error
	leave chan struct{}
}

func join(t *testing.T, pc *netsim.PipeConn) *player {
	t.Helper()
	cli, err := netcode.DialConn(t.Context(), pc, pipeServer, netcode.ClientConfig{ProtocolID: protocol.ProtocolID})
	require.NoError(t, err)
	p := &player{cli: cli, kicks: make(chan string, 1), done: make(chan error, 1), leave: make(chan struct{})}
	go func() {
		defer cli.Close()
		for {
			err := cli.Update(time.Now())
			for m, ok := cli.ReadMessage(0); ok; m, ok = cli.ReadMessage(0) {
				if reason, kerr := wire.DecodeKick(m); kerr == nil {
					p.kicks <- reason
				}
			}
			if err != nil {
				p.done <- err
				return
			}
			select {
			case <-p.leave:
				p.done <- nil
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return p
}

// newPipeServer is a demo server on a netsim.Pipe with no NPCs, its logs in
// logs; mod adjusts the config.
func newPipeServer(t *testing.T, logs io.Writer, mod func(*ServerConfig)) (*Server, *netsim.PipeConn) {
	t.Helper()
	cpc, spc := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	g := game.DefaultConfig()
	g.NPCs = 0
	cfg := ServerConfig{PacketConn: spc, MaxPlayers: 4, Arena: arena.Config{Game: g}, DrainTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := Listen(cfg)
	require.NoError(t, err)
	return srv, cpc
}

// TestDrainKicksAfterTimeout: after Shutdown no new players are taken and
// the server is not ready, the player in play goes on until DrainTimeout,
// is then kicked with "server shutting down", and Run returns nil.
func TestDrainKicksAfterTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs clitest.SyncBuffer
		srv, cpc := newPipeServer(t, &logs, nil)
		done := make(chan error, 1)
		go func() { done <- srv.Run(t.Context()) }()
		p := join(t, cpc)
		time.Sleep(time.Second)
		require.Equal(t, 1, srv.Clients())
		require.NoError(t, srv.Probes().Ready())

		start := time.Now()
		srv.Shutdown()
		time.Sleep(9 * time.Second)
		assert.Equal(t, 1, srv.Clients(), "the player plays on during the drain")
		assert.ErrorContains(t, srv.Probes().Ready(), "draining")
		assert.NoError(t, srv.Probes().Healthy(), "a draining server is alive")
		select {
		case err := <-done:
			t.Fatalf("Run returned during the drain: %v", err)
		default:
		}

		require.NoError(t, <-done)
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, 10*time.Second+500*time.Millisecond, "the drain timeout, then the kick's grace")
		assert.Less(t, took, 11*time.Second)
		select {
		case reason := <-p.kicks:
			assert.Equal(t, ShutdownReason, reason)
		default:
			t.Fatal("the player read no kick message")
		}
		assert.ErrorIs(t, <-p.done, netcode.ErrDisconnected)
		assert.Equal(t, uint64(1), srv.Stats().Kicks)
		assert.Contains(t, logs.String(), "drain timed out: kicking the players left")
	})
}

// TestDrainEndsWhenPlayersLeave: the last player leaving ends the drain
// before its timeout, with no kick.
func TestDrainEndsWhenPlayersLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs clitest.SyncBuffer
		srv, cpc := newPipeServer(t, &logs, func(c *ServerConfig) { c.DrainTimeout = time.Minute })
		done := make(chan error, 1)
		go func() { done <- srv.Run(t.Context()) }()
		p := join(t, cpc)
		time.Sleep(time.Second)
		start := time.Now()
		srv.Shutdown()
		srv.Shutdown() // twice is harmless
		time.Sleep(3 * time.Second)
		close(p.leave)
		require.NoError(t, <-p.done)
		require.NoError(t, <-done)
		assert.Less(t, time.Since(start), 4*time.Second, "it stops once the player left, not at the timeout")
		assert.Zero(t, srv.Stats().Kicks)
		assert.Contains(t, logs.String(), "drained: every player left")
	})
}

// TestAgones runs the server against a fake sidecar: Ready once it runs
// (the sidecar's first failures retried and logged), a health ping every
// interval, the players label, the allocation noticed, and Shutdown only
// after the drain ended; the game goes on through every sidecar error.
func TestAgones(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		side := &fakeSidecar{failReady: 2, failHealth: 1, allocate: make(chan struct{})}
		var logs clitest.SyncBuffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		sdk, err := agones.New(agones.Config{URL: "http://sidecar", HTTPClient: &http.Client{Transport: inproc{side}}, Logger: log})
		require.NoError(t, err)
		srv, cpc := newPipeServer(t, &logs, func(c *ServerConfig) { c.Agones, c.Logger = sdk, log })
		done := make(chan error, 1)
		begin := time.Now()
		go func() { done <- srv.Run(t.Context()) }()
		p := join(t, cpc)
		time.Sleep(9 * time.Second)

		ready := side.got("/ready")
		require.Len(t, ready, 3, "two failures, then success")
		assert.Equal(t, begin, ready[0].at, "Ready as soon as it runs")
		assert.Equal(t, `{}`, ready[2].body)
		health := side.got("/health")
		assert.Len(t, health, 5, "a ping every 2 s over 9 s (at 0, 2, 4, 6, 8)")
		for i := 1; i < len(health); i++ {
			assert.Equal(t, DefaultHealthInterval, health[i].at.Sub(health[i-1].at))
		}
		labels := side.got("/metadata/label")
		require.NotEmpty(t, labels)
		assert.Equal(t, `{"key":"players","value":"1"}`, labels[len(labels)-1].body)
		assert.Contains(t, logs.String(), `msg="agones: sidecar call failed" call="POST /ready" attempt=1`)
		assert.Contains(t, logs.String(), `msg="agones: sidecar call failed" call="POST /health"`)
		assert.Contains(t, logs.String(), "agones: ready")
		assert.False(t, srv.Allocated())

		close(side.allocate)
		time.Sleep(100 * time.Millisecond)
		assert.True(t, srv.Allocated())
		assert.Contains(t, logs.String(), `msg="agones: allocated" name=tw-1 players=1`)

		srv.Shutdown()
		time.Sleep(5 * time.Second)
		assert.Empty(t, side.got("/shutdown"), "no Shutdown while the drain goes on")
		ann := side.got("/metadata/annotation")
		require.Len(t, ann, 1, "the drain is announced once")
		assert.Equal(t, `{"key":"draining","value":"true"}`, ann[0].body)
		assert.Equal(t, 1, srv.Clients())
		require.NoError(t, <-done)
		stopped := time.Now()
		shut := side.got("/shutdown")
		require.Len(t, shut, 1)
		assert.Equal(t, stopped, shut[0].at, "Shutdown once the server stopped")
		assert.Equal(t, ShutdownReason, <-p.kicks)
		<-p.done
		assert.Contains(t, logs.String(), "agones: shutdown requested")
		assert.True(t, strings.Index(logs.String(), "drain timed out") < strings.Index(logs.String(), "agones: shutdown requested"))
		for _, c := range side.got("") {
			assert.False(t, c.at.After(stopped), "%s %s after Shutdown", c.method, c.path)
		}
	})
}

// TestListenRejectsBadDrainConfig: the new fields are checked.
func TestListenRejectsBadDrainConfig(t *testing.T) {
	_, err := Listen(ServerConfig{DrainTimeout: -time.Second})
	assert.ErrorContains(t, err, "demoserver: invalid config: ServerConfig.DrainTimeout = -1s, want ≥ 0")
	_, err = Listen(ServerConfig{HealthInterval: -time.Second})
	assert.ErrorContains(t, err, "ServerConfig.HealthInterval = -1s")
}
