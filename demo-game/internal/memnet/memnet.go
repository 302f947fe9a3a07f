// Package memnet joins many clients to one server in memory, for tests
// and in-process play: a Hub is the server's net.PacketConn, and each
// Hub.Pipe gives one client its own netsim.Pipe to it, with its own link
// conditions in each direction. A netsim pipe joins exactly two fixed
// addresses; the hub gives the datagrams of pipe i the source address
// 10.0.0.1:(20000+i) and sends what the server writes to that address down
// pipe i.
//
// Everything runs on timers, channels and goroutines that block on them,
// so inside a testing/synctest bubble a hub and its pipes run in fake time.
// Create and use them in one bubble.
//
// The zero Hub is not usable (NewHub). A Hub is safe for concurrent use.
package memnet

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// MaxPipes bounds the pipes of one Hub (the ports 20000..65535).
const MaxPipes = 65535 - firstPort + 1

const firstPort = 20000

// queueLen bounds the datagrams that arrived from the pipes and wait for
// the server's ReadFrom; beyond it a pipe's reader waits, and its pipe then
// drops what its link cannot hold, as a full socket buffer would.
const queueLen = 4096

// Hub is the server side of many pipes: a net.PacketConn whose peers are
// the clients' pipe ends.
type Hub struct {
	mu     sync.Mutex
	ends   map[uint16]*netsim.PipeConn // the server end of each pipe, by its client's port
	next   int
	in     chan datagram
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	closed bool
}

type datagram struct {
	b    []byte
	from *net.UDPAddr
}

// NewHub returns a hub with no pipes yet.
func NewHub() *Hub {
	return &Hub{ends: map[uint16]*netsim.PipeConn{}, next: firstPort, in: make(chan datagram, queueLen), done: make(chan struct{})}
}

// hubAddr is the address a pipe's server end has, which clients dial (the
// second end of every netsim.Pipe), and the hub's LocalAddr.
var hubAddr = net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 10002}

// Addr returns the address clients dial (netcode.DialConn with the pipe end
// Pipe returned).
func (h *Hub) Addr() netip.AddrPort { return hubAddr.AddrPort() }

// Pipe returns the client end of a new pipe to the hub: up conditions what
// the client sends, down what the hub sends it, both seeded from seed. On a
// closed hub the pipe leads nowhere (what the client sends is lost, as to a
// dead server). The error says the hub has run out of pipes.
func (h *Hub) Pipe(up, down netsim.Config, seed uint64) (*netsim.PipeConn, error) {
	client, server := netsim.Pipe(up, down, seed)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		_ = server.Close()
		return client, nil
	}
	if h.next > 65535 {
		_ = client.Close()
		_ = server.Close()
		return nil, fmt.Errorf("memnet: hub has %d pipes, the most it can have", MaxPipes)
	}
	port := uint16(h.next)
	h.next++
	h.ends[port] = server
	from := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: int(port)}
	h.wg.Go(func() { h.forward(server, from) })
	return client, nil
}

// forward moves what arrives at a pipe's server end into the hub's queue
// until the end is closed.
func (h *Hub) forward(end *netsim.PipeConn, from *net.UDPAddr) {
	buf := make([]byte, 2048)
	for {
		n, _, err := end.ReadFrom(buf)
		if err != nil {
			return
		}
		select {
		case h.in <- datagram{b: append([]byte(nil), buf[:n]...), from: from}:
		case <-h.done:
			return
		}
	}
}

// ReadFrom returns the next datagram from any pipe, with its client's
// address; it fails with net.ErrClosed once the hub is closed.
func (h *Hub) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case d := <-h.in:
		return copy(p, d.b), d.from, nil
	case <-h.done:
		return 0, nil, &net.OpError{Op: "read", Net: "udp", Source: &hubAddr, Err: net.ErrClosed}
	}
}

// WriteTo sends p down the pipe of the client at addr. A datagram to an
// address no pipe has is lost, as UDP to nobody would be.
func (h *Hub) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: &hubAddr, Addr: addr, Err: fmt.Errorf("memnet: address %v is not UDP", addr)}
	}
	h.mu.Lock()
	closed := h.closed
	var end *netsim.PipeConn
	if ua.Port >= firstPort && ua.Port <= 65535 {
		end = h.ends[uint16(ua.Port)]
	}
	h.mu.Unlock()
	if closed {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: &hubAddr, Addr: addr, Err: net.ErrClosed}
	}
	if end == nil {
		return len(p), nil
	}
	return end.WriteTo(p, nil)
}

// Close closes the hub and the server end of every pipe: the clients' ends
// stay open, and what they send goes nowhere (a server that died without a
// word). It waits for the hub's goroutines. Close is idempotent.
func (h *Hub) Close() error {
	h.once.Do(func() {
		h.mu.Lock()
		h.closed = true
		close(h.done)
		for _, e := range h.ends {
			_ = e.Close()
		}
		h.mu.Unlock()
	})
	h.wg.Wait()
	return nil
}

// LocalAddr returns the address clients dial.
func (h *Hub) LocalAddr() net.Addr { return &hubAddr }

// SetDeadline, SetReadDeadline and SetWriteDeadline do nothing: the
// netcode layer does not use deadlines on a server's socket.
func (h *Hub) SetDeadline(time.Time) error      { return nil }
func (h *Hub) SetReadDeadline(time.Time) error  { return nil }
func (h *Hub) SetWriteDeadline(time.Time) error { return nil }
