package netcode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

func TestConnectExchangeClose(t *testing.T) {
	noLeaks(t)
	l := startServer(t, nil, ServerConfig{ProtocolID: 7, Version: 1})
	cli, err := dialTest(t, l.addr(), ClientConfig{ProtocolID: 7, Version: 1})
	require.NoError(t, err)
	assert.NotZero(t, cli.ID())

	var ev Event
	eventually(t, 2*time.Second, nil, func() bool {
		ok := false
		l.do(func(s *Server) { ev, ok = s.PollEvent() })
		return ok
	})
	assert.Equal(t, EventConnect, ev.Kind)
	assert.Equal(t, cli.ID(), ev.Client)

	_, err = cli.Send(0, []byte("hello server"))
	require.NoError(t, err)
	require.NoError(t, cli.Update(time.Now()))
	var got []byte
	eventually(t, 2*time.Second, nil, func() bool {
		l.do(func(s *Server) {
			if m, ok := s.ReadMessage(cli.ID(), 0); ok {
				got = append([]byte(nil), m...)
				_, err := s.Send(cli.ID(), 0, []byte("hello client"))
				require.NoError(t, err)
				s.Flush(time.Now())
			}
		})
		return got != nil
	})
	assert.Equal(t, "hello server", string(got))
	var back []byte
	eventually(t, 2*time.Second, func() { require.NoError(t, cli.Update(time.Now())) }, func() bool {
		m, ok := cli.ReadMessage(0)
		back = m
		return ok
	})
	assert.Equal(t, "hello client", string(back))

	require.NoError(t, cli.Close())
	assert.ErrorIs(t, cli.Close(), ErrClosed)
	assert.ErrorIs(t, cli.Update(time.Now()), ErrClosed)
	eventually(t, 2*time.Second, nil, func() bool {
		ok := false
		l.do(func(s *Server) { ev, ok = s.PollEvent() })
		return ok
	})
	assert.Equal(t, EventDisconnect, ev.Kind)
	assert.Equal(t, ReasonClosed, ev.Reason)
	l.close()
}

func TestDialDenied(t *testing.T) {
	noLeaks(t)
	l := startServer(t, nil, ServerConfig{ProtocolID: 7, Version: 3, MaxClients: 1})
	first, err := dialTest(t, l.addr(), ClientConfig{ProtocolID: 7, Version: 3})
	require.NoError(t, err)
	defer first.Close()

	tests := []struct {
		name   string
		cfg    ClientConfig
		want   error
		reason DenyReason
	}{
		{"server full", ClientConfig{ProtocolID: 7, Version: 3}, ErrServerFull, DenyServerFull},
		{"version mismatch", ClientConfig{ProtocolID: 7, Version: 4}, ErrVersionMismatch, DenyVersionMismatch},
		{"protocol mismatch", ClientConfig{ProtocolID: 8, Version: 3}, ErrProtocolMismatch, DenyProtocolMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dialTest(t, l.addr(), tt.cfg)
			require.ErrorIs(t, err, tt.want)
			var de *DeniedError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.reason, de.Reason)
		})
	}
	st := l.stats()
	assert.Equal(t, uint64(1), st.Refused[DenyServerFull])
	assert.Equal(t, uint64(1), st.Refused[DenyVersionMismatch])
	assert.Equal(t, 1, st.Connected)
}

func TestDialTimeout(t *testing.T) {
	noLeaks(t)
	silent := listenLoopback(t) // never answers
	defer silent.Close()
	start := time.Now()
	_, err := dialTest(t, silent.LocalAddr().(*net.UDPAddr).AddrPort(), ClientConfig{ConnectTimeout: 300 * time.Millisecond})
	require.ErrorIs(t, err, ErrTimeout)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
}

