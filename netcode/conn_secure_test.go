package netcode

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secureProtocol = 0x5ec0de

type secureFixture struct {
	key  [KeySize]byte
	l    *serverLoop
	rand seededReader
}

// newSecureFixture starts a secure-mode server on pc (a new loopback socket
// when nil); edit, if set, changes its config first.
func newSecureFixture(t *testing.T, pc net.PacketConn, edit ...func(*ServerConfig)) *secureFixture {
	f := &secureFixture{rand: newSeededReader(9)}
	var err error
	f.key, err = GenerateKey(f.rand)
	require.NoError(t, err)
	cfg := ServerConfig{ProtocolID: secureProtocol, TokenKey: &f.key}
	for _, e := range edit {
		e(&cfg)
	}
	f.l = startServer(t, pc, cfg)
	return f
}

func (f *secureFixture) token(t *testing.T, edit func(*ConnectToken)) []byte {
	tok := ConnectToken{
		ProtocolID:  secureProtocol,
		ClientID:    4242,
		Expires:     time.Now().Add(time.Minute),
		ServerAddrs: []netip.AddrPort{f.l.addr()},
		UserData:    []byte("team=blue"),
	}
	key := f.key
	if edit != nil {
		edit(&tok)
	}
	if tok.ProtocolID == 0 { // marker: seal with another key
		tok.ProtocolID = secureProtocol
		key = [KeySize]byte{0xee}
	}
	b, err := IssueConnectToken(key, tok, f.rand)
	require.NoError(t, err)
	return b
}

func TestSecureConnect(t *testing.T) {
	noLeaks(t)
	f := newSecureFixture(t, nil)
	tok := f.token(t, nil)
	cli, err := dialTest(t, f.l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: tok})
	require.NoError(t, err)
	defer cli.Close()
	assert.Equal(t, ClientID(4242), cli.ID(), "the id comes from the token")
	f.l.do(func(s *Server) {
		info, ok := s.Client(4242)
		require.True(t, ok)
		assert.Equal(t, "team=blue", string(info.UserData))
	})

	// A second client with the same token (and keys) from another address
	// does not take the connected client id over: it is ignored until the
	// first connection has ended.
	_, err = dialTest(t, f.l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: tok, ConnectTimeout: time.Second})
	require.ErrorIs(t, err, ErrTimeout, "ignored, not denied: a replay learns nothing")
	require.NoError(t, cli.Update(time.Now()), "the first client is still connected")
	st := f.l.stats()
	assert.NotZero(t, st.Refused[RefuseTokenInUse])
	assert.Equal(t, uint64(1), st.Accepted)

	// Once it has ended, the token's holder connects again from a new
	// address (a NAT rebinding after the old connection timed out).
	require.NoError(t, cli.Close())
	eventually(t, 5*time.Second, nil, func() bool { return f.l.stats().Connected == 0 })
	again, err := dialTest(t, f.l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: tok})
	require.NoError(t, err)
	defer again.Close()
	assert.Equal(t, ClientID(4242), again.ID())
	assert.NotEqual(t, cli.LocalAddr().String(), again.LocalAddr().String())
}

func TestSecureTokenRefused(t *testing.T) {
	noLeaks(t)
	f := newSecureFixture(t, nil)
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	// A denial the server cannot seal (the token did not open) could be
	// anyone's: the client keeps trying and returns it when ConnectTimeout
	// passes without an accept. The sealed ones end Dial at once.
	tests := []struct {
		name   string
		token  func() []byte
		clock  func() time.Time
		reason DenyReason
	}{
		{"token for another server", func() []byte {
			return f.token(t, func(c *ConnectToken) { c.ServerAddrs = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")} })
		}, nil, DenyTokenWrongServer},
		// The client's clock is an hour late, so only the server sees the expiry.
		{"expired token", func() []byte {
			return f.token(t, func(c *ConnectToken) { c.Expires = time.Now().Add(-time.Minute) })
		}, past, DenyTokenExpired},
		{"tampered token", func() []byte {
			b := f.token(t, nil)
			b[100] ^= 1 // inside the sealed part
			return b
		}, nil, DenyTokenInvalid},
		{"token sealed with another key", func() []byte {
			return f.token(t, func(c *ConnectToken) { c.ProtocolID = 0 })
		}, nil, DenyTokenInvalid},
		{"no token", func() []byte { return nil }, nil, DenyTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dialTest(t, f.l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: tt.token(), Clock: tt.clock,
				ConnectTimeout: 2 * time.Second})
			require.ErrorIs(t, err, ErrTokenDenied)
			var de *DeniedError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.reason, de.Reason)
		})
	}
	st := f.l.stats()
	assert.Equal(t, uint64(1), st.Refused[DenyTokenWrongServer])
	assert.Equal(t, uint64(1), st.Refused[DenyTokenExpired])
	// Once for "no token" (a plain client takes the plain denial at once),
	// at least once for each of the two that retry.
	assert.GreaterOrEqual(t, st.Refused[DenyTokenInvalid], uint64(3))
	assert.Zero(t, st.Connected)

	t.Run("expired on the client's clock", func(t *testing.T) {
		tok := f.token(t, func(c *ConnectToken) { c.Expires = time.Now().Add(-time.Minute) })
		_, err := dialTest(t, f.l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: tok})
		require.ErrorIs(t, err, ErrTokenDenied)
	})
	t.Run("token for another protocol", func(t *testing.T) {
		_, err := dialTest(t, f.l.addr(), ClientConfig{ProtocolID: secureProtocol + 1, Token: f.token(t, nil)})
		require.ErrorIs(t, err, ErrTokenDenied)
	})
}

