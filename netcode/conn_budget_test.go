package netcode

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// TestServerBudgetOverCappedPipe: a server with a send budget (1 Mbit/s
// ceiling, congestion response) streams 1000-byte latest-state snapshots
// at 30 Hz (30 KB/s) to a client through a 128 kbit/s link with 50 ms
// each way. The budget settles near the link's rate, the RTT stays under
// twice the link's base RTT, and ClientInfo.Stats shows it all.
func TestServerBudgetOverCappedPipe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		link := netsim.Config{Latency: 50 * time.Millisecond, Bandwidth: 128_000 / 8, QueueBytes: 256 << 10}
		sc, cc := netsim.Pipe(link, link, 21)
		ep := endpoint.DefaultConfig()
		ep.SendRate, ep.CongestionControl = 1_000_000/8, true
		srv, err := NewServer(sc, ServerConfig{ProtocolID: 9, Endpoint: ep})
		require.NoError(t, err)
		defer srv.Close()

		stop := make(chan struct{})
		done := make(chan struct{})
		var id ClientID
		var connected bool
		var samples []Stats
		go func() {
			defer close(done)
			snapshot := make([]byte, 1000)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				srv.Update(time.Now())
				for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
					if ev.Kind == EventConnect {
						id, connected = ev.Client, true
					}
				}
				if connected && n%3 == 0 {
					_, _ = srv.Send(id, 2, snapshot)
				}
				if connected && n%100 == 0 {
					if info, ok := srv.Client(id); ok {
						samples = append(samples, info.Stats)
					}
				}
			}
		}()
		stopLoop := sync.OnceFunc(func() { close(stop); <-done })
		defer stopLoop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		addr := sc.LocalAddr().(*net.UDPAddr).AddrPort()
		cli, err := DialConn(ctx, cc, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()), ClientConfig{ProtocolID: 9})
		require.NoError(t, err)
		defer cli.Close()
		got := 0
		for range 3000 { // 30 s
			time.Sleep(10 * time.Millisecond)
			require.NoError(t, cli.Update(time.Now()))
			for _, ok := cli.ReadMessage(2); ok; _, ok = cli.ReadMessage(2) {
				got++
			}
		}
		stopLoop()

		require.GreaterOrEqual(t, len(samples), 25)
		var worst time.Duration
		var rate float64
		late := samples[10:] // after 10 s
		for _, s := range late {
			worst = max(worst, s.RTT)
			rate += float64(s.SendRate)
		}
		rate /= float64(len(late))
		last := samples[len(samples)-1]
		t.Logf("worst RTT %v, mean budget %.0f B/s (link 16000 B/s of payload), estimate %d B/s, snapshots read %d of %d, superseded %d",
			worst, rate, last.EstimatedRate, got, 30*30, last.MessagesSuperseded)
		assert.Less(t, worst, 200*time.Millisecond, "RTT under twice the link's base RTT")
		assert.InDelta(t, 16000, rate, 16000*0.4, "the budget settles near the link's rate (overheads included)")
		assert.Greater(t, got, 30*30/4, "a good share of the snapshots arrive")
		assert.Positive(t, last.MessagesSuperseded, "the rest were replaced by newer ones")
	})
}