func TestTimeoutsBothSides(t *testing.T) {
	noLeaks(t)
	// Wall-clock bounds here are only those load cannot break: a timeout
	// never fires before its time (load only delays it), and keepalives
	// every timeout/4 keep an idle connection up even when the loop is
	// starved for a good part of the timeout.
	const timeout = time.Second
	l := startServer(t, nil, ServerConfig{Timeout: timeout})
	cli, err := dialTest(t, l.addr(), ClientConfig{Timeout: timeout})
	require.NoError(t, err)
	defer cli.Close()

	// Idle but alive: keepalives keep both sides up well past the timeout.
	end := time.Now().Add(3 * timeout)
	eventually(t, 5*timeout, func() { require.NoError(t, cli.Update(time.Now())) }, func() bool { return time.Now().After(end) })
	assert.Equal(t, 1, l.stats().Connected)

	// The client stops updating: the server times it out within the timeout
	// (plus one tick of the server loop and scheduling slack).
	stopped := time.Now()
	var ev Event
	eventually(t, 10*timeout, nil, func() bool {
		ok := false
		l.do(func(s *Server) { ev, ok = s.PollEvent() })
		return ok && ev.Kind == EventDisconnect
	})
	assert.Equal(t, ReasonTimeout, ev.Reason)
	elapsed := time.Since(stopped)
	// The client's last keepalive left at most timeout/4 before it stopped.
	assert.GreaterOrEqual(t, elapsed, timeout-timeout/4)

	// The timed-out client reconnects from the same address.
	addr := cli.LocalAddr().(*net.UDPAddr)
	require.NoError(t, cli.Close())
	pc, err := net.ListenUDP("udp4", addr)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	again, err := DialConn(ctx, pc, l.addr(), ClientConfig{Timeout: timeout})
	require.NoError(t, err)
	defer again.Close()
	eventually(t, time.Second, nil, func() bool {
		ok := false
		l.do(func(s *Server) { ev, ok = s.PollEvent() })
		return ok
	})
	assert.Equal(t, EventConnect, ev.Kind)
	assert.Equal(t, addr.AddrPort(), ev.Addr)

	// Client side: the server freezes (sends nothing); the client times out.
	release := make(chan struct{})
	frozen := make(chan struct{})
	go l.do(func(*Server) { close(frozen); <-release })
	<-frozen
	start := time.Now()
	var uerr error
	eventually(t, 10*timeout, func() { uerr = again.Update(time.Now()) }, func() bool { return uerr != nil })
	close(release)
	assert.ErrorIs(t, uerr, ErrTimeout)
	elapsed = time.Since(start)
	assert.GreaterOrEqual(t, elapsed, timeout-timeout/4)
}

func TestAckHooksBroadcastKickAndClose(t *testing.T) {
	noLeaks(t)
	type ack struct {
		client ClientID
		ch     int
		id     endpoint.MessageID
	}
	var srvAcks []ack // appended on the server goroutine, read through l.do
	l := startServer(t, nil, ServerConfig{OnMessageAcked: func(c ClientID, ch int, id endpoint.MessageID) {
		srvAcks = append(srvAcks, ack{c, ch, id})
	}})
	var cliAcks []ack
	a, err := dialTest(t, l.addr(), ClientConfig{OnMessageAcked: func(ch int, id endpoint.MessageID) { cliAcks = append(cliAcks, ack{0, ch, id}) }})
	require.NoError(t, err)
	defer a.Close()
	b, err := dialTest(t, l.addr(), ClientConfig{})
	require.NoError(t, err)
	defer b.Close()

	var sentID endpoint.MessageID
	l.do(func(s *Server) {
		require.Equal(t, []ClientID{a.ID(), b.ID()}, s.AppendClients(nil))
		require.NoError(t, s.Broadcast(0, []byte("to all")))
		berr := s.Broadcast(9, nil)
		require.ErrorIs(t, berr, ErrUnknownChannel)
		assert.EqualError(t, berr, fmt.Sprintf("netcode: broadcast to client %d: endpoint: unknown channel: 9 (have 4 channels)\n"+
			"netcode: broadcast to client %d: endpoint: unknown channel: 9 (have 4 channels)", a.ID(), b.ID()))
		sentID, err = s.Send(a.ID(), 2, []byte("latest state"))
		require.NoError(t, err)
		_, err = s.Send(999, 0, nil)
		require.ErrorIs(t, err, ErrUnknownClient)
	})
	cliID, err := a.Send(1, []byte("unreliable"))
	require.NoError(t, err)
	var gotA, gotB, gotState bool
	var nSrvAcks int
	eventually(t, 3*time.Second, func() {
		require.NoError(t, a.Update(time.Now()))
		require.NoError(t, b.Update(time.Now()))
		if m, ok := a.ReadMessage(0); ok {
			gotA = string(m) == "to all"
		}
		if m, ok := b.ReadMessage(0); ok {
			gotB = string(m) == "to all"
		}
		if m, ok := a.ReadMessage(2); ok {
			gotState = string(m) == "latest state"
		}
		l.do(func(*Server) { nSrvAcks = len(srvAcks) })
	}, func() bool {
		return gotA && gotB && gotState && nSrvAcks >= 3 && len(cliAcks) >= 1
	})
	l.do(func(*Server) {
		assert.Contains(t, srvAcks, ack{a.ID(), 2, sentID}, "unreliable-sequenced message acked")
		assert.Contains(t, srvAcks, ack{b.ID(), 0, 0})
	})
	assert.Contains(t, cliAcks, ack{0, 1, cliID})

	// Kick b: it learns why.
	l.do(func(s *Server) { require.NoError(t, s.Disconnect(b.ID())) })
	var berr error
	eventually(t, 2*time.Second, func() { berr = b.Update(time.Now()) }, func() bool { return berr != nil })
	var de *DisconnectError
	require.ErrorAs(t, berr, &de)
	assert.Equal(t, ReasonKicked, de.Reason)
	assert.ErrorIs(t, berr, ErrDisconnected)
	_, err = b.Send(0, nil)
	assert.ErrorIs(t, err, ErrDisconnected)

	// Close the server: a learns it shut down.
	l.close()
	var aerr error
	eventually(t, 2*time.Second, func() { aerr = a.Update(time.Now()) }, func() bool { return aerr != nil })
	require.ErrorAs(t, aerr, &de)
	assert.Equal(t, ReasonServerClosed, de.Reason)
	assert.ErrorIs(t, l.srv.Close(), ErrClosed)
}

