package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/server"
)

// probe asks h for path and returns the status and body.
func probe(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// TestProbes walks a server through its life: ticking (healthy, ready),
// full (healthy, not ready), stuck (neither), ticking again, draining
// (healthy, not ready). The probes' clock is the test's.
func TestProbes(t *testing.T) {
	srv, tr, reg := newServer(t)
	now := time.Unix(5000, 0)
	p, err := NewProbes(srv, ProbeConfig{Capacity: 1, Now: func() time.Time { return now }})
	require.NoError(t, err)
	h := NewHandler(reg, p)
	step(t, srv, 0, 1)

	code, body := probe(h, "/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)
	code, _ = probe(h, "/readyz")
	assert.Equal(t, http.StatusOK, code)

	tr.events = append(tr.events, server.Event{Kind: server.ClientConnected, Client: 1})
	step(t, srv, 2, 2)
	code, body = probe(h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "full: 1 players, capacity 1\n", body)

	// The loop stops: healthy until MaxTickAge has passed since the count
	// last moved, then neither healthy nor ready.
	now = now.Add(DefaultMaxTickAge)
	code, _ = probe(h, "/healthz")
	assert.Equal(t, http.StatusOK, code, "exactly MaxTickAge: still healthy")
	now = now.Add(time.Millisecond)
	code, body = probe(h, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "no tick for 2.001s (tick 3), want one within 2s\n", body)
	code, body = probe(h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "no tick for 2.001s")

	step(t, srv, 3, 3) // ticking again
	code, _ = probe(h, "/healthz")
	assert.Equal(t, http.StatusOK, code)

	tr.events = append(tr.events, server.Event{Kind: server.ClientDisconnected, Client: 1})
	step(t, srv, 4, 4)
	code, _ = probe(h, "/readyz")
	assert.Equal(t, http.StatusOK, code, "room again")
	srv.Drain()
	code, body = probe(h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "draining: no new players\n", body)
	code, _ = probe(h, "/healthz")
	assert.Equal(t, http.StatusOK, code, "a draining server is alive")

	_, index := probe(h, "/")
	assert.Contains(t, index, "/healthz\n/readyz\n")
	code, _ = probe(Handler(reg), "/healthz")
	assert.Equal(t, http.StatusNotFound, code, "Handler has no probes")
}

func TestNewProbesValidates(t *testing.T) {
	srv, _, _ := newServer(t)
	_, err := NewProbes(nil, ProbeConfig{})
	assert.ErrorContains(t, err, "admin: NewProbes needs a server")
	_, err = NewProbes(srv, ProbeConfig{MaxTickAge: -time.Second})
	assert.ErrorContains(t, err, "admin: ProbeConfig.MaxTickAge = -1s, want ≥ 0")
	_, err = NewProbes(srv, ProbeConfig{Capacity: -1})
	assert.ErrorContains(t, err, "admin: ProbeConfig.Capacity = -1")
}
