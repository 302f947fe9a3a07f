package netcode

import (
	"context"
	"fmt"
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

// TestPathMTUOverPipe: a connection with MaxPathMTU for 1452-byte
// datagrams, through a link whose largest datagram is maxDatagram,
// settles at the largest size the link carries (within the 16-byte search
// step) and loses no reliable message while it probes.
func TestPathMTUOverPipe(t *testing.T) {
	for _, tt := range []struct {
		maxDatagram int
		want        int // datagram size it settles at, at most (plain mode: the header and the packet)
	}{{1300, 1300}, {1500, connHeaderSize + 1452 - ConnOverhead}} {
		t.Run(fmt.Sprintf("link_max_%d", tt.maxDatagram), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				link := netsim.Config{Latency: 20 * time.Millisecond, MaxDatagramSize: tt.maxDatagram}
				sc, cc := netsim.Pipe(link, link, 5)
				ep := endpoint.DefaultConfig()
				ep.MaxPathMTU = 1452 - ConnOverhead
				srv, err := NewServer(sc, ServerConfig{ProtocolID: 3, Endpoint: ep})
				require.NoError(t, err)
				defer srv.Close()
				stop, done := make(chan struct{}), make(chan struct{})
				var mu sync.Mutex
				var info ClientInfo
				go func() {
					defer close(done)
					var id ClientID
					connected := false
					tick := time.NewTicker(10 * time.Millisecond)
					defer tick.Stop()
					sent := 0
					for {
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
						if !connected {
							continue
						}
						for range 6 {
							msg := make([]byte, 200)
							msg[0], msg[1] = byte(sent), byte(sent>>8)
							if _, err := srv.Send(id, 0, msg); err == nil {
								sent++
							}
						}
						if ci, ok := srv.Client(id); ok {
							mu.Lock()
							info = ci
							mu.Unlock()
						}
					}
				}()
				stopLoop := sync.OnceFunc(func() { close(stop); <-done })
				defer stopLoop()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				addr := sc.LocalAddr().(*net.UDPAddr).AddrPort()
				cli, err := DialConn(ctx, cc, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()), ClientConfig{ProtocolID: 3, Endpoint: ep})
				require.NoError(t, err)
				defer cli.Close()
				got := 0
				for range 500 { // 5 s
					time.Sleep(10 * time.Millisecond)
					require.NoError(t, cli.Update(time.Now()))
					for m, ok := cli.ReadMessage(0); ok; m, ok = cli.ReadMessage(0) {
						require.Equal(t, uint16(got), uint16(m[0])|uint16(m[1])<<8, "reliable messages in order, none lost")
						got++
					}
				}
				stopLoop()
				mu.Lock()
				st := info.Stats
				mu.Unlock()
				datagram := st.PathMTU + connHeaderSize // plain mode: no AEAD tag
				t.Logf("link max %d: datagrams of %d bytes after %d probes (%d lost); %d messages in order; link drops oversize %d",
					tt.maxDatagram, datagram, st.MTUProbes, st.MTUProbesLost, got, sc.Stats().DroppedOversize)
				assert.LessOrEqual(t, datagram, tt.want)
				assert.Greater(t, datagram, tt.want-16-1)
				assert.Equal(t, st.MTUProbesLost, sc.Stats().DroppedOversize, "only probes were too large")
				assert.Greater(t, got, 1000)
			})
		})
	}
}
