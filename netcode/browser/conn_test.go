package browser

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// newTestConn returns a Conn over one end of a netsim pipe (its UDP
// side) and the other end, a native client's socket.
func newTestConn(t *testing.T, cfg Config) (*Conn, *netsim.PipeConn) {
	t.Helper()
	a, b := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	c := NewConn(a, cfg)
	t.Cleanup(func() { _ = c.Close(); _ = b.Close() })
	return c, b
}

func readOne(t *testing.T, c *Conn) ([]byte, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 2048)
	n, from, err := c.ReadFrom(buf)
	require.NoError(t, err)
	ua, ok := from.(*net.UDPAddr)
	require.True(t, ok, "address type %T", from)
	return buf[:n], ua.AddrPort()
}

func TestConnSessionsAreDistinctAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, native := newTestConn(t, Config{})
		s1, s2 := newPipeSession(), newPipeSession()
		a1, err := c.AddSession(s1, "")
		require.NoError(t, err)
		a2, err := c.AddSession(s2, "")
		require.NoError(t, err)
		assert.NotEqual(t, a1.String(), a2.String())
		assert.True(t, IsSessionAddr(a1.(*net.UDPAddr).AddrPort()), "session address %v in 100::/64", a1)

		s1.toServer <- []byte("one")
		b, from := readOne(t, c)
		assert.Equal(t, "one", string(b))
		assert.Equal(t, a1.(*net.UDPAddr).AddrPort(), from)
		s2.toServer <- []byte("two")
		b, from = readOne(t, c)
		assert.Equal(t, "two", string(b))
		assert.Equal(t, a2.(*net.UDPAddr).AddrPort(), from)

		// UDP passes through with its own address.
		_, err = native.WriteTo([]byte("udp"), nil)
		require.NoError(t, err)
		b, from = readOne(t, c)
		assert.Equal(t, "udp", string(b))
		assert.Equal(t, native.LocalAddr().(*net.UDPAddr).AddrPort(), from)

		// Writes go to the session of the address, or to the socket.
		_, err = c.WriteTo([]byte("to-two"), a2)
		require.NoError(t, err)
		assert.Equal(t, "to-two", string(<-s2.toClient))
		assert.Empty(t, s1.toClient)
		_, err = c.WriteTo([]byte("to-udp"), native.LocalAddr())
		require.NoError(t, err)
		buf := make([]byte, 64)
		n, _, err := native.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "to-udp", string(buf[:n]))

		st := c.Stats()
		assert.Equal(t, uint64(2), st.SessionsOpened)
		assert.Equal(t, 2, st.Open)
		assert.Equal(t, uint64(2), st.DatagramsIn)
		assert.Equal(t, uint64(1), st.DatagramsOut)
	})
}

func TestConnEndedSessionIsMarked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newTestConn(t, Config{})
		s := newPipeSession()
		a, err := c.AddSession(s, "")
		require.NoError(t, err)
		ap := a.(*net.UDPAddr).AddrPort()
		assert.False(t, c.SessionEnded(ap), "an open session has not ended")

		s.end() // the page went away
		b, from := readOne(t, c)
		assert.Empty(t, b, "the end marker has no bytes")
		assert.Equal(t, ap, from)
		assert.True(t, c.SessionEnded(ap))
		assert.True(t, c.SessionEnded(ap), "still remembered")
		assert.False(t, c.SessionEnded(sessionAddr(99)), "a session that never was")
		assert.False(t, c.SessionEnded(netip.MustParseAddrPort("127.0.0.1:1")), "a UDP address")
		assert.Equal(t, int32(1), s.closes.Load(), "the session was closed")

		_, err = c.WriteTo([]byte("late"), a)
		assert.ErrorIs(t, err, ErrSessionEnded)
		st := c.Stats()
		assert.Equal(t, uint64(1), st.SessionsEnded)
		assert.Zero(t, st.Open)
	})
}

func TestConnBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newTestConn(t, Config{MaxSessions: 2, SessionQueue: 4, MaxDatagramSize: 100})
		s1, s2 := newPipeSession(), newPipeSession()
		_, err := c.AddSession(s1, "")
		require.NoError(t, err)
		_, err = c.AddSession(s2, "")
		require.NoError(t, err)
		_, err = c.AddSession(newPipeSession(), "")
		assert.ErrorIs(t, err, ErrTooManySessions)
		assert.ErrorContains(t, err, "MaxSessions is 2")

		// A flooding session gets SessionQueue datagrams queued, no more:
		// the other session's datagram still finds room.
		for range 10 {
			s1.toServer <- []byte("flood")
		}
		s1.toServer <- []byte{}          // empty: malformed
		s1.toServer <- make([]byte, 101) // oversized: malformed
		synctest.Wait()
		s2.toServer <- []byte("fair")
		synctest.Wait()
		st := c.Stats()
		assert.Equal(t, uint64(6), st.DropsSessionQueue, "datagrams past the session's queue")
		assert.Equal(t, uint64(2), st.DropsMalformed, "empty and oversized datagrams")
		assert.Equal(t, uint64(1), st.SessionsRefused)
		got := map[string]int{}
		for range 5 {
			b, _ := readOne(t, c)
			got[string(b)]++
		}
		assert.Equal(t, map[string]int{"flood": 4, "fair": 1}, got)
	})
}

// spoofConn is a UDP side that delivers one datagram from a session
// address, then one from a real one, then blocks until closed.
type spoofConn struct {
	net.PacketConn
	reads chan struct {
		b    []byte
		from *net.UDPAddr
	}
	closed chan struct{}
}

func (s *spoofConn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case r := <-s.reads:
		return copy(p, r.b), r.from, nil
	case <-s.closed:
		return 0, nil, net.ErrClosed
	}
}

func (s *spoofConn) Close() error { close(s.closed); return nil }

func TestConnDropsUDPFromSessionAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := &spoofConn{reads: make(chan struct {
			b    []byte
			from *net.UDPAddr
		}, 2), closed: make(chan struct{})}
		c := NewConn(sc, Config{})
		defer c.Close()
		sc.reads <- struct {
			b    []byte
			from *net.UDPAddr
		}{[]byte("spoof"), net.UDPAddrFromAddrPort(sessionAddr(1))}
		sc.reads <- struct {
			b    []byte
			from *net.UDPAddr
		}{[]byte("real"), &net.UDPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 9}}
		b, _ := readOne(t, c)
		assert.Equal(t, "real", string(b))
		assert.Equal(t, uint64(1), c.Stats().DropsSpoofed)
	})
}

func TestConnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newTestConn(t, Config{})
		s := newPipeSession()
		_, err := c.AddSession(s, "")
		require.NoError(t, err)
		read := make(chan error, 1)
		go func() {
			_, _, err := c.ReadFrom(make([]byte, 10))
			read <- err
		}()
		synctest.Wait()
		require.NoError(t, c.Close())
		assert.ErrorIs(t, <-read, net.ErrClosed)
		assert.Equal(t, int32(1), s.closes.Load(), "Close closes the sessions")
		_, err = c.AddSession(newPipeSession(), "")
		assert.ErrorIs(t, err, net.ErrClosed)
	})
}

// TestServerDropsEndedSessionAtOnce: a netcode server over a Conn serves a
// browser session like a UDP client, and ends its connection as soon as the
// session ends (ReasonClosed), long before the timeout.
func TestServerDropsEndedSessionAtOnce(t *testing.T) {
	t.Run("direct", func(t *testing.T) { testServerDropsEndedSession(t, false) })
	// A link conditioner between the server and the Conn (the demo's -loss
	// flags) is looked through (netsim.Conn.Unwrap).
	t.Run("through netsim", func(t *testing.T) { testServerDropsEndedSession(t, true) })
}

