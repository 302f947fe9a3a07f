package netsim

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The fake addresses of the two ends of a [Pipe], from TEST-NET-1
// (RFC 5737), so they can never collide with a real peer.
var (
	pipeAddrA = net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 10001}
	pipeAddrB = net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 10002}
)

// PipeConn is one end of an in-memory datagram pipe made by [Pipe]. It
// implements [net.PacketConn]; what it writes goes through its own [Link]
// to the other end.
//
// A PipeConn is safe for concurrent use. It uses only time.Now, timers and
// channels, so a pipe created inside a testing/synctest bubble runs its
// latencies in fake time; create and use it in the same bubble.
type PipeConn struct {
	local, remote *net.UDPAddr
	out           *Link     // carries what this end writes
	in            *inbox    // reads what the peer writes (the peer's out)
	peer          *PipeConn // the other end
	isClosed      atomic.Bool
	closeOnce     sync.Once
	wd            *deadline
}

var _ net.PacketConn = (*PipeConn)(nil)

// Pipe returns the two ends of an in-memory connected datagram pipe. a
// conditions what the first end writes (first → second), b what the second
// writes (second → first); both directions draw from generators derived from
// seed. Each end has a fixed fake UDP address (192.0.2.1:10001 and
// 192.0.2.2:10002); ReadFrom reports the other end's and WriteTo accepts
// only it (or nil).
//
// Pipe panics if a or b is invalid (see [Config.Validate]): the configs of a
// test are fixed, so this is a programming error.
func Pipe(a, b Config, seed uint64) (*PipeConn, *PipeConn) {
	ab, err := NewLink(a, mixSeed(seed, 1))
	if err != nil {
		panic(err)
	}
	ba, err := NewLink(b, mixSeed(seed, 2))
	if err != nil {
		panic(err)
	}
	ca := newPipeConn(&pipeAddrA, &pipeAddrB, ab, ba)
	cb := newPipeConn(&pipeAddrB, &pipeAddrA, ba, ab)
	ca.peer, cb.peer = cb, ca
	return ca, cb
}

func newPipeConn(local, remote *net.UDPAddr, out, in *Link) *PipeConn {
	return &PipeConn{local: local, remote: remote, out: out, in: newInbox(in), wd: newDeadline()}
}

// mixSeed derives independent seeds for the parts of one simulation
// (a SplitMix64 step).
func mixSeed(seed, n uint64) uint64 {
	z := seed + n*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Link returns the link that carries what this end writes, to read its
// counters or change its conditions while the pipe runs.
func (c *PipeConn) Link() *Link { return c.out }

// SetConfig changes the conditions of what this end writes.
func (c *PipeConn) SetConfig(cfg Config) error { return c.out.SetConfig(cfg) }

// Stats returns the counters of what this end writes.
func (c *PipeConn) Stats() Stats { return c.out.Stats() }

// ReadFrom reads the next datagram that has arrived, waiting for one until
// the read deadline. A datagram longer than p is truncated, as with UDP.
// addr is always the other end's address (a shared value: do not modify it).
func (c *PipeConn) ReadFrom(p []byte) (n int, addr net.Addr, err error) {
	n, _, err = c.in.read(p)
	if err != nil {
		return 0, nil, c.opError("read", nil, err)
	}
	return n, c.remote, nil
}

// WriteTo sends p to the other end through this end's link. addr must be
// the other end's address or nil. Like UDP, a write never blocks: what the
// link cannot hold is dropped and counted, and writing to a closed other
// end succeeds and goes nowhere.
func (c *PipeConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.isClosed.Load() {
		return 0, c.opError("write", addr, net.ErrClosed)
	}
	if isClosed(c.wd.wait()) {
		return 0, c.opError("write", addr, os.ErrDeadlineExceeded)
	}
	if addr != nil && !sameAddr(addr, c.remote) {
		return 0, c.opError("write", addr, errNoRoute)
	}
	if c.peer.isClosed.Load() {
		return len(p), nil
	}
	if c.out.send(time.Now(), p, nil) {
		c.peer.in.signal()
	}
	return len(p), nil
}

// errNoRoute is returned by WriteTo for an address other than the peer's.
var errNoRoute = &net.AddrError{Err: "netsim: pipe: no route to address (only the other end of the pipe is reachable)"}

func sameAddr(a net.Addr, want *net.UDPAddr) bool {
	if u, ok := a.(*net.UDPAddr); ok {
		return u == want || (u.Port == want.Port && u.IP.Equal(want.IP) && u.Zone == want.Zone)
	}
	return a.Network() == want.Network() && a.String() == want.String()
}

func (c *PipeConn) opError(op string, addr net.Addr, err error) error {
	e := &net.OpError{Op: op, Net: "udp", Source: c.local, Err: err}
	if addr != nil {
		e.Addr = addr
	} else if op == "write" {
		e.Addr = c.remote
	}
	return e
}

// Close closes this end: blocked and later reads and writes fail with an
// error wrapping net.ErrClosed. The other end stays open; what it writes is
// discarded. Close is idempotent.
func (c *PipeConn) Close() error {
	c.closeOnce.Do(func() {
		c.isClosed.Store(true)
		c.in.close()
		c.wd.stop()
	})
	return nil
}

// LocalAddr returns this end's fake address.
func (c *PipeConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the other end's fake address.
func (c *PipeConn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets both the read and the write deadline.
func (c *PipeConn) SetDeadline(t time.Time) error {
	if c.isClosed.Load() {
		return c.opError("set", nil, net.ErrClosed)
	}
	c.in.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline makes ReadFrom fail, once t has passed, with an error
// that satisfies errors.Is(err, os.ErrDeadlineExceeded) and whose Timeout
// method reports true. The zero time means no deadline.
func (c *PipeConn) SetReadDeadline(t time.Time) error {
	if c.isClosed.Load() {
		return c.opError("set", nil, net.ErrClosed)
	}
	c.in.rd.set(t)
	return nil
}

// SetWriteDeadline makes WriteTo fail once t has passed (writes never
// block, so it only matters for a deadline already in the past).
func (c *PipeConn) SetWriteDeadline(t time.Time) error {
	if c.isClosed.Load() {
		return c.opError("set", nil, net.ErrClosed)
	}
	c.wd.set(t)
	return nil
}
