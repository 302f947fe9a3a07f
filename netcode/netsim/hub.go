package netsim

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Hub is an in-memory network for one server and many clients: the server
// reads and writes on the Hub (a net.PacketConn), and each client gets its
// own Pipe to it from Dial, with its own link conditions and its own fake
// address. It is the in-memory counterpart of a server's UDP socket, for
// tests of a game with several players (a Pipe joins exactly two ends).
//
// Datagrams from the n-th client (n = 1, 2, …) come from 10.0.0.1 port
// 20000+n; the server's address, the one clients dial, is ServerAddr
// (192.0.2.2:10002, the second end of every Pipe). A write to an address no
// client has is dropped, as UDP would drop it.
//
// A Hub is safe for concurrent use. Like Pipe it uses only time.Now, timers
// and channels (plus a goroutine per client that forwards what arrives), so
// one created inside a testing/synctest bubble runs in fake time; create and
// use it in the same bubble and Close it before the bubble ends. The zero
// Hub is not usable (NewHub).
type Hub struct {
	in     chan hubDatagram
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	mu   sync.Mutex
	ends map[netip.AddrPort]*PipeConn
	n    int
	rd   time.Time
	rdCh chan struct{} // closed and replaced when the read deadline changes
}

type hubDatagram struct {
	b    []byte
	from *net.UDPAddr
}

var _ net.PacketConn = (*Hub)(nil)

// ServerAddr is the address of a Hub as its clients see it.
var ServerAddr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 2}), 10002)

// hubQueue bounds the datagrams that arrived and wait for ReadFrom; beyond
// it, the forwarding of each client waits (its pipe's own queue then fills
// and drops, as a socket buffer would).
const hubQueue = 4096

// NewHub returns an empty Hub.
func NewHub() *Hub {
	return &Hub{
		in: make(chan hubDatagram, hubQueue), closed: make(chan struct{}),
		ends: map[netip.AddrPort]*PipeConn{}, rdCh: make(chan struct{}),
	}
}

// Dial adds a client and returns its end: up conditions what the client
// sends to the server, down what the server sends to it; seed draws both
// directions' randomness. The client sends to ServerAddr (or nil). After
// Close it returns a pipe nobody answers.
func (h *Hub) Dial(up, down Config, seed uint64) *PipeConn {
	cEnd, sEnd := Pipe(up, down, seed)
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
		_ = sEnd.Close()
		return cEnd
	default:
	}
	h.n++
	from := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 20000 + h.n}
	ap := from.AddrPort()
	h.ends[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] = sEnd
	h.wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := sEnd.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case h.in <- hubDatagram{b: append([]byte(nil), buf[:n]...), from: from}:
			case <-h.closed:
				return
			}
		}
	})
	return cEnd
}

// Clients returns how many clients Dial added.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// ReadFrom reads the next datagram any client sent, waiting until one
// arrives, the read deadline passes or the Hub is closed. A datagram longer
// than p is truncated, as with UDP.
func (h *Hub) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		h.mu.Lock()
		rd, changed := h.rd, h.rdCh
		h.mu.Unlock()
		var expired <-chan time.Time
		if !rd.IsZero() {
			d := time.Until(rd)
			if d <= 0 {
				return 0, nil, h.opError("read", nil, os.ErrDeadlineExceeded)
			}
			t := time.NewTimer(d)
			defer t.Stop()
			expired = t.C
		}
		select {
		case dg := <-h.in:
			return copy(p, dg.b), dg.from, nil
		case <-h.closed:
			return 0, nil, h.opError("read", nil, net.ErrClosed)
		case <-expired:
			return 0, nil, h.opError("read", nil, os.ErrDeadlineExceeded)
		case <-changed:
		}
	}
}

// WriteTo sends p to the client at addr through its pipe's down link. It
// never blocks; a write to an unknown address succeeds and goes nowhere.
func (h *Hub) WriteTo(p []byte, addr net.Addr) (int, error) {
	select {
	case <-h.closed:
		return 0, h.opError("write", addr, net.ErrClosed)
	default:
	}
	var ap netip.AddrPort
	switch a := addr.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		if addr == nil {
			return 0, h.opError("write", addr, errNoRoute)
		}
		var err error
		if ap, err = netip.ParseAddrPort(addr.String()); err != nil {
			return 0, h.opError("write", addr, errNoRoute)
		}
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	h.mu.Lock()
	end := h.ends[ap]
	h.mu.Unlock()
	if end == nil {
		return len(p), nil
	}
	return end.WriteTo(p, nil)
}

// Close closes the Hub and the server end of every client's pipe: blocked
// and later reads and writes fail with an error wrapping net.ErrClosed, and
// clients' datagrams go nowhere. Close is idempotent.
func (h *Hub) Close() error {
	h.once.Do(func() {
		close(h.closed)
		h.mu.Lock()
		for _, e := range h.ends {
			_ = e.Close()
		}
		h.mu.Unlock()
	})
	h.wg.Wait()
	return nil
}

// LocalAddr returns ServerAddr.
func (h *Hub) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(ServerAddr) }

// SetDeadline sets the read deadline (writes never block).
func (h *Hub) SetDeadline(t time.Time) error { return h.SetReadDeadline(t) }

// SetReadDeadline makes ReadFrom fail, once t has passed, with an error
// wrapping os.ErrDeadlineExceeded. The zero time means no deadline.
func (h *Hub) SetReadDeadline(t time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rd = t
	close(h.rdCh)
	h.rdCh = make(chan struct{})
	return nil
}

// SetWriteDeadline does nothing: writes never block.
func (h *Hub) SetWriteDeadline(time.Time) error { return nil }

func (h *Hub) opError(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: h.LocalAddr(), Addr: addr, Err: err}
}
