package botswarm_test

import (
	"fmt"
	"strings"

	"github.com/tickwire/tickwire/demo-game/internal/botswarm"
)

// The soak run samples the demo server through its admin address; this is
// what it reads from the Prometheus text.
func ExampleParseMetrics() {
	text := `go_goroutines 9
go_memstats_heap_alloc_bytes 2.5e+07
go_memstats_heap_inuse_bytes 3e+07
tickwire_server_clients 200
tickwire_server_ticks_total 36000
tickwire_server_tick_overruns_total 4
tickwire_server_ticks_skipped_total 0
tickwire_server_disconnects_total 0
`
	s, err := botswarm.ParseMetrics(strings.NewReader(text))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d clients, %d goroutines, heap in use %d MiB, %d overruns in %d ticks\n",
		s.Clients, s.Goroutines, s.HeapInuse>>20, s.Overruns, s.Ticks)
	// Output: 200 clients, 9 goroutines, heap in use 28 MiB, 4 overruns in 36000 ticks
}

// A bot's script is a pure function of its seed.
func ExampleNewScript() {
	a, b := botswarm.NewScript(42), botswarm.NewScript(42)
	same := true
	for range 600 {
		same = same && a.Next() == b.Next()
	}
	fmt.Println("same inputs:", same)
	// Output: same inputs: true
}