// tamperConn sends every payload packet three times: first with its last
// byte flipped (tampered), then as is, then again (a replay).
type tamperConn struct {
	net.PacketConn
	tampered, replayed atomic.Uint64
}

func (c *tamperConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if len(p) > connHeaderSize && connPacketType(p[0]) == ptPayload {
		bad := append([]byte(nil), p...)
		bad[len(bad)-1] ^= 0x01
		if _, err := c.PacketConn.WriteTo(bad, addr); err == nil {
			c.tampered.Add(1)
		}
		if _, err := c.PacketConn.WriteTo(p, addr); err != nil {
			return 0, err
		}
		c.replayed.Add(1)
	}
	return c.PacketConn.WriteTo(p, addr)
}

func TestSecureTamperedAndReplayedPacketsDropped(t *testing.T) {
	noLeaks(t)
	srvConn := &tamperConn{PacketConn: listenLoopback(t)}
	f := newSecureFixture(t, srvConn)
	cliConn := &tamperConn{PacketConn: listenLoopback(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cli, err := DialConn(ctx, cliConn, f.l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: f.token(t, nil)})
	require.NoError(t, err)
	defer cli.Close()

	const n = 50
	sent := 0
	var srvGot, cliGot []byte
	eventually(t, 5*time.Second, func() {
		if sent < n { // one message per tick: many packets to tamper with
			_, err := cli.Send(0, []byte{byte(sent)})
			require.NoError(t, err)
			f.l.do(func(s *Server) {
				_, err := s.Send(cli.ID(), 0, []byte{byte(sent)})
				require.NoError(t, err)
				s.Flush(time.Now())
			})
			sent++
		}
		require.NoError(t, cli.Update(time.Now()))
		for m, ok := cli.ReadMessage(0); ok; m, ok = cli.ReadMessage(0) {
			cliGot = append(cliGot, m...)
		}
		f.l.do(func(s *Server) {
			for m, ok := s.ReadMessage(cli.ID(), 0); ok; m, ok = s.ReadMessage(cli.ID(), 0) {
				srvGot = append(srvGot, m...)
			}
		})
	}, func() bool { return len(srvGot) == n && len(cliGot) == n })
	want := make([]byte, n)
	for k := range want {
		want[k] = byte(k)
	}
	assert.Equal(t, want, srvGot, "every message once, in order, despite tampered and replayed copies")
	assert.Equal(t, want, cliGot)

	// Let the last copies arrive on both sides: every one of the n
	// messages went out in a packet that was also tampered with and
	// replayed.
	eventually(t, 2*time.Second, func() { require.NoError(t, cli.Update(time.Now())) }, func() bool {
		st, cs := f.l.stats(), cli.ConnStats()
		return st.DropsAuth >= n && st.DropsReplayed >= n && cs.DropsAuth >= n && cs.DropsReplayed >= n
	})
	st := f.l.stats()
	assert.GreaterOrEqual(t, st.DropsAuth, uint64(n))
	assert.GreaterOrEqual(t, st.DropsReplayed, uint64(n))
	assert.Zero(t, st.DropsEndpoint, "no tampered or replayed packet reached the endpoint")
	cs := cli.ConnStats()
	assert.GreaterOrEqual(t, cs.DropsAuth, uint64(n))
	assert.GreaterOrEqual(t, cs.DropsReplayed, uint64(n))
	assert.Zero(t, cs.DropsEndpoint)
	t.Logf("server dropped %d tampered and %d replayed; client %d and %d", st.DropsAuth, st.DropsReplayed, cs.DropsAuth, cs.DropsReplayed)
}

func TestSecureClientToInsecureServer(t *testing.T) {
	noLeaks(t)
	l := startServer(t, nil, ServerConfig{ProtocolID: secureProtocol})
	tok, err := IssueConnectToken([KeySize]byte{1}, ConnectToken{ProtocolID: secureProtocol, Expires: time.Now().Add(time.Minute),
		ServerAddrs: []netip.AddrPort{l.addr()}}, newSeededReader(4))
	require.NoError(t, err)
	// The server has no key to seal its denial with: the client returns it
	// once ConnectTimeout has passed without an accept.
	_, err = dialTest(t, l.addr(), ClientConfig{ProtocolID: secureProtocol, Token: tok, ConnectTimeout: 2 * time.Second})
	assert.ErrorIs(t, err, ErrProtocolMismatch, "a sealed client cannot talk to a server in the clear")
	assert.ErrorContains(t, err, "unauthenticated")
}
