package admin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/wire"
)

// fakeTransport is the least a server needs: connects queued by the test,
// input messages delivered to client 1, link stats and counters set by the
// test; nothing is acked, so every snapshot is full.
type fakeTransport struct {
	events []server.Event
	inputs [][]byte
	link   server.LinkStats
	ctr    server.TransportCounters
	nextID uint16
}

func (f *fakeTransport) Poll(_ time.Time, fn func(server.Event)) {
	for _, ev := range f.events {
		fn(ev)
	}
	f.events = f.events[:0]
}

func (f *fakeTransport) ReadMessage(_ server.ClientID, channel int) ([]byte, bool) {
	if channel != server.DefaultInputChannel || len(f.inputs) == 0 {
		return nil, false
	}
	m := f.inputs[0]
	f.inputs = f.inputs[1:]
	return m, true
}

func (f *fakeTransport) Send(_ server.ClientID, _ int, msg []byte) (uint16, error) {
	f.nextID++
	f.ctr.PacketsOut++
	f.ctr.BytesOut += uint64(len(msg))
	return f.nextID, nil
}

func (f *fakeTransport) Flush(time.Time)                                  {}
func (f *fakeTransport) SetAckHandler(func(server.ClientID, int, uint16)) {}
func (f *fakeTransport) Stats(server.ClientID) (server.LinkStats, bool)   { return f.link, true }
func (f *fakeTransport) Counters() server.TransportCounters               { return f.ctr }
func (f *fakeTransport) Disconnect(server.ClientID)                       {}
func (f *fakeTransport) Close() error                                     { return nil }

// oneEntity is a Game whose world is one entity.
type oneEntity struct{}

func (oneEntity) AddPlayer(server.PlayerID) error            { return nil }
func (oneEntity) RemovePlayer(server.PlayerID)               {}
func (oneEntity) ApplyInput(server.PlayerID, uint32, []byte) {}
func (oneEntity) Step(uint32)                                {}
func (oneEntity) Snapshot(_ uint32, dst *state.Snapshot) {
	dst.Add(1)[0] = 1
}

var codec = state.CodecConfig{Schema: state.Schema{Fields: []state.Field{{Name: "x", Bits: 8}}}}

// newServer returns a stepped server on a fake transport, its metrics
// registered on a new registry.
func newServer(t *testing.T) (*server.Server, *fakeTransport, *prometheus.Registry) {
	t.Helper()
	tr := &fakeTransport{ctr: server.TransportCounters{
		Drops:   map[string]uint64{"malformed": 0, "replayed": 0},
		Refused: map[string]uint64{"server_full": 0, "token_invalid": 0},
	}}
	srv, err := server.New(server.Config{Codec: codec}, oneEntity{}, tr)
	require.NoError(t, err)
	reg := NewRegistry()
	require.NoError(t, Register(reg, srv))
	return srv, tr, reg
}

// step runs ticks from..to (inclusive) at 60 Hz times.
func step(t *testing.T, srv *server.Server, from, to int) {
	t.Helper()
	start := time.Unix(1000, 0)
	for i := from; i <= to; i++ {
		require.NoError(t, srv.Step(start.Add(time.Duration(i)*time.Second/60)))
	}
}

func scrape(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, http.StatusOK, rec.Code, path)
	return rec.Body.String()
}

