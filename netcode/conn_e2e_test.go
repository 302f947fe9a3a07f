package netcode

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// TestManyClientsOverLossyLink connects 100 clients over real UDP sockets on
// loopback, through netsim (10% loss and 50 ms latency in each direction on
// the server's socket), and exchanges reliable-ordered and unreliable
// messages both ways.
func TestManyClientsOverLossyLink(t *testing.T) {
	noLeaks(t)
	clientsN, reliableN, unreliableN := 100, 20, 20
	if testing.Short() {
		clientsN = 30
	}
	link := netsim.Config{Loss: 0.10, Latency: 50 * time.Millisecond}
	pc := netsim.WrapDuplex(listenLoopback(t), link, link, 1)
	l := startServer(t, pc, ServerConfig{ProtocolID: 0x7713, MaxClients: clientsN})
	// A generous ConnectTimeout: `go test ./...` may run this beside other
	// packages' tests on two loaded cores.
	ccfg := ClientConfig{ProtocolID: 0x7713, ConnectTimeout: 15 * time.Second}

	start := time.Now()
	clients := make([]*Client, clientsN)
	errs := make([]error, clientsN)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { clients[i], errs[i] = dialTest(t, l.addr(), ccfg) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range clients {
			if c != nil {
				_ = c.Close()
			}
		}
	})
	for i, err := range errs {
		require.NoError(t, err, "client %d", i)
	}
	t.Logf("%d clients connected in %v", clientsN, time.Since(start))
	byID := map[ClientID]int{}
	for i, c := range clients {
		byID[c.ID()] = i
	}
	require.Len(t, byID, clientsN, "client ids are unique")

	// Both sides queue everything at once; the endpoints pace and resend.
	for i, c := range clients {
		for k := range reliableN {
			_, err := c.Send(0, fmt.Appendf(nil, "c%d r%d", i, k))
			require.NoError(t, err)
		}
		for k := range unreliableN {
			_, err := c.Send(1, fmt.Appendf(nil, "c%d u%d", i, k))
			require.NoError(t, err)
		}
	}
	l.do(func(s *Server) {
		for id, i := range byID {
			for k := range reliableN {
				_, err := s.Send(id, 0, fmt.Appendf(nil, "s%d r%d", i, k))
				require.NoError(t, err)
			}
			for k := range unreliableN {
				_, err := s.Send(id, 1, fmt.Appendf(nil, "s%d u%d", i, k))
				require.NoError(t, err)
			}
		}
	})

	// next returns the index in "<prefix><i> <kind><k>" after checking i.
	parse := func(t *testing.T, msg []byte, who string, kind byte) int {
		f := strings.Fields(string(msg))
		require.Len(t, f, 2, "message %q", msg)
		require.Equal(t, who, f[0])
		require.Equal(t, kind, f[1][0])
		k, err := strconv.Atoi(f[1][1:])
		require.NoError(t, err)
		return k
	}
	cliRel := make([]int, clientsN) // next expected reliable index per client
	cliUnrel := make([]map[int]bool, clientsN)
	srvRel := make([]int, clientsN)
	srvUnrel := make([]map[int]bool, clientsN)
	for i := range clientsN {
		cliUnrel[i], srvUnrel[i] = map[int]bool{}, map[int]bool{}
	}
	// Run for at least 2 s so that keepalives give every connection enough
	// RTT and loss samples for the statistics checked below.
	minEnd := time.Now().Add(2 * time.Second)
	done := func() bool {
		if time.Now().Before(minEnd) {
			return false
		}
		for i := range clientsN {
			if cliRel[i] < reliableN || srvRel[i] < reliableN {
				return false
			}
		}
		return true
	}
	eventually(t, 20*time.Second, func() {
		now := time.Now()
		for i, c := range clients {
			require.NoError(t, c.Update(now), "client %d", i)
			who := "s" + strconv.Itoa(i)
			for m, ok := c.ReadMessage(0); ok; m, ok = c.ReadMessage(0) {
				require.Equal(t, cliRel[i], parse(t, m, who, 'r'), "client %d: reliable messages in order, exactly once", i)
				cliRel[i]++
			}
			for m, ok := c.ReadMessage(1); ok; m, ok = c.ReadMessage(1) {
				k := parse(t, m, who, 'u')
				require.False(t, cliUnrel[i][k], "unreliable message delivered twice")
				cliUnrel[i][k] = true
			}
		}
		l.do(func(s *Server) {
			for id, i := range byID {
				who := "c" + strconv.Itoa(i)
				for m, ok := s.ReadMessage(id, 0); ok; m, ok = s.ReadMessage(id, 0) {
					require.Equal(t, srvRel[i], parse(t, m, who, 'r'), "server from client %d: in order, exactly once", i)
					srvRel[i]++
				}
				for m, ok := s.ReadMessage(id, 1); ok; m, ok = s.ReadMessage(id, 1) {
					k := parse(t, m, who, 'u')
					require.False(t, srvUnrel[i][k])
					srvUnrel[i][k] = true
				}
			}
		})
	}, done, "every reliable message delivered")
	t.Logf("all reliable messages delivered %v after connecting", time.Since(start))

	// Unreliable: about 90% arrive (one lossy hop each way, none resent).
	var cliGot, srvGot int
	for i := range clientsN {
		cliGot += len(cliUnrel[i])
		srvGot += len(srvUnrel[i])
	}
	total := float64(clientsN * unreliableN)
	assert.InDelta(t, 0.9, float64(cliGot)/total, 0.08, "unreliable server→client delivery")
	assert.InDelta(t, 0.9, float64(srvGot)/total, 0.08, "unreliable client→server delivery")

	// Stats: RTT is the simulated 100 ms round trip plus ticks (and, on a
	// loaded machine, scheduling delays); loss near 10%.
	const maxRTT = time.Second
	var rttSum time.Duration
	var lossSum float64
	for _, c := range clients {
		st := c.Stats()
		assert.GreaterOrEqual(t, st.RTT, 90*time.Millisecond)
		assert.Less(t, st.RTT, maxRTT)
		assert.NotZero(t, st.PacketsAcked)
		rttSum += st.RTT
		lossSum += st.PacketLoss
		cs := c.ConnStats()
		assert.Zero(t, cs.DropsAuth+cs.DropsMalformed)
	}
	meanLoss := lossSum / float64(clientsN)
	t.Logf("client mean RTT %v, mean loss %.3f", rttSum/time.Duration(clientsN), meanLoss)
	assert.InDelta(t, 0.10, meanLoss, 0.09)

	l.do(func(s *Server) {
		st := s.Stats()
		assert.Equal(t, clientsN, st.Connected)
		assert.Equal(t, uint64(clientsN), st.Accepted)
		assert.Zero(t, st.DropsAuth+st.DropsBadCookie+st.DropsMalformed+st.Timeouts)
		for id := range byID {
			info, ok := s.Client(id)
			require.True(t, ok)
			assert.GreaterOrEqual(t, info.Stats.RTT, 90*time.Millisecond)
			assert.Less(t, info.Stats.RTT, maxRTT)
			assert.NotZero(t, info.Conn.PacketsReceived)
		}
	})
}
