package netcode

import (
	"context"
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

// accounted sums the counters one handshake packet (or a datagram from an
// address with no connection) ends in: a challenge, a refusal, a drop, or
// a connection.
func accounted(st ServerStats) uint64 {
	n := st.ChallengesSent + st.Dropped() + st.Accepted
	for _, c := range st.Refusals() {
		n += c
	}
	return n
}

// Every kind of datagram an address with no connection can send, against a
// plain and a secure server, each kind from its own socket: the server
// never sends such an address more bytes, or more datagrams, than it
// received from it.
func TestAmplificationAtMostOne(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "plain"
		if secure {
			name = "secure"
		}
		t.Run(name, func(t *testing.T) { testAmplification(t, secure) })
	}
}

func testAmplification(t *testing.T, secure bool) {
	noLeaks(t)
	udp := listenLoopback(t)
	require.NoError(t, udp.SetReadBuffer(4<<20))
	counting := newCountingConn(udp)
	key := [KeySize]byte{7}
	cfg := ServerConfig{ProtocolID: 9, SendInline: true}
	if secure {
		cfg.TokenKey = &key
	}
	l := startServer(t, counting, cfg)
	rnd := newSeededReader(11)
	token := func(id ClientID) []byte {
		tok, err := IssueConnectToken(key, ConnectToken{ProtocolID: 9, ClientID: id, Expires: time.Now().Add(time.Hour),
			ServerAddrs: []netip.AddrPort{l.addr()}}, rnd)
		require.NoError(t, err)
		return tok
	}
	ccfg := ClientConfig{ProtocolID: 9}
	if secure {
		ccfg.Token = token(1)
	}
	rec := &recordConn{PacketConn: listenLoopback(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	victim, err := DialConn(ctx, rec, l.addr(), ccfg)
	require.NoError(t, err)
	defer victim.Close()
	victimRequest := rec.first(true, ptRequest)

	// A fresh, valid handshake: what any client sends.
	fresh := hello{Wire: wireVersion, ProtocolID: 9, ClientNonce: 77}
	if secure {
		pt, _, err := decodePublicToken(token(2))
		require.NoError(t, err)
		fresh.Secure, fresh.TokenExpires, fresh.TokenNonce, fresh.TokenSealed = true, pt.Expires, pt.Nonce, pt.Sealed
	}
	helloWith := func(typ connPacketType, edit func(*hello)) []byte {
		h := fresh
		if edit != nil {
			edit(&h)
		}
		return appendHello(nil, typ, &h)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	junk := func() [][]byte {
		var ds [][]byte
		for size := 0; size <= maxDatagramSize; size += 97 {
			b := make([]byte, size)
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			ds = append(ds, b)
		}
		return ds
	}
	everyType := func(size int) [][]byte {
		var ds [][]byte
		for typ := range 256 {
			b := make([]byte, size)
			b[0] = byte(typ)
			ds = append(ds, b)
		}
		return ds
	}
	repeat := func(b []byte, n int) [][]byte {
		ds := make([][]byte, n)
		for i := range ds {
			ds[i] = b
		}
		return ds
	}
	connected := func(typ connPacketType, body []byte) []byte {
		return append(connHeader{Type: typ, ConnID: 1, Seq: 5}.append(nil), body...)
	}
	kinds := []struct {
		name      string
		datagrams [][]byte
		echo      bool // then echo the challenge it got, without a key proof
	}{
		{"request", [][]byte{helloWith(ptRequest, nil)}, false},
		{"request, another version", [][]byte{helloWith(ptRequest, func(h *hello) { h.Version = 3 })}, false},
		{"request, another protocol", [][]byte{helloWith(ptRequest, func(h *hello) { h.ProtocolID = 10 })}, false},
		{"request, another wire version", [][]byte{helloWith(ptRequest, func(h *hello) { h.Wire = 1 })}, false},
		{"request, tampered token", [][]byte{helloWith(ptRequest, func(h *hello) { h.Secure = true; h.TokenSealed[5] ^= 1 })}, false},
		{"request, no token", [][]byte{helloWith(ptRequest, func(h *hello) { h.Secure = false })}, false},
		{"replayed request of a connected client", repeat(victimRequest, 5), false},
		{"requests over the rate limit", repeat(helloWith(ptRequest, nil), 3*DefaultHandshakeRate), false},
		{"response, forged cookie", [][]byte{helloWith(ptResponse, func(h *hello) {
			h.Cookie = cookie{Timestamp: time.Now().UnixMilli(), MAC: [cookieMACSize]byte{9}}
		})}, false},
		{"response, expired cookie", [][]byte{helloWith(ptResponse, func(h *hello) { h.Cookie.Timestamp = 1 })}, false},
		{"truncated request", [][]byte{helloWith(ptRequest, nil)[:helloSize-1]}, false},
		{"payload", [][]byte{connected(ptPayload, []byte{1, 2, 3})}, false},
		{"disconnect", [][]byte{connected(ptDisconnect, appendDisconnectBody(nil, ReasonClosed, 0))}, false},
		{"accept", [][]byte{connected(ptAccept, appendAcceptBody(nil, 1, 2))}, false},
		{"challenge", [][]byte{appendChallenge(nil, 1, cookie{}, nil)}, false},
		{"denied", [][]byte{appendDenied(nil, 1, DenyServerFull, nil)}, false},
		{"junk of every size", junk(), false},
		{"every type byte, 1 byte", everyType(1), false},
		{"every type byte, hello size", everyType(helloSize), false},
	}
	if secure {
		// In plain mode an echoed challenge is a handshake that completes.
		kinds = append(kinds, struct {
			name      string
			datagrams [][]byte
			echo      bool
		}{"request, then its challenge echoed", [][]byte{helloWith(ptRequest, func(h *hello) { h.ClientNonce = 78 })}, true})
	}
	srv := net.UDPAddrFromAddrPort(l.addr())
	before := accounted(l.stats())
	var total uint64
	socks := make([]*net.UDPConn, len(kinds))
	received := l.stats().DatagramsReceived
	for i, k := range kinds {
		socks[i] = listenLoopback(t)
		defer socks[i].Close()
		for _, d := range k.datagrams {
			_, err := socks[i].WriteTo(d, srv)
			require.NoError(t, err)
			total++
		}
		// One kind at a time, so that no socket buffer overflows.
		eventually(t, 10*time.Second, nil, func() bool { return l.stats().DatagramsReceived-received >= total })
		if k.echo {
			var ch []byte
			eventually(t, 10*time.Second, func() { ch = readWithin(socks[i], 10*time.Millisecond) }, func() bool { return ch != nil })
			_, err := socks[i].WriteTo(echoChallenge(t, k.datagrams[0], ch), srv)
			require.NoError(t, err)
			total++
		}
	}
	eventually(t, 10*time.Second, nil, func() bool { return accounted(l.stats())-before >= total },
		"every datagram handled: %d of %d; %+v", func() uint64 { return accounted(l.stats()) - before }, total, l.stats())
	worst, worstName := 0.0, ""
	for i, k := range kinds {
		in, out, inN, outN := counting.totals([]netip.AddrPort{udpAddrPort(socks[i])})
		require.NotZero(t, inN, k.name)
		assert.LessOrEqual(t, out, in, "%s: bytes sent ÷ received ≤ 1", k.name)
		assert.LessOrEqual(t, outN, inN, "%s: at most one reply per datagram", k.name)
		if in > 0 {
			if r := float64(out) / float64(in); r > worst {
				worst, worstName = r, k.name
			}
		}
	}
	st := l.stats()
	assert.Equal(t, uint64(1), st.Accepted, "no connection but the victim's")
	t.Logf("worst amplification: %.3f (%s); challenges %d, refused %v, drops %d", worst, worstName, st.ChallengesSent, st.Refused, st.Dropped())
}
