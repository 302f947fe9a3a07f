package agones

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call is one request the fake sidecar received.
type call struct{ method, path, contentType, body string }

// sidecar is a fake Agones SDK sidecar: it records every request, fails
// the first failures[path] requests of a path with 503, and serves the
// watch stream from watch (one stream per element, each a list of lines).
type sidecar struct {
	mu       sync.Mutex
	calls    []call
	failures map[string]int
	watch    [][]string
	gs       string
}

func (s *sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.calls = append(s.calls, call{r.Method, r.URL.Path, r.Header.Get("Content-Type"), string(b)})
	fail := s.failures[r.URL.Path] > 0
	if fail {
		s.failures[r.URL.Path]--
	}
	var stream []string
	if r.URL.Path == "/watch/gameserver" && len(s.watch) > 0 {
		stream, s.watch = s.watch[0], s.watch[1:]
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, `{"error":"not ready yet"}`, http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.Method == http.MethodPost && (r.URL.Path == "/ready" || r.URL.Path == "/health" || r.URL.Path == "/shutdown" || r.URL.Path == "/allocate"),
		r.Method == http.MethodPut && (r.URL.Path == "/metadata/label" || r.URL.Path == "/metadata/annotation"):
		_, _ = io.WriteString(w, "{}")
	case r.Method == http.MethodGet && r.URL.Path == "/gameserver":
		_, _ = io.WriteString(w, s.gs)
	case r.Method == http.MethodGet && r.URL.Path == "/watch/gameserver":
		for _, l := range stream {
			_, _ = io.WriteString(w, l+"\n")
			w.(http.Flusher).Flush()
		}
	default:
		http.NotFound(w, r)
	}
}

func (s *sidecar) got() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

// sleeps is a Clock whose Sleep returns at once, recording the duration,
// and cancels a context after limit sleeps.
type sleeps struct {
	mu     sync.Mutex
	d      []time.Duration
	limit  int
	cancel context.CancelFunc
}

func (c *sleeps) Now() time.Time { return time.Unix(0, 0) }
func (c *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.d = append(c.d, d)
	if c.limit > 0 && len(c.d) >= c.limit && c.cancel != nil {
		c.cancel()
	}
	c.mu.Unlock()
	return ctx.Err()
}

func (c *sleeps) got() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.d...)
}

func newClient(t *testing.T, sc *sidecar, clock *sleeps, logs io.Writer) *Client {
	t.Helper()
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	if logs == nil {
		logs = io.Discard
	}
	c, err := New(Config{URL: srv.URL + "/", HTTPClient: srv.Client(), Clock: clock, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	return c
}

// TestCallsPathsAndBodies: each call is the documented method, path and
// JSON body.
func TestCallsPathsAndBodies(t *testing.T) {
	sc := &sidecar{}
	c := newClient(t, sc, &sleeps{}, nil)
	ctx := t.Context()
	require.NoError(t, c.Ready(ctx))
	require.NoError(t, c.Health(ctx))
	require.NoError(t, c.Allocate(ctx))
	require.NoError(t, c.SetLabel(ctx, "players", "12"))
	require.NoError(t, c.SetAnnotation(ctx, "rooms", `3 "quoted"`))
	require.NoError(t, c.Shutdown(ctx))
	const js = "application/json"
	assert.Equal(t, []call{
		{"POST", "/ready", js, "{}"},
		{"POST", "/health", js, "{}"},
		{"POST", "/allocate", js, "{}"},
		{"PUT", "/metadata/label", js, `{"key":"players","value":"12"}`},
		{"PUT", "/metadata/annotation", js, `{"key":"rooms","value":"3 \"quoted\""}`},
		{"POST", "/shutdown", js, "{}"},
	}, sc.got())
}

// TestRetries: a sidecar that is not up yet is retried with a doubling
// backoff, each failure logged; after Attempts the call returns ErrSidecar.
func TestRetries(t *testing.T) {
	sc := &sidecar{failures: map[string]int{"/ready": 3, "/shutdown": 99}}
	clock := &sleeps{}
	var logs bytes.Buffer
	c := newClient(t, sc, clock, &logs)
	require.NoError(t, c.Ready(t.Context()))
	assert.Len(t, sc.got(), 4)
	assert.Equal(t, []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}, clock.got())
	assert.Equal(t, 3, strings.Count(logs.String(), `msg="agones: sidecar call failed" call="POST /ready"`), logs.String())
	assert.Contains(t, logs.String(), "503 Service Unavailable")

	err := c.Shutdown(t.Context())
	require.ErrorIs(t, err, ErrSidecar)
	assert.Contains(t, err.Error(), "agones: sidecar call failed: POST /shutdown after 5 attempts: status 503")
	assert.Len(t, sc.got(), 4+5)
	assert.Equal(t, []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond}, clock.got()[3:], "each call starts its backoff over")
}

// TestRetryStopsWithContext: a cancelled context ends the retries.
func TestRetryStopsWithContext(t *testing.T) {
	sc := &sidecar{failures: map[string]int{"/ready": 99}}
	ctx, cancel := context.WithCancel(t.Context())
	clock := &sleeps{limit: 1, cancel: cancel}
	c := newClient(t, sc, clock, nil)
	err := c.Ready(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrSidecar)
	assert.Len(t, sc.got(), 1)
}