func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name  string
		cfg   ServerConfig
		field string
	}{
		{"max clients", ServerConfig{MaxClients: -1}, "ServerConfig.MaxClients"},
		{"timeout", ServerConfig{Timeout: -time.Second}, "ServerConfig.Timeout"},
		{"keepalive above timeout", ServerConfig{Timeout: time.Second, KeepaliveInterval: 2 * time.Second}, "ServerConfig.KeepaliveInterval"},
		{"packet size", ServerConfig{Endpoint: endpoint.Config{MaxPacketSize: 1490}}, "ServerConfig.Endpoint.MaxPacketSize"},
		{"endpoint ack delay", ServerConfig{Endpoint: endpoint.Config{AckDelay: 2 * time.Second}},
			"netcode: invalid connection config: ServerConfig.Endpoint.AckDelay = 2s; allowed "},
		{"endpoint channel kind", ServerConfig{Endpoint: endpoint.Config{Channels: []endpoint.ChannelConfig{{Kind: 9}}}},
			"ServerConfig.Endpoint.Channels[0].Kind = 9"},
		{"endpoint channel count", ServerConfig{Endpoint: endpoint.Config{Channels: make([]endpoint.ChannelConfig, 128)}},
			"len(ServerConfig.Endpoint.Channels) = 128"},
		{"queue", ServerConfig{ReceiveQueue: -5}, "ServerConfig.ReceiveQueue"},
		{"disconnect packets", ServerConfig{DisconnectPackets: 100}, "ServerConfig.DisconnectPackets"},
		{"challenge lifetime", ServerConfig{ChallengeLifetime: time.Millisecond}, "ServerConfig.ChallengeLifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := listenLoopback(t)
			_, err := NewServer(pc, tt.cfg)
			pc.Close()
			require.ErrorIs(t, err, ErrInvalidConnConfig)
			assert.Contains(t, err.Error(), tt.field)
			assert.Equal(t, 1, strings.Count(err.Error(), "netcode: "), "one package prefix: %q", err)
			assert.NotContains(t, err.Error(), "endpoint: ", "one package prefix")
		})
	}
	_, err := DialConn(context.Background(), listenLoopback(t), netip.AddrPort{}, ClientConfig{})
	assert.ErrorIs(t, err, ErrInvalidConnConfig)
	_, err = DialConn(context.Background(), listenLoopback(t), netip.MustParseAddrPort("127.0.0.1:1"),
		ClientConfig{Endpoint: endpoint.Config{MaxMessageSize: -1}})
	require.ErrorIs(t, err, ErrInvalidConnConfig)
	assert.EqualError(t, err, "netcode: invalid connection config: ClientConfig.Endpoint.MaxMessageSize = -1; allowed 0 (default) or 1..16777216")
	_, err = DialConn(context.Background(), listenLoopback(t), netip.MustParseAddrPort("127.0.0.1:1"), ClientConfig{Timeout: -1})
	assert.ErrorIs(t, err, ErrInvalidConnConfig)
}