// TestMetricsBeforeAnyTick: a new server exports every drop reason, input
// verdict and source, snapshot kind and direction at 0, and the transport's
// drop reasons it sampled at New.
func TestMetricsBeforeAnyTick(t *testing.T) {
	_, _, reg := newServer(t)
	body := scrape(t, Handler(reg), "/metrics")
	var want []string
	for r := range server.NumDropReasons {
		want = append(want, `tickwire_server_drops_total{reason="`+r.String()+`"} 0`)
	}
	for v := range server.NumInputVerdicts {
		want = append(want, `tickwire_server_inputs_total{verdict="`+v.String()+`"} 0`)
	}
	for src := range server.NumInputSources {
		want = append(want, `tickwire_server_input_ticks_total{source="`+src.String()+`"} 0`)
	}
	want = append(want,
		`tickwire_server_drops_total{reason="transport_malformed"} 0`,
		`tickwire_server_drops_total{reason="transport_replayed"} 0`,
		`tickwire_server_refused_total{reason="game"} 0`,
		`tickwire_server_refused_total{reason="server_full"} 0`,
		`tickwire_server_refused_total{reason="token_invalid"} 0`,
		`tickwire_server_snapshots_total{kind="full"} 0`, `tickwire_server_snapshots_total{kind="delta"} 0`,
		`tickwire_server_snapshot_bytes_total{kind="full"} 0`, `tickwire_server_snapshot_bytes_total{kind="delta"} 0`,
		`tickwire_server_packets_total{direction="in"} 0`, `tickwire_server_bytes_total{direction="out"} 0`,
		`tickwire_server_game_messages_total{direction="in"} 0`, `tickwire_server_game_messages_total{direction="out"} 0`,
		"tickwire_server_ticks_total 0", "tickwire_server_clients 0", "tickwire_server_tick_duration_seconds_count 0",
		"tickwire_server_client_rtt_seconds_count 0", "tickwire_server_client_packet_loss_ratio_count 0",
	)
	for _, w := range want {
		assertLine(t, body, w+"\n")
	}
	assert.Len(t, want, int(server.NumDropReasons)+int(server.NumInputVerdicts)+int(server.NumInputSources)+18)
}

// TestMetricsScrape runs 121 ticks with one client and checks the values,
// including every name and label that the scripts and tools parse
// (scripts/soak.sh through demo-game/internal/botswarm.ParseMetrics:
// clients, ticks_total, tick_overruns_total, ticks_skipped_total,
// disconnects_total, go_goroutines, go_memstats_heap_alloc_bytes and
// go_memstats_heap_inuse_bytes; the loadtest's figures: snapshots_total,
// bytes_total{direction="out"}, ticks_skipped_total,
// input_ticks_total{source}).
func TestMetricsScrape(t *testing.T) {
	srv, tr, reg := newServer(t)
	tr.events = append(tr.events, server.Event{Kind: server.ClientConnected, Client: 1})
	tr.link = server.LinkStats{RTT: 42 * time.Millisecond, PacketLoss: 0.05, SendBudget: 16000}
	w, err := wire.NewInputWriter(1)
	require.NoError(t, err)
	w.Push(0, []byte{1})
	tr.inputs = append(tr.inputs, w.AppendMessage(nil), w.AppendMessage(nil), []byte{wire.KindInput})
	tr.ctr.PacketsIn, tr.ctr.BytesIn, tr.ctr.Drops["malformed"] = 3, 40, 3
	step(t, srv, 0, 120)

	st := srv.Stats()
	body := scrape(t, Handler(reg), "/metrics")
	for _, want := range []string{
		`tickwire_server_tick_duration_seconds_bucket{le="2.5e-05"}`,
		"tickwire_server_tick_duration_seconds_count 121",
		"tickwire_server_ticks_total 121",
		"tickwire_server_tick_overruns_total ",
		"tickwire_server_ticks_late_total 0",
		"tickwire_server_ticks_skipped_total 0",
		"tickwire_server_clients 1",
		"tickwire_server_connects_total 1",
		"tickwire_server_disconnects_total 0",
		"tickwire_server_kicks_total 0",
		`tickwire_server_packets_total{direction="in"} 3`,
		`tickwire_server_bytes_total{direction="in"} 40`,
		`tickwire_server_bytes_total{direction="out"} ` + fmtUint(st.Transport.BytesOut),
		`tickwire_server_client_rtt_seconds{quantile="0.5"} 0.042`,
		"tickwire_server_client_rtt_seconds_count 2", // ticks 60 and 120
		`tickwire_server_client_packet_loss_ratio{quantile="0.5"} 0.05`,
		`tickwire_server_client_send_budget_bytes_per_second{quantile="0.5"} 16000`,
		`tickwire_server_drops_total{reason="transport_malformed"} 3`,
		`tickwire_server_drops_total{reason="input_malformed"} 1`,
		`tickwire_server_drops_total{reason="input_late"} 0`,
		`tickwire_server_inputs_total{verdict="accepted"} 1`,
		`tickwire_server_inputs_total{verdict="duplicate"} 1`,
		`tickwire_server_input_ticks_total{source="fresh"} 1`,
		`tickwire_server_input_ticks_total{source="repeated"} 120`,
		`tickwire_server_snapshots_total{kind="full"} 60`, // player 1 has phase 1: ticks 1, 3, … 119
		`tickwire_server_snapshots_total{kind="delta"} 0`,
		`tickwire_server_snapshot_bytes_total{kind="full"} ` + fmtUint(st.SnapshotBytesFull),
		`tickwire_server_game_messages_total{direction="in"} 0`,
		"go_goroutines ", "go_memstats_heap_alloc_bytes ", "go_memstats_heap_inuse_bytes ", // NewRegistry's; botswarm reads them
		"process_cpu_seconds_total ",
	} {
		assertLine(t, body, want)
	}
	assert.Equal(t, uint64(60), st.SnapshotsFull)
	assert.Positive(t, st.SnapshotBytesFull)
}