// TestKeepHealthy: a ping every interval; none while the server is not
// healthy; failed pings are logged and do not stop the pings.
func TestKeepHealthy(t *testing.T) {
	sc := &sidecar{failures: map[string]int{"/health": 1}}
	ctx, cancel := context.WithCancel(t.Context())
	clock := &sleeps{limit: 6, cancel: cancel}
	var logs bytes.Buffer
	c := newClient(t, sc, clock, &logs)
	n := 0
	healthy := func() error {
		n++
		if n == 3 || n == 4 {
			return fmt.Errorf("last tick 3s ago")
		}
		return nil
	}
	require.NoError(t, c.KeepHealthy(ctx, 2*time.Second, healthy))
	assert.Equal(t, 6, n)
	assert.Len(t, sc.got(), 4, "pings 1, 2, 5, 6 (the first failed, not retried)")
	for _, cl := range sc.got() {
		assert.Equal(t, call{"POST", "/health", "application/json", "{}"}, cl)
	}
	for _, d := range clock.got() {
		assert.Equal(t, 2*time.Second, d)
	}
	assert.Contains(t, logs.String(), `call="POST /health"`)
	assert.Equal(t, 2, strings.Count(logs.String(), "no health ping: the server is not healthy"))
	assert.ErrorContains(t, c.KeepHealthy(ctx, 0, nil), "KeepHealthy interval 0s, want > 0")
}

const gsReady = `{"object_meta":{"name":"tw-1","namespace":"default","labels":{"agones.dev/sdk-players":"0"}},"status":{"state":"Ready","address":"10.1.2.3","ports":[{"name":"default","port":7654}]}}`

func TestGetGameServer(t *testing.T) {
	sc := &sidecar{gs: gsReady}
	c := newClient(t, sc, &sleeps{}, nil)
	gs, err := c.GetGameServer(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "tw-1", gs.ObjectMeta.Name)
	assert.Equal(t, "0", gs.ObjectMeta.Labels["agones.dev/sdk-players"])
	assert.Equal(t, StateReady, gs.Status.State)
	assert.Equal(t, "10.1.2.3", gs.Status.Address)
	require.Len(t, gs.Status.Ports, 1)
	assert.Equal(t, 7654, gs.Status.Ports[0].Port)
	assert.Equal(t, []call{{"GET", "/gameserver", "", ""}}, sc.got())

	sc.gs = "not json"
	_, err = c.GetGameServer(t.Context())
	assert.ErrorIs(t, err, ErrSidecar)
}

// TestWatch: updates arrive in order; a bad line is skipped; a broken
// stream is reopened; an error line ends a stream.
func TestWatch(t *testing.T) {
	allocated := strings.Replace(gsReady, `"state":"Ready"`, `"state":"Allocated"`, 1)
	sc := &sidecar{watch: [][]string{
		{`{"result":` + gsReady + `}`, `garbage`, ``, `{"result":` + allocated + `}`},
		{`{"error":{"code":14,"message":"unavailable"}}`},
		{`{"result":` + allocated + `}`},
	}}
	ctx, cancel := context.WithCancel(t.Context())
	clock := &sleeps{}
	var logs bytes.Buffer
	c := newClient(t, sc, clock, &logs)
	var states []string
	clock.limit, clock.cancel = 3, cancel // the third reopen waits: stop there
	require.NoError(t, c.Watch(ctx, func(gs GameServer) { states = append(states, gs.Status.State) }))
	assert.Equal(t, []string{"Ready", "Allocated", "Allocated"}, states)
	n := 0
	for _, cl := range sc.got() {
		assert.Equal(t, call{"GET", "/watch/gameserver", "", ""}, cl)
		n++
	}
	assert.Equal(t, 3, n)
	assert.Contains(t, logs.String(), "a line that is no GameServer update, skipped")
	assert.Contains(t, logs.String(), `the sidecar reported {\"code\":14`)
	assert.Equal(t, []time.Duration{DefaultBackoff, 2 * DefaultBackoff, DefaultBackoff}, clock.got(),
		"the backoff doubles while streams fail and starts over after one that worked")
}

func TestURLAndNew(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	assert.Equal(t, "http://localhost:9358", URL(getenv))
	env["AGONES_SDK_HTTP_PORT"] = "59358"
	assert.Equal(t, "http://localhost:59358", URL(getenv))
	_, err := New(Config{URL: "localhost:9358"})
	assert.ErrorContains(t, err, `agones: URL "localhost:9358": want http://host:port`)
	_, err = New(Config{Attempts: -1})
	assert.ErrorContains(t, err, "Attempts = -1")
	c, err := New(Config{})
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:9358", c.url)
}

// TestGameServerBothSpellings: the metadata decodes from object_meta (the
// documented gateway output) and from objectMeta.
func TestGameServerBothSpellings(t *testing.T) {
	for _, js := range []string{
		`{"object_meta":{"name":"tw-1","labels":{"a":"b"}},"status":{"state":"Allocated"}}`,
		`{"objectMeta":{"name":"tw-1","labels":{"a":"b"}},"status":{"state":"Allocated"}}`,
	} {
		var gs GameServer
		require.NoError(t, json.Unmarshal([]byte(js), &gs), js)
		assert.Equal(t, "tw-1", gs.ObjectMeta.Name, js)
		assert.Equal(t, "b", gs.ObjectMeta.Labels["a"], js)
		assert.Equal(t, StateAllocated, gs.Status.State, js)
	}
}

// TestSystemClock: Sleep waits d, or returns ctx's error when it ends
// first (in a synctest bubble: simulated time).
func TestSystemClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c systemClock
		start := c.Now()
		require.NoError(t, c.Sleep(t.Context(), 3*time.Second))
		assert.Equal(t, 3*time.Second, time.Since(start))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		assert.ErrorIs(t, c.Sleep(ctx, time.Hour), context.DeadlineExceeded)
		assert.Equal(t, 4*time.Second, time.Since(start))
	})
}
