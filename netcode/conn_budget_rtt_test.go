package netcode

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// TestClientRTTWithServerBudget: the client measures its RTT when the
// server has a send budget with the congestion response, as it does
// without one (the client's RTT samples come from the server's acks).
func TestClientRTTWithServerBudget(t *testing.T) {
	for _, budget := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			link := netsim.Config{Latency: 50 * time.Millisecond}
			sc, cc := netsim.Pipe(link, link, 3)
			ep := endpoint.DefaultConfig()
			ep.AckDelay = 40 * time.Millisecond // as server.NetcodeTransport sets it
			if budget {
				ep.SendRate, ep.CongestionControl = 1_000_000/8, true
			}
			srv, err := NewServer(sc, ServerConfig{ProtocolID: 9, Endpoint: ep})
			require.NoError(t, err)
			defer srv.Close()
			ctx, cancel := context.WithCancel(t.Context())
			loopDone := make(chan struct{})
			defer func() { cancel(); <-loopDone }()
			go func() { // the server's tick loop: 60 Hz, a small snapshot each tick
				defer close(loopDone)
				for ctx.Err() == nil {
					srv.Update(time.Now())
					for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
						_ = ev
					}
					_ = srv.Broadcast(2, make([]byte, 100))
					srv.Flush(time.Now())
					time.Sleep(time.Second / 60)
				}
			}()
			addr := sc.LocalAddr().(*net.UDPAddr).AddrPort()
			c, err := DialConn(ctx, cc, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()), ClientConfig{ProtocolID: 9})
			require.NoError(t, err)
			defer c.Close()
			for range 180 { // 3 s of inputs at 60 Hz
				_, _ = c.Send(1, []byte{1, 2})
				require.NoError(t, c.Update(time.Now()))
				c.Flush(time.Now())
				time.Sleep(time.Second / 60)
			}
			rtt := c.Stats().RTT
			t.Logf("budget %v: client RTT %v", budget, rtt)
			assert.Greater(t, rtt, 90*time.Millisecond, "budget %v", budget)
			assert.Less(t, rtt, 200*time.Millisecond, "budget %v", budget)
		})
	}
}
