package netcode

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingConn counts the bytes a server reads from and writes to each
// address.
type countingConn struct {
	net.PacketConn
	mu        sync.Mutex
	in, out   map[netip.AddrPort]uint64
	inN, outN map[netip.AddrPort]uint64
}

func newCountingConn(pc net.PacketConn) *countingConn {
	return &countingConn{PacketConn: pc, in: map[netip.AddrPort]uint64{}, out: map[netip.AddrPort]uint64{},
		inN: map[netip.AddrPort]uint64{}, outN: map[netip.AddrPort]uint64{}}
}

func (c *countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if err == nil {
		a := normalizeAddr(addr.(*net.UDPAddr).AddrPort())
		c.mu.Lock()
		c.in[a] += uint64(n)
		c.inN[a]++
		c.mu.Unlock()
	}
	return n, addr, err
}

func (c *countingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	a := normalizeAddr(addr.(*net.UDPAddr).AddrPort())
	c.mu.Lock()
	c.out[a] += uint64(len(p))
	c.outN[a]++
	c.mu.Unlock()
	return c.PacketConn.WriteTo(p, addr)
}

func (c *countingConn) totals(addrs []netip.AddrPort) (in, out, inN, outN uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range addrs {
		in += c.in[a]
		out += c.out[a]
		inN += c.inN[a]
		outN += c.outN[a]
	}
	return
}

// floodDatagram returns the i-th hostile datagram: random junk, truncated
// or corrupted valid packets, spoofed requests (valid, and with the wrong
// version), responses with forged cookies, and connected packets with
// guessed connection ids.
func floodDatagram(rng *rand.Rand, i int, buf []byte, secure bool) []byte {
	h := hello{Wire: wireVersion, ProtocolID: 9, ClientNonce: rng.Uint64(), Secure: secure}
	if secure { // a forged token
		binary.BigEndian.PutUint64(h.TokenSealed[:], rng.Uint64())
		h.TokenExpires = time.Now().Add(time.Hour).UnixMilli()
	}
	switch i % 8 {
	case 0: // random junk of random length
		b := buf[:rng.IntN(1300)]
		for k := range b {
			b[k] = byte(rng.UintN(256))
		}
		return b
	case 1, 2: // spoofed connection requests that will never be answered
		return appendHello(buf[:0], ptRequest, &h)
	case 3: // request for another version: denied
		h.Version = 99
		return appendHello(buf[:0], ptRequest, &h)
	case 4: // response with a forged cookie
		h.Cookie.Timestamp = time.Now().UnixMilli()
		binary.BigEndian.PutUint64(h.Cookie.MAC[:], rng.Uint64())
		return appendHello(buf[:0], ptResponse, &h)
	case 5: // truncated request
		b := appendHello(buf[:0], ptRequest, &h)
		return b[:rng.IntN(len(b))]
	case 6: // payload with a guessed connection id
		b := connHeader{Type: ptPayload, ConnID: rng.Uint32(), Seq: rng.Uint64()}.append(buf[:0])
		return append(b, make([]byte, rng.IntN(100))...)
	default: // a valid type byte with random contents
		b := buf[:1+rng.IntN(600)]
		for k := range b {
			b[k] = byte(rng.UintN(256))
		}
		b[0] = byte(1 + rng.IntN(int(ptDisconnect)))
		return b
	}
}

func TestFloodDoesNotHurtConnectedClients(t *testing.T) {
	tests := []struct {
		name   string
		secure bool
		total  int
	}{
		{"insecure", false, 100_000},
		// Secure mode opens the token of every spoofed request: fewer, to
		// keep the test fast under -race.
		{"secure", true, 20_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := tt.total
			if testing.Short() {
				total /= 5
			}
			testFlood(t, tt.secure, total)
		})
	}
}

