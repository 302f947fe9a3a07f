package clientui

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
)

// serverClient is one client of a netcode Server, as a ServerLink.
type serverClient struct {
	s  *netcode.Server
	id netcode.ClientID
}

func (l serverClient) Send(ch int, msg []byte) (netcode.MessageID, error) {
	return l.s.Send(l.id, ch, msg)
}
func (l serverClient) ReadMessage(ch int) ([]byte, bool) { return l.s.ReadMessage(l.id, ch) }

func e2eEndpoint() endpoint.Config {
	cfg := endpoint.DefaultConfig()
	cfg.MaxPacketSize = 0 // leave room for the connection layer's overhead
	return cfg
}

// TestOnlineOverUDP runs the client's Online source against a MiniServer
// behind a real netcode connection Server, over loopback UDP with netsim on
// the client's socket (2% loss, 30±3 ms each way), at 60 frames per second
// of real time for a few seconds.
func TestOnlineOverUDP(t *testing.T) {
	dur := 4 * time.Second
	if testing.Short() {
		dur = 2 * time.Second
	}
	var mini atomic.Pointer[MiniServer]
	s, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{
		ProtocolID: DefaultProtocolID, Endpoint: e2eEndpoint(),
		OnMessageAcked: func(_ netcode.ClientID, ch int, id netcode.MessageID) {
			if m := mini.Load(); m != nil {
				m.Acked(ch, id)
			}
		},
	})
	require.NoError(t, err)

	// The server loop: its own goroutine, as in a server process.
	stop := make(chan struct{})
	served := make(chan server.InputStats, 1)
	go func() {
		defer s.Close()
		var started time.Time
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				var st server.InputStats
				if m := mini.Load(); m != nil {
					st = m.InputStats()
				}
				served <- st
				return
			case <-tick.C:
			}
			now := time.Now()
			s.Update(now)
			for ev, ok := s.PollEvent(); ok; ev, ok = s.PollEvent() {
				if ev.Kind == netcode.EventConnect && mini.Load() == nil {
					m, err := NewMiniServer(serverClient{s, ev.Client}, LoopbackConfig{Seed: 1, NPCs: 6, Bots: 1})
					if err != nil {
						panic(err)
					}
					mini.Store(m)
					started = now
				}
			}
			if m := mini.Load(); m != nil {
				m.ReadInputs()
				for due := uint32(now.Sub(started) * game.TickRate / time.Second); m.Ticks() < due; {
					if err := m.Tick(); err != nil {
						panic(err)
					}
				}
			}
			s.Flush(now)
		}
	}()

	link := netsim.Config{Loss: 0.02, Latency: 30 * time.Millisecond, Jitter: 3 * time.Millisecond}
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	sim := netsim.WrapDuplex(pc, link, link, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netcode.DialConn(ctx, sim, netip.MustParseAddrPort(s.Addr().String()), netcode.ClientConfig{
		ProtocolID: DefaultProtocolID, Endpoint: e2eEndpoint(),
	})
	require.NoError(t, err)
	o, err := NewOnline(c, nil, "udp")
	require.NoError(t, err)

	// The client loop: 60 frames per second of real time (the frame pacing
	// is what a real client does, not synchronisation).
	start := time.Now()
	frames := int(dur / (time.Second / 60))
	var v View
	for i := range frames {
		now := time.Now()
		require.NoError(t, o.Update(now, Script(uint32(i)), DefaultToggles()))
		v = o.View(now, DefaultToggles())
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * time.Second / 60)))
	}
	close(stop)
	inputs := <-served
	require.NoError(t, o.Close())

	st := o.Session().Stats()
	t.Logf("session %+v\nserver inputs %+v\nsample %+v", st, inputs, v.Sample)
	require.True(t, v.Online)
	assert.Zero(t, st.BadMessages)
	assert.Greater(t, st.Snapshots, uint64(float64(frames)/2*0.8), "about 30 snapshots a second arrive")
	assert.Less(t, float64(st.Stalls), 0.01*float64(st.Frames)+1, "stalls under 1% of frames")
	assert.InDelta(t, 60, float64(v.Sample.RTT.Milliseconds()), 40, "RTT ≈ 2 × 30 ms plus a tick")
	kinds := map[game.Kind]int{}
	for _, e := range v.Entities {
		kinds[e.Kind]++
	}
	assert.Equal(t, 2, kinds[game.KindPlayer], "own player and the bot")
	assert.Equal(t, 6, kinds[game.KindNPC])
	// After the start-up (inputs the server ran before they arrived), the
	// server gets nearly every input in time.
	assert.Greater(t, float64(inputs.Fresh), 0.9*float64(inputs.Fresh+inputs.Missing), "inputs in time")
}
