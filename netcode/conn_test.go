package netcode

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Equal(t, uint64(1), st.Denied[DenyServerFull])
	assert.Equal(t, uint64(1), st.Denied[DenyVersionMismatch])
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
	const timeout = 400 * time.Millisecond
	const slack = 300 * time.Millisecond // one tick, scheduling, and -race on a loaded 2-core machine
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
	eventually(t, 3*timeout, nil, func() bool {
		ok := false
		l.do(func(s *Server) { ev, ok = s.PollEvent() })
		return ok && ev.Kind == EventDisconnect
	})
	assert.Equal(t, ReasonTimeout, ev.Reason)
	elapsed := time.Since(stopped)
	assert.Less(t, elapsed, timeout+slack)
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
	eventually(t, 3*timeout, func() { uerr = again.Update(time.Now()) }, func() bool { return uerr != nil })
	close(release)
	assert.ErrorIs(t, uerr, ErrTimeout)
	elapsed = time.Since(start)
	assert.Less(t, elapsed, timeout+slack)
	assert.GreaterOrEqual(t, elapsed, timeout-timeout/4)
}