// assertLine checks that a line of body starts with prefix (which may
// end with the line's newline), naming only prefix when none does.
func assertLine(t *testing.T, body, prefix string) {
	t.Helper()
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, prefix) {
			return
		}
	}
	t.Errorf("no line starts with %q", prefix)
}

// fmtUint formats v as the exposition format does a small integer value.
func fmtUint(v uint64) string { return strconv.FormatUint(v, 10) }

func TestHandlerPprofAndIndex(t *testing.T) {
	h := Handler(prometheus.NewRegistry())
	assert.Contains(t, scrape(t, h, "/debug/pprof/"), "goroutine")
	assert.Contains(t, scrape(t, h, "/debug/pprof/cmdline"), "admin.test")
	assert.Contains(t, scrape(t, h, "/debug/pprof/goroutine?debug=1"), "goroutine profile")
	assert.Equal(t, "tickwire server admin\n/metrics\n/debug/pprof/\n", scrape(t, h, "/"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nothing", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

// TestRegisterErrors: nil arguments, and a second Register on the same
// registry, fail; the failed Register leaves the first one's observer.
func TestRegisterErrors(t *testing.T) {
	srv, _, reg := newServer(t)
	assert.ErrorContains(t, Register(nil, srv), "admin: Register needs a registry and a server")
	assert.ErrorContains(t, Register(reg, nil), "admin: Register needs a registry and a server")
	err := Register(reg, srv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "admin: register the server's metrics")
	step(t, srv, 0, 1)
	assert.Contains(t, scrape(t, Handler(reg), "/metrics"), "tickwire_server_tick_duration_seconds_count 2\n",
		"the first registration still observes the ticks")
}

// TestServe serves a registry on a loopback listener until the context
// ends; Serve then returns nil and the listener is closed.
func TestServe(t *testing.T) {
	srv, _, reg := newServer(t)
	step(t, srv, 0, 4)
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Handler(reg)) }()

	url := "http://" + ln.Addr().String() + "/metrics"
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(url)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Contains(t, string(body), "tickwire_server_ticks_total 5\n")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	_, err = hc.Get(url)
	assert.Error(t, err, "the listener is closed")
}

// TestServeEndsStuckRequests: a request still running when the context
// ends is cut after ShutdownGrace, and Serve returns.
func TestServeEndsStuckRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("waits ShutdownGrace")
	}
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, h) }()
	reqDone := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			_ = resp.Body.Close()
		}
		reqDone <- err
	}()
	<-entered
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Serve waited for a stuck request past its grace")
	}
	<-reqDone
}

func TestServeFails(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	err = Serve(t.Context(), ln, Handler(prometheus.NewRegistry()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "admin: serve on "+ln.Addr().String())
	assert.True(t, errors.Is(err, net.ErrClosed), "%v", err)
}
