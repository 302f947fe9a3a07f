package netcode

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// serverLoop runs a Server's Update loop on its own goroutine, the way a
// game's tick loop would, and runs test code on that goroutine with do.
type serverLoop struct {
	t     testing.TB
	srv   *Server
	calls chan func()
	stop  chan struct{}
	done  chan struct{}
	tick  time.Duration
}

func startServer(t testing.TB, pc net.PacketConn, cfg ServerConfig) *serverLoop {
	t.Helper()
	if pc == nil {
		pc = listenLoopback(t)
	}
	srv, err := NewServer(pc, cfg)
	require.NoError(t, err)
	l := &serverLoop{t: t, srv: srv, calls: make(chan func()), stop: make(chan struct{}), done: make(chan struct{}), tick: 2 * time.Millisecond}
	go l.run()
	t.Cleanup(l.close)
	return l
}

func (l *serverLoop) run() {
	defer close(l.done)
	ticker := time.NewTicker(l.tick)
	defer ticker.Stop()
	for {
		select {
		case <-l.stop:
			_ = l.srv.Close()
			return
		case f := <-l.calls:
			f()
		case <-l.srv.Wake():
			l.srv.Update(time.Now())
		case <-ticker.C:
			l.srv.Update(time.Now())
		}
	}
}

// do runs f on the server's goroutine and waits for it.
func (l *serverLoop) do(f func(s *Server)) {
	ch := make(chan struct{})
	select {
	case l.calls <- func() { f(l.srv); close(ch) }:
		<-ch
	case <-l.done:
		l.t.Fatal("server loop already stopped")
	}
}

func (l *serverLoop) close() {
	select {
	case <-l.done:
		return
	default:
	}
	close(l.stop)
	<-l.done
}

func (l *serverLoop) addr() netip.AddrPort {
	return l.srv.Addr().(*net.UDPAddr).AddrPort()
}

func (l *serverLoop) stats() (st ServerStats) {
	l.do(func(s *Server) { st = s.Stats() })
	return st
}

// eventually calls step until cond holds, at most for d.
func eventually(t testing.TB, d time.Duration, step func(), cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	for {
		if step != nil {
			step()
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "condition not met in time", msgAndArgs...)
		}
		<-ticker.C
	}
}

func dialTest(t testing.TB, srv netip.AddrPort, cfg ClientConfig) (*Client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return DialConn(ctx, listenLoopback(t), srv, cfg)
}

// noLeaks checks, after every other cleanup of t, that t left no goroutine.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}
