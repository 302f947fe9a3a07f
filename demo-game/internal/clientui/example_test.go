package clientui_test

import (
	"fmt"
	"time"

	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// The network panel steps each setting along a ladder of useful values.
func ExampleNetPanel() {
	p, _ := clientui.NewNetPanel(netsim.Config{})
	p.Apply(clientui.ActionLossUp)
	p.Apply(clientui.ActionLossUp)
	p.Apply(clientui.ActionLatencyUp)
	cfg, changed := p.Apply(clientui.ActionLatencyUp)
	fmt.Println(changed, cfg.Loss, cfg.Latency)
	for _, line := range p.Lines()[1:3] {
		fmt.Println(line)
	}
	// Output:
	// true 0.02 20ms
	// loss        2.0 %   [ ]
	// latency      20 ms  - =
}

// The HUD samples at a fixed interval and captions each graph with the
// newest value and the window's min/avg/max.
func ExampleHUD() {
	h, _ := clientui.NewHUD(clientui.DefaultHUDWindow, clientui.DefaultHUDInterval)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, rtt := range []int{80, 84, 120, 90} {
		h.Record(start.Add(time.Duration(i)*100*time.Millisecond), clientui.Sample{RTT: time.Duration(rtt) * time.Millisecond})
	}
	now := start.Add(300 * time.Millisecond)
	fmt.Println(h.Caption(clientui.MetricRTT, now))
	fmt.Println(h.Top(clientui.MetricRTT, now))
	// Output:
	// RTT 90.0 ms  80/94/120
	// 200
}
