package admin_test

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/admin"
)

// emptyGame is a Game with no world: enough to tick.
type emptyGame struct{}

func (emptyGame) AddPlayer(server.PlayerID) error            { return nil }
func (emptyGame) RemovePlayer(server.PlayerID)               {}
func (emptyGame) ApplyInput(server.PlayerID, uint32, []byte) {}
func (emptyGame) Step(uint32)                                {}
func (emptyGame) Snapshot(uint32, *state.Snapshot)           {}

// A server's metrics on a registry of their own, scraped through the admin
// handler (here with an httptest recorder; a real server passes the
// handler to Serve with a TCP listener).
func Example() {
	sock, _ := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1) // an in-memory socket
	tr, err := server.NewNetcodeTransport(sock, netcode.ServerConfig{ProtocolID: 7})
	if err != nil {
		panic(err)
	}
	codec := state.CodecConfig{Schema: state.Schema{Fields: []state.Field{{Name: "x", Bits: 16}}}}
	srv, err := server.New(server.Config{Codec: codec}, emptyGame{}, tr)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	reg := admin.NewRegistry()
	if err := admin.Register(reg, srv); err != nil {
		panic(err)
	}
	start := time.Now()
	for i := range 3 {
		if err := srv.Step(start.Add(time.Duration(i) * time.Second / 60)); err != nil {
			panic(err)
		}
	}

	rec := httptest.NewRecorder()
	admin.Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		for _, name := range []string{
			"tickwire_server_ticks_total", "tickwire_server_tick_duration_seconds_count", "tickwire_server_clients",
			`tickwire_server_drops_total{reason="input_late"}`, `tickwire_server_drops_total{reason="transport_malformed"}`,
		} {
			if strings.HasPrefix(sc.Text(), name+" ") {
				fmt.Println(sc.Text())
			}
		}
	}
	// Output:
	// tickwire_server_clients 0
	// tickwire_server_drops_total{reason="input_late"} 0
	// tickwire_server_drops_total{reason="transport_malformed"} 0
	// tickwire_server_tick_duration_seconds_count 3
	// tickwire_server_ticks_total 3
}

// The admin handler with /healthz and /readyz for an orchestrator's
// probes: a draining server is alive but takes no new players.
func ExampleNewHandler() {
	sock, _ := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	tr, err := server.NewNetcodeTransport(sock, netcode.ServerConfig{ProtocolID: 7})
	if err != nil {
		panic(err)
	}
	codec := state.CodecConfig{Schema: state.Schema{Fields: []state.Field{{Name: "x", Bits: 16}}}}
	srv, err := server.New(server.Config{Codec: codec}, emptyGame{}, tr)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	probes, err := admin.NewProbes(srv, admin.ProbeConfig{Capacity: 64})
	if err != nil {
		panic(err)
	}
	h := admin.NewHandler(admin.NewRegistry(), probes)
	ask := func(path string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Print(path, " ", rec.Code, " ", rec.Body.String())
	}
	if err := srv.Step(time.Now()); err != nil {
		panic(err)
	}
	ask("/healthz")
	ask("/readyz")
	srv.Drain() // on SIGTERM
	ask("/readyz")
	// Output:
	// /healthz 200 ok
	// /readyz 200 ok
	// /readyz 503 draining: no new players
}