func testServerDropsEndedSession(t *testing.T, conditioned bool) {
	synctest.Test(t, func(t *testing.T) {
		c, native := newTestConn(t, Config{})
		var pc net.PacketConn = c
		if conditioned {
			link := netsim.Config{Latency: 5 * time.Millisecond}
			pc = netsim.WrapDuplex(c, link, link, 1)
		}
		srv, err := netcode.NewServer(pc, netcode.ServerConfig{ProtocolID: 7, SendInline: true})
		require.NoError(t, err)
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		loopDone := make(chan struct{})
		go func() { // the game loop, while the clients connect
			defer close(loopDone)
			for ctx.Err() == nil {
				srv.Update(time.Now())
				time.Sleep(10 * time.Millisecond)
			}
		}()
		defer func() { cancel(); <-loopDone }()

		s := newPipeSession()
		addr, err := c.AddSession(s, "")
		require.NoError(t, err)
		cl, err := netcode.DialConn(ctx, s.client(), clientServerAddr.AddrPort(), netcode.ClientConfig{ProtocolID: 7})
		require.NoError(t, err, "a browser client connects through its session")
		defer cl.Close()
		la := c.LocalAddr().(*net.UDPAddr).AddrPort()
		nat, err := netcode.DialConn(ctx, native, netip.AddrPortFrom(la.Addr().Unmap(), la.Port()), netcode.ClientConfig{ProtocolID: 7})
		require.NoError(t, err, "a native client connects to the same server")
		defer nat.Close()
		cancel()
		<-loopDone
		synctest.Wait()

		events := func() []netcode.Event {
			var evs []netcode.Event
			for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
				evs = append(evs, ev)
			}
			return evs
		}
		evs := events()
		require.Len(t, evs, 2)
		assert.Equal(t, addr.(*net.UDPAddr).AddrPort(), evs[0].Addr, "the session's connection has its address")

		began := time.Now()
		s.end()                           // the tab closed
		time.Sleep(20 * time.Millisecond) // the conditioned link's delay
		synctest.Wait()
		srv.Update(time.Now())
		evs = events()
		require.Len(t, evs, 1, "one disconnect")
		assert.Equal(t, netcode.EventDisconnect, evs[0].Kind)
		assert.Equal(t, netcode.ReasonClosed, evs[0].Reason)
		assert.Equal(t, addr.(*net.UDPAddr).AddrPort(), evs[0].Addr)
		assert.Less(t, time.Since(began), netcode.DefaultTimeout, "no timeout waited for")
		assert.Equal(t, 1, srv.Stats().Connected, "the native client stays")
		assert.Zero(t, srv.Stats().DropsMalformed, "the end marker is not counted as malformed")
	})
}

// TestSessionCannotAmplify: before a handshake completes, what a session
// makes the server send is smaller than what it sent (the connection
// layer's per-address rule holds for a session, one address).
func TestSessionCannotAmplify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Capture a real handshake request.
		req := make(chan []byte, 1)
		capture := newPipeSession()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		go func() {
			_, _ = netcode.DialConn(ctx, capture.client(), clientServerAddr.AddrPort(), netcode.ClientConfig{ProtocolID: 7})
		}()
		req <- <-capture.toServer
		cancel()
		synctest.Wait()

		c, _ := newTestConn(t, Config{})
		srv, err := netcode.NewServer(c, netcode.ServerConfig{ProtocolID: 7, SendInline: true})
		require.NoError(t, err)
		defer srv.Close()
		s := newPipeSession()
		_, err = c.AddSession(s, "")
		require.NoError(t, err)
		r := <-req
		var in uint64
		for range 50 { // replayed, never answered with a response
			s.toServer <- r
			in += uint64(len(r))
			synctest.Wait()
			srv.Update(time.Now())
			time.Sleep(5 * time.Millisecond)
		}
		out := s.sent.Load()
		assert.Positive(t, out, "the server answered with challenges")
		assert.Less(t, out, in, "bytes sent to the session before its handshake completed (received %d)", in)
		assert.Zero(t, srv.Stats().Connected)
	})
}

