package netcode

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Attacks on the connection layer, through real UDP sockets: a victim
// connects and plays, an attacker records its datagrams and replays,
// mutates or spoofs them. Each test asserts what load cannot change — the
// outcome and the counters — and waits for counts, not for time.

// spoofConn rewrites the source address of the datagrams it reads: what
// comes from an attacker's socket looks as if it came from the address the
// attacker claims, as a forged IP and UDP header would on a real network.
type spoofConn struct {
	net.PacketConn
	mu sync.Mutex
	as map[netip.AddrPort]netip.AddrPort // real source → claimed source
}

func newSpoofConn(pc net.PacketConn) *spoofConn {
	return &spoofConn{PacketConn: pc, as: map[netip.AddrPort]netip.AddrPort{}}
}

// spoof makes datagrams from the socket at from look as if they came from as.
func (c *spoofConn) spoof(from, as netip.AddrPort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.as[from] = as
}

func (c *spoofConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if ua, ok := addr.(*net.UDPAddr); ok && err == nil {
		c.mu.Lock()
		as, ok := c.as[normalizeAddr(ua.AddrPort())]
		c.mu.Unlock()
		if ok {
			addr = net.UDPAddrFromAddrPort(as)
		}
	}
	return n, addr, err
}

// recordConn keeps a copy of every datagram written and read, as an
// attacker on the path sees them.
type recordConn struct {
	net.PacketConn
	mu         sync.Mutex
	sent, recv [][]byte
}

func (c *recordConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	c.sent = append(c.sent, append([]byte(nil), p...))
	c.mu.Unlock()
	return c.PacketConn.WriteTo(p, addr)
}

func (c *recordConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if err == nil {
		c.mu.Lock()
		c.recv = append(c.recv, append([]byte(nil), p[:n]...))
		c.mu.Unlock()
	}
	return n, addr, err
}

// first returns the first recorded datagram of type t (sent or received).
func (c *recordConn) first(sent bool, t connPacketType) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds := c.recv
	if sent {
		ds = c.sent
	}
	for _, d := range ds {
		if len(d) > 0 && connPacketType(d[0]) == t {
			return d
		}
	}
	return nil
}

// lastHeader returns the header of the newest recorded connected packet of
// type t.
func (c *recordConn) lastHeader(t *testing.T, sent bool, typ connPacketType) connHeader {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	ds := c.recv
	if sent {
		ds = c.sent
	}
	for i := len(ds) - 1; i >= 0; i-- {
		if h, _, err := decodeConnHeader(ds[i]); err == nil && h.Type == typ {
			return h
		}
	}
	require.FailNow(t, "no packet recorded", "type %d", typ)
	return connHeader{}
}

// playRounds sends n reliable messages each way between cli and the
// server's client id and waits until all have arrived: the connection still
// carries traffic. The client must stay connected throughout.
func playRounds(t *testing.T, l *serverLoop, cli *Client, n int) {
	t.Helper()
	id := cli.ID()
	for i := range n {
		_, err := cli.Send(0, []byte{byte(i)})
		require.NoError(t, err)
		l.do(func(s *Server) { _, err = s.Send(id, 0, []byte{byte(i)}) })
		require.NoError(t, err) // not inside do: FailNow would end the server's goroutine
	}
	srvGot, cliGot := 0, 0
	eventually(t, 10*time.Second, func() {
		require.NoError(t, cli.Update(time.Now()), "the victim stays connected")
		for _, ok := cli.ReadMessage(0); ok; _, ok = cli.ReadMessage(0) {
			cliGot++
		}
		l.do(func(s *Server) {
			for _, ok := s.ReadMessage(id, 0); ok; _, ok = s.ReadMessage(id, 0) {
				srvGot++
			}
		})
	}, func() bool { return srvGot == n && cliGot == n }, "the victim's messages get through")
}

// noDisconnects asserts that the server reported no disconnect since the
// last poll, and that id is connected at addr.
func noDisconnects(t *testing.T, l *serverLoop, id ClientID, addr netip.AddrPort) {
	t.Helper()
	var evs []Event
	var info ClientInfo
	var ok bool
	var n int
	l.do(func(s *Server) {
		for ev, more := s.PollEvent(); more; ev, more = s.PollEvent() {
			evs = append(evs, ev)
		}
		info, ok = s.Client(id)
		n = s.NumClients()
	})
	for _, ev := range evs {
		assert.NotEqual(t, EventDisconnect, ev.Kind, "reason %v", ev.Reason)
	}
	require.True(t, ok, "the victim is connected")
	assert.Equal(t, addr, info.Addr, "at its own address")
	assert.Equal(t, 1, n)
}