func testFlood(t *testing.T, secure bool, total int) {
	noLeaks(t)
	counting := newCountingConn(listenLoopback(t))
	scfg := ServerConfig{ProtocolID: 9, MaxClients: 4}
	ccfg := ClientConfig{ProtocolID: 9}
	key := [KeySize]byte{42}
	if secure {
		scfg.TokenKey = &key
	}
	l := startServer(t, counting, scfg)
	if secure {
		tok, err := IssueConnectToken(key, ConnectToken{ProtocolID: 9, ClientID: 1, Expires: time.Now().Add(time.Hour),
			ServerAddrs: []netip.AddrPort{l.addr()}}, newSeededReader(3))
		require.NoError(t, err)
		ccfg.Token = tok
	}
	cli, err := dialTest(t, l.addr(), ccfg)
	require.NoError(t, err)
	defer cli.Close()
	id := cli.ID()

	const attackersN = 8
	attackers := make([]*net.UDPConn, attackersN)
	attackerAddrs := make([]netip.AddrPort, attackersN)
	for i := range attackers {
		attackers[i] = listenLoopback(t)
		defer attackers[i].Close()
		attackerAddrs[i] = attackers[i].LocalAddr().(*net.UDPAddr).AddrPort()
	}
	srvAddr := net.UDPAddrFromAddrPort(l.addr())

	// The flood runs on its own goroutine while the client keeps sending
	// reliable messages and updating.
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		rng := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 1500)
		for i := range total {
			_, _ = attackers[i%attackersN].WriteTo(floodDatagram(rng, i, buf, secure), srvAddr)
		}
	}()
	sent, ticks := 0, 0
	var got []int
	readServer := func() {
		l.do(func(s *Server) {
			for m, ok := s.ReadMessage(id, 0); ok; m, ok = s.ReadMessage(id, 0) {
				got = append(got, int(binary.BigEndian.Uint32(m)))
			}
		})
	}
	ticker := time.NewTicker(2 * time.Millisecond)
	defer ticker.Stop()
flood:
	for {
		select {
		case <-floodDone:
			break flood
		case <-ticker.C:
			if ticks++; ticks%5 == 0 {
				_, err := cli.Send(0, binary.BigEndian.AppendUint32(nil, uint32(sent)))
				require.NoError(t, err)
				sent++
			}
			require.NoError(t, cli.Update(time.Now()), "the client stays connected during the flood")
			readServer()
		}
	}
	eventually(t, 5*time.Second, func() {
		require.NoError(t, cli.Update(time.Now()))
		readServer()
	}, func() bool { return len(got) == sent })
	for k, v := range got {
		require.Equal(t, k, v, "reliable messages in order during the flood")
	}

	st := l.stats()
	l.do(func(s *Server) {
		assert.Equal(t, 1, s.NumClients(), "no client evicted, none added")
		assert.Len(t, s.byAddr, 1, "no per-address state")
		assert.Len(t, s.byID, 1)
		_, ok := s.Client(id)
		assert.True(t, ok)
		for ev, ok := s.PollEvent(); ok; ev, ok = s.PollEvent() {
			assert.NotEqual(t, EventDisconnect, ev.Kind)
		}
	})
	in, out, inN, outN := counting.totals(attackerAddrs)
	ratio := float64(out) / float64(in)
	t.Logf("flood: server read %d datagrams (%d B) from attackers, sent %d (%d B) back: ratio %.4f; "+
		"challenges %d, denied version %d, bad cookies %d, malformed %d, unknown addr %d, queue full %d; "+
		"client sent %d reliable messages during it",
		inN, in, outN, out, ratio, st.ChallengesSent, st.Refused[DenyVersionMismatch], st.DropsBadCookie,
		st.DropsMalformed, st.DropsUnknownAddr, st.DropsQueueFull, sent)
	require.NotZero(t, in)
	assert.LessOrEqual(t, ratio, 1.0, "bytes sent ÷ bytes received toward unverified addresses")
	assert.LessOrEqual(t, outN, inN, "at most one reply per datagram")
	if secure {
		assert.Equal(t, uint64(1), st.ChallengesSent, "only the real client was challenged: none for a forged token")
		assert.NotZero(t, st.Refused[DenyTokenInvalid])
	} else {
		assert.NotZero(t, st.ChallengesSent)
		assert.NotZero(t, st.DropsBadCookie)
	}
	assert.NotZero(t, st.DropsMalformed)
	assert.Zero(t, st.Timeouts)
	assert.Equal(t, uint64(1), st.Accepted)
}