// TestSessionSecureMode: a browser player connects with a connect token,
// like a native one; the token is bound to the session's address.
func TestSessionSecureMode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		key, err := netcode.GenerateKey(rand.Reader)
		require.NoError(t, err)
		c, _ := newTestConn(t, Config{})
		srv, err := netcode.NewServer(c, netcode.ServerConfig{ProtocolID: 7, TokenKey: &key, SendInline: true})
		require.NoError(t, err)
		defer srv.Close()
		la := c.LocalAddr().(*net.UDPAddr).AddrPort()
		tok, err := netcode.IssueConnectToken(key, netcode.ConnectToken{
			ProtocolID: 7, ClientID: 42, Expires: time.Now().Add(time.Minute),
			ServerAddrs: []netip.AddrPort{netip.AddrPortFrom(la.Addr().Unmap(), la.Port())},
			UserData:    []byte("browser"),
		}, rand.Reader)
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(context.Background())
		loopDone := make(chan struct{})
		go func() {
			defer close(loopDone)
			for ctx.Err() == nil {
				srv.Update(time.Now())
				time.Sleep(10 * time.Millisecond)
			}
		}()
		s := newPipeSession()
		addr, err := c.AddSession(s, "")
		require.NoError(t, err)
		cl, err := netcode.DialConn(ctx, s.client(), clientServerAddr.AddrPort(), netcode.ClientConfig{ProtocolID: 7, Token: tok})
		require.NoError(t, err, "a browser player connects with a token")
		defer cl.Close()
		cancel()
		<-loopDone
		ev, ok := srv.PollEvent()
		require.True(t, ok)
		assert.Equal(t, netcode.EventConnect, ev.Kind)
		assert.Equal(t, addr.(*net.UDPAddr).AddrPort(), ev.Addr)
		info, ok := srv.Client(ev.Client)
		require.True(t, ok)
		assert.Equal(t, netcode.ClientID(42), info.ID)
		assert.Equal(t, []byte("browser"), info.UserData)
	})
}

func TestConnSessionsPerIP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newTestConn(t, Config{SessionsPerIP: 2})
		s1, s2 := newPipeSession(), newPipeSession()
		_, err := c.AddSession(s1, "192.0.2.7:1000")
		require.NoError(t, err)
		_, err = c.AddSession(s2, "[::ffff:192.0.2.7]:1001")
		require.NoError(t, err)
		_, err = c.AddSession(newPipeSession(), "192.0.2.7:1002")
		assert.ErrorIs(t, err, ErrTooManySessions)
		assert.ErrorContains(t, err, "from 192.0.2.7, Config.SessionsPerIP is 2")
		_, err = c.AddSession(newPipeSession(), "192.0.2.8:1000")
		assert.NoError(t, err, "another host")

		s1.end() // a place from that host frees
		_, _ = readOne(t, c)
		_, err = c.AddSession(newPipeSession(), "192.0.2.7:1003")
		assert.NoError(t, err)
		assert.Equal(t, uint64(1), c.Stats().SessionsRefused)
	})
}

func TestConnEndsSilentSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newTestConn(t, Config{SessionIdle: time.Second})
		silent, talking := newPipeSession(), newPipeSession()
		a, err := c.AddSession(silent, "")
		require.NoError(t, err)
		_, err = c.AddSession(talking, "")
		require.NoError(t, err)
		ended := make(chan netip.AddrPort, 1)
		go func() {
			buf := make([]byte, 64)
			for {
				n, from, err := c.ReadFrom(buf)
				if err != nil {
					return
				}
				if n == 0 {
					ended <- from.(*net.UDPAddr).AddrPort()
				}
			}
		}()
		start := time.Now()
		for range 25 { // 2.5 s of keepalives from one of them
			talking.toServer <- []byte("keepalive")
			time.Sleep(100 * time.Millisecond)
		}
		select {
		case got := <-ended:
			assert.Equal(t, a.(*net.UDPAddr).AddrPort(), got, "the silent session ended")
		default:
			t.Fatal("the silent session did not end")
		}
		assert.Equal(t, int32(1), silent.closes.Load())
		assert.Zero(t, talking.closes.Load(), "the talking session stays")
		st := c.Stats()
		assert.Equal(t, uint64(1), st.SessionsIdle)
		assert.Equal(t, 1, st.Open)
		assert.Less(t, time.Since(start), 3*time.Second)
	})
}