func udpAddrPort(pc net.PacketConn) netip.AddrPort {
	return normalizeAddr(pc.LocalAddr().(*net.UDPAddr).AddrPort())
}

// readWithin reads one datagram from pc, or returns nil after d. It is used
// only to give a reply the chance to arrive; the tests' assertions rest on
// the server's counters, which do not depend on d.
func readWithin(pc net.PacketConn, d time.Duration) []byte {
	buf := make([]byte, maxDatagramSize)
	_ = pc.SetReadDeadline(time.Now().Add(d))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// echoChallenge turns a recorded request and the challenge it got into the
// response an attacker without keys can build: the cookie echoed as it came.
func echoChallenge(t *testing.T, request, challenge []byte) []byte {
	t.Helper()
	require.GreaterOrEqual(t, len(challenge), challengeSize)
	resp := append([]byte(nil), request...)
	resp[0] = byte(ptResponse)
	copy(resp[helloCookieOff:], challenge[9:9+cookieSize])
	return resp
}

// A player's recorded connect request, replayed from another address: while
// the player is connected the server ignores it (the token is its
// connection's), and once the player has left, the attacker gets a
// challenge but cannot answer it without the token's keys. The player keeps
// its connection, then reconnects with its token; the attacker gets no
// connection and nothing but that one small challenge.
func TestAttackReplayedConnectRequest(t *testing.T) {
	noLeaks(t)
	counting := newCountingConn(listenLoopback(t))
	f := newSecureFixture(t, counting, func(c *ServerConfig) { c.SendInline = true })
	tok := f.token(t, nil)
	rec := &recordConn{PacketConn: listenLoopback(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	victim, err := DialConn(ctx, rec, f.l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: tok})
	require.NoError(t, err)
	defer victim.Close()
	victimAddr := udpAddrPort(rec)
	playRounds(t, f.l, victim, 5)
	request := rec.first(true, ptRequest)
	require.Len(t, request, helloSize)

	attacker := listenLoopback(t)
	defer attacker.Close()
	attackerAddr := udpAddrPort(attacker)
	srvAddr := net.UDPAddrFromAddrPort(f.l.addr())

	// While the victim plays: replay its request, and echo whatever
	// challenge comes back.
	const replays = 3
	for range replays {
		_, err := attacker.WriteTo(request, srvAddr)
		require.NoError(t, err)
	}
	if ch := readWithin(attacker, 300*time.Millisecond); ch != nil {
		_, err := attacker.WriteTo(echoChallenge(t, request, ch), srvAddr)
		require.NoError(t, err)
	}
	eventually(t, 10*time.Second, nil, func() bool { return f.l.stats().Refused[RefuseTokenInUse] >= replays },
		"the replays are refused: the token belongs to a live connection")
	playRounds(t, f.l, victim, 5)
	noDisconnects(t, f.l, 4242, victimAddr)
	in, out, _, outN := counting.totals([]netip.AddrPort{attackerAddr})
	assert.Equal(t, uint64(replays*helloSize), in)
	assert.Zero(t, outN, "the attacker gets nothing while the victim is connected (%d bytes)", out)
	st := f.l.stats()
	assert.Equal(t, uint64(1), st.Accepted)
	assert.Equal(t, uint64(1), st.ChallengesSent, "only the victim's handshake was challenged")

	// After the victim left: the attacker gets a challenge, echoes it, and
	// is refused for want of the token's keys.
	require.NoError(t, victim.Close())
	eventually(t, 10*time.Second, nil, func() bool { return f.l.stats().Connected == 0 })
	_, err = attacker.WriteTo(request, srvAddr)
	require.NoError(t, err)
	var challenge []byte
	eventually(t, 10*time.Second, func() { challenge = readWithin(attacker, 10*time.Millisecond) },
		func() bool { return challenge != nil })
	assert.Len(t, challenge, challengeSealedSize)
	_, err = attacker.WriteTo(echoChallenge(t, request, challenge), srvAddr)
	require.NoError(t, err)
	eventually(t, 10*time.Second, nil, func() bool { return f.l.stats().Refused[RefuseKeyProof] == 1 },
		"the echoed challenge is refused: no key proof")
	st = f.l.stats()
	assert.Equal(t, uint64(1), st.Accepted, "the attacker never connects")
	assert.Zero(t, st.Connected)
	in, out, inN, outN := counting.totals([]netip.AddrPort{attackerAddr})
	assert.Equal(t, uint64(1), outN, "one challenge, no accept")
	assert.LessOrEqual(t, out, in/uint64(inN), "less than one request's worth")

	// The token's holder connects again, from another address.
	again, err := dialTest(t, f.l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: tok})
	require.NoError(t, err)
	defer again.Close()
	assert.Equal(t, ClientID(4242), again.ID())
	playRounds(t, f.l, again, 3)
}

// A datagram with the victim's address, port and connection id, a garbage
// body and a sequence a million ahead is dropped without moving the replay
// window: the victim's next packets are not taken for replays.
func TestAttackSpoofedGarbageFarAhead(t *testing.T) {
	noLeaks(t)
	spoof := newSpoofConn(listenLoopback(t))
	l := startServer(t, spoof, ServerConfig{ProtocolID: 9})
	rec := &recordConn{PacketConn: listenLoopback(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	victim, err := DialConn(ctx, rec, l.addr(), ClientConfig{ProtocolID: 9})
	require.NoError(t, err)
	defer victim.Close()
	victimAddr := udpAddrPort(rec)
	playRounds(t, l, victim, 5)

	attacker := listenLoopback(t)
	defer attacker.Close()
	spoof.spoof(udpAddrPort(attacker), victimAddr)
	last := rec.lastHeader(t, true, ptPayload)
	forged := connHeader{Type: ptPayload, ConnID: last.ConnID, Seq: last.Seq + 1_000_000}.append(nil)
	for range 40 {
		forged = append(forged, 0xff)
	}
	_, err = attacker.WriteTo(forged, net.UDPAddrFromAddrPort(l.addr()))
	require.NoError(t, err)
	eventually(t, 10*time.Second, nil, func() bool { return l.stats().DropsEndpoint >= 1 }, "the garbage reached the connection")

	playRounds(t, l, victim, 20)
	noDisconnects(t, l, victim.ID(), victimAddr)
	st := l.stats()
	assert.Zero(t, st.DropsReplayed, "no packet of the victim taken for a replay")
	assert.Equal(t, uint64(1), st.DropsEndpoint, "the garbage, and nothing else, refused")
	l.do(func(s *Server) {
		info, _ := s.Client(victim.ID())
		assert.Zero(t, info.Conn.DropsReplayed)
	})
}

// Spoofed plain-mode disconnects, with the right address, port, connection
// id and an in-window sequence, from an attacker who sees the packets one
// way only (the victim's to the server, or the server's to the victim) and
// so can only guess the echo — the other side's sequence — end neither
// side; the real Close still does.
func TestAttackSpoofedDisconnect(t *testing.T) {
	noLeaks(t)
	srvSpoof := newSpoofConn(listenLoopback(t))
	l := startServer(t, srvSpoof, ServerConfig{ProtocolID: 9})
	cliSpoof := newSpoofConn(listenLoopback(t))
	rec := &recordConn{PacketConn: cliSpoof}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	victim, err := DialConn(ctx, rec, l.addr(), ClientConfig{ProtocolID: 9})
	require.NoError(t, err)
	defer victim.Close()
	victimAddr := udpAddrPort(cliSpoof)
	playRounds(t, l, victim, 5)

	attacker := listenLoopback(t)
	defer attacker.Close()
	srvSpoof.spoof(udpAddrPort(attacker), victimAddr) // to the server, the attacker is the victim
	cliSpoof.spoof(udpAddrPort(attacker), l.addr())   // to the victim, it is the server
	toServer := net.UDPAddrFromAddrPort(l.addr())
	toVictim := net.UDPAddrFromAddrPort(victimAddr)
	// up: the victim's newest packet; down: the server's newest to it.
	// Each forgery uses what one direction showed: its connection id,
	// the next sequence, and guesses of the echo from its sequence.
	up, down := rec.lastHeader(t, true, ptPayload), rec.lastHeader(t, false, ptPayload)
	guesses := func(seen uint64) []uint64 { return []uint64{0, 1, seen - 1, seen, seen + 1, seen + 100} }
	for i, echo := range guesses(up.Seq) {
		d := appendDisconnectBody(connHeader{Type: ptDisconnect, ConnID: up.ConnID, Seq: up.Seq + 1 + uint64(i)}.append(nil), ReasonClosed, echo)
		_, err := attacker.WriteTo(d, toServer)
		require.NoError(t, err)
	}
	for i, echo := range guesses(down.Seq) {
		d := appendDisconnectBody(connHeader{Type: ptDisconnect, ConnID: down.ConnID, Seq: down.Seq + 1 + uint64(i)}.append(nil), ReasonKicked, echo)
		_, err = attacker.WriteTo(d, toVictim)
		require.NoError(t, err)
	}
	n := uint64(len(guesses(0)))
	eventually(t, 10*time.Second, func() { require.NoError(t, victim.Update(time.Now()), "the victim is not disconnected") },
		func() bool { return l.stats().DropsUnproven == n && victim.ConnStats().DropsUnproven == n },
		"every forged disconnect dropped on both sides")
	playRounds(t, l, victim, 10)
	noDisconnects(t, l, victim.ID(), victimAddr)

	// The real one ends the connection.
	require.NoError(t, victim.Close())
	var ev Event
	eventually(t, 10*time.Second, nil, func() bool {
		l.do(func(s *Server) { ev, _ = s.PollEvent() })
		return ev.Kind == EventDisconnect
	})
	assert.Equal(t, ReasonClosed, ev.Reason)
}

// mitmRelay stands between a client and the server, forwarding every
// datagram both ways, as a router on the path would. Before it forwards the
// client's first request it sends the client forged answers built from it.
type mitmRelay struct {
	front, back *net.UDPConn // client-facing; server-facing
	server      *net.UDPAddr
	forge       func(request []byte) [][]byte
	wg          sync.WaitGroup
}

func startRelay(t *testing.T, server netip.AddrPort, forge func(request []byte) [][]byte) *mitmRelay {
	r := &mitmRelay{front: listenLoopback(t), back: listenLoopback(t), server: net.UDPAddrFromAddrPort(server), forge: forge}
	r.wg.Add(2)
	clientCh := make(chan net.Addr, 1)
	go func() { // client → server
		defer r.wg.Done()
		buf := make([]byte, maxDatagramSize)
		forged := false
		for {
			n, from, err := r.front.ReadFrom(buf)
			if err != nil {
				return
			}
			if !forged && n > 0 && connPacketType(buf[0]) == ptRequest {
				forged = true
				clientCh <- from
				for _, d := range r.forge(buf[:n]) {
					_, _ = r.front.WriteTo(d, from)
				}
			}
			_, _ = r.back.WriteTo(buf[:n], r.server)
		}
	}()
	go func() { // server → client
		defer r.wg.Done()
		buf := make([]byte, maxDatagramSize)
		var client net.Addr
		for {
			n, _, err := r.back.ReadFrom(buf)
			if err != nil {
				return
			}
			if client == nil {
				client = <-clientCh
			}
			_, _ = r.front.WriteTo(buf[:n], client)
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *mitmRelay) close() {
	r.front.Close()
	r.back.Close()
	r.wg.Wait()
}

// An attacker on the path answers a secure client's request first, with a
// denial and a challenge it forged (sealed with a made-up tag, and in the
// plain format): the client drops them and connects.
func TestAttackForgedChallengeAndDenial(t *testing.T) {
	noLeaks(t)
	f := newSecureFixture(t, nil)
	relay := startRelay(t, f.l.addr(), func(request []byte) [][]byte {
		var h hello
		_, _, err := decodeHello(request, &h)
		if err != nil {
			return nil
		}
		tag := [hsTagSize]byte{1, 2, 3}
		ck := cookie{Timestamp: time.Now().UnixMilli(), MAC: [cookieMACSize]byte{4, 5, 6}}
		return [][]byte{
			appendDenied(nil, h.ClientNonce, DenyServerFull, &tag),
			appendChallenge(nil, h.ClientNonce, ck, &tag),
			appendDenied(nil, h.ClientNonce, DenyVersionMismatch, nil), // unsealed: provisional at most
			appendChallenge(nil, h.ClientNonce, ck, nil),               // unsealed: not a secure challenge
		}
	})
	tok := f.token(t, nil)
	cli, err := dialTest(t, udpAddrPort(relay.front), ClientConfig{ProtocolID: secureProtocol, Token: tok})
	require.NoError(t, err, "the forged denials do not end the handshake")
	defer cli.Close()
	assert.Equal(t, ClientID(4242), cli.ID())
	cs := cli.ConnStats()
	assert.Equal(t, uint64(2), cs.DropsAuth, "the sealed forgeries fail their MAC")
	assert.Equal(t, uint64(1), cs.DropsMalformed, "an unsealed challenge is not one a secure client reads")
	playRounds(t, f.l, cli, 5)
}

// A plain-mode client has no key to check a denial with: the threat model
// of plain mode (see the package doc) leaves it to a path attacker.
func TestPlainClientTakesDenialAtOnce(t *testing.T) {
	noLeaks(t)
	l := startServer(t, nil, ServerConfig{ProtocolID: 9, Version: 2})
	_, err := dialTest(t, l.addr(), ClientConfig{ProtocolID: 9, Version: 1, ConnectTimeout: time.Minute})
	var de *DeniedError
	require.True(t, errors.As(err, &de))
	assert.Equal(t, DenyVersionMismatch, de.Reason)
	assert.NotContains(t, err.Error(), "unauthenticated")
}