// TestEndpointConfigErrorOtherShape: an endpoint error that does not name a
// Config field is wrapped whole, after the field it came from.
func TestEndpointConfigErrorOtherShape(t *testing.T) {
	inner := errors.New("something else")
	err := endpointConfigError("ClientConfig", inner)
	assert.ErrorIs(t, err, ErrInvalidConnConfig)
	assert.ErrorIs(t, err, inner)
	assert.EqualError(t, err, "netcode: invalid connection config: ClientConfig.Endpoint: something else")
}

// TestInvalidTokenDeniedOnce: a token the client cannot decode is refused
// before anything is sent, with the netcode prefix once.
func TestInvalidTokenDeniedOnce(t *testing.T) {
	_, err := DialConn(context.Background(), listenLoopback(t), netip.MustParseAddrPort("127.0.0.1:1"),
		ClientConfig{Token: []byte{1, 2, 3}})
	require.ErrorIs(t, err, ErrTokenDenied)
	var de *DeniedError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, DenyTokenInvalid, de.Reason)
	assert.EqualError(t, err, fmt.Sprintf("netcode: connect token denied (token invalid): 3 bytes, want %d", PublicTokenSize))
}

func TestSendValue(t *testing.T) {
	noLeaks(t)
	type input struct {
		Tick  uint32
		Moves []int8
	}
	l := startServer(t, nil, ServerConfig{})
	cli, err := dialTest(t, l.addr(), ClientConfig{})
	require.NoError(t, err)
	defer cli.Close()
	_, err = cli.SendValue(0, input{Tick: 7, Moves: []int8{1, -1}})
	require.NoError(t, err)
	require.NoError(t, cli.Update(time.Now()))
	var got input
	eventually(t, 2*time.Second, nil, func() bool {
		ok := false
		l.do(func(s *Server) {
			ok, err = s.ReadValue(cli.ID(), 0, &got)
			require.NoError(t, err)
			_, err = s.ReadValue(12345, 0, &got)
			assert.ErrorIs(t, err, ErrUnknownClient)
		})
		return ok
	})
	assert.Equal(t, input{Tick: 7, Moves: []int8{1, -1}}, got)
}

// dropFirstDisconnects loses the first n disconnect packets written to it.
type dropFirstDisconnects struct {
	net.PacketConn
	n int
}

func (c *dropFirstDisconnects) WriteTo(p []byte, addr net.Addr) (int, error) {
	if len(p) > 0 && connPacketType(p[0]) == ptDisconnect && c.n > 0 {
		c.n--
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, addr)
}

func TestRedundantDisconnectSurvivesLoss(t *testing.T) {
	noLeaks(t)
	l := startServer(t, nil, ServerConfig{Timeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Three of the four disconnect copies are lost.
	pc := &dropFirstDisconnects{PacketConn: listenLoopback(t), n: DefaultDisconnectPackets - 1}
	cli, err := DialConn(ctx, pc, l.addr(), ClientConfig{})
	require.NoError(t, err)
	id := cli.ID()
	require.NoError(t, cli.Close())
	var ev Event
	eventually(t, 2*time.Second, nil, func() bool {
		ok := false
		l.do(func(s *Server) { ev, ok = s.PollEvent() })
		return ok && ev.Kind == EventDisconnect
	})
	assert.Equal(t, id, ev.Client)
	assert.Equal(t, ReasonClosed, ev.Reason, "the fourth copy arrived: no wait for the timeout")
}

func TestIPv6Loopback(t *testing.T) {
	noLeaks(t)
	pc, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	l := startServer(t, pc, ServerConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cli, err := Dial(ctx, l.srv.Addr().String(), ClientConfig{})
	require.NoError(t, err)
	defer cli.Close()
	assert.True(t, cli.RemoteAddr().Addr().Is6())
	_, err = cli.Send(0, []byte("over v6"))
	require.NoError(t, err)
	require.NoError(t, cli.Update(time.Now()))
	var got string
	eventually(t, 2*time.Second, nil, func() bool {
		l.do(func(s *Server) {
			if m, ok := s.ReadMessage(cli.ID(), 0); ok {
				got = string(m)
			}
		})
		return got != ""
	})
	assert.Equal(t, "over v6", got)
}

// TestDialConnectsTheSocket: Dial's socket is connected to the server, so a
// stranger's datagrams never reach the client (the kernel drops them) and
// the connection carries on; DialConn also accepts such a socket.
func TestDialConnectsTheSocket(t *testing.T) {
	noLeaks(t)
	l := startServer(t, nil, ServerConfig{ProtocolID: 7})
	defer l.close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	cli, err := Dial(ctx, l.addr().String(), ClientConfig{ProtocolID: 7})
	require.NoError(t, err)
	defer cli.Close()

	stranger := listenLoopback(t)
	defer stranger.Close()
	for range 10 {
		_, err := stranger.WriteTo([]byte{byte(ptPayload), 0, 0, 0, 0}, cli.LocalAddr())
		require.NoError(t, err)
	}
	// A round trip with the server after the stranger's datagrams were
	// sent: by then they would have been read.
	_, err = cli.Send(0, []byte("ping"))
	require.NoError(t, err)
	require.NoError(t, cli.Update(time.Now()))
	eventually(t, 2*time.Second, nil, func() bool {
		got := false
		l.do(func(s *Server) {
			if _, ok := s.ReadMessage(cli.ID(), 0); ok {
				got = true
				_, err := s.Send(cli.ID(), 0, []byte("pong"))
				require.NoError(t, err)
				s.Flush(time.Now())
			}
		})
		return got
	})
	eventually(t, 2*time.Second, func() { require.NoError(t, cli.Update(time.Now())) }, func() bool {
		_, ok := cli.ReadMessage(0)
		return ok
	})
	st := cli.ConnStats()
	assert.Zero(t, st.DropsUnknownAddr+st.DropsMalformed+st.DropsWrongConn, "stranger's datagrams reached the client: %+v", st)

	// DialConn over a socket the caller connected.
	ua := net.UDPAddrFromAddrPort(l.addr())
	pc, err := net.DialUDP("udp4", nil, ua)
	require.NoError(t, err)
	cli2, err := DialConn(ctx, pc, l.addr(), ClientConfig{ProtocolID: 7})
	require.NoError(t, err)
	assert.NotEqual(t, cli.ID(), cli2.ID())
	require.NoError(t, cli2.Close())
}

// TestSendInlineOrWriter: the server's datagrams arrive the same way
// whether a writer goroutine writes them (the default) or Update does
// (SendInline), they are counted, and Close's disconnects leave before the
// socket closes.
func TestSendInlineOrWriter(t *testing.T) {
	for _, inline := range []bool{false, true} {
		t.Run(fmt.Sprintf("SendInline=%v", inline), func(t *testing.T) {
			noLeaks(t)
			l := startServer(t, nil, ServerConfig{ProtocolID: 7, SendInline: inline})
			cli, err := dialTest(t, l.addr(), ClientConfig{ProtocolID: 7})
			require.NoError(t, err)
			defer cli.Close()
			const n = 100 // more than one batch
			l.do(func(s *Server) {
				for i := range n {
					_, err := s.Send(cli.ID(), 1, numberedMsg(i))
					require.NoError(t, err)
					s.Flush(time.Now()) // one datagram each
				}
			})
			var got []int
			eventually(t, 2*time.Second, func() { require.NoError(t, cli.Update(time.Now())) }, func() bool {
				for m, ok := cli.ReadMessage(1); ok; m, ok = cli.ReadMessage(1) {
					got = append(got, int(m[0])|int(m[1])<<8)
				}
				return len(got) == n
			})
			assert.True(t, slices.IsSorted(got), "datagrams reordered: %v", got)
			st := l.stats()
			assert.GreaterOrEqual(t, st.DatagramsSent, uint64(n))
			assert.Zero(t, st.SendErrors)

			l.close()
			eventually(t, 2*time.Second, nil, func() bool { return cli.Update(time.Now()) != nil })
			var de *DisconnectError
			require.ErrorAs(t, cli.Update(time.Now()), &de)
			assert.Equal(t, ReasonServerClosed, de.Reason)
		})
	}
}

func numberedMsg(i int) []byte { return []byte{byte(i), byte(i >> 8)} }
