package server

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// pipeHub is the server's end of several netsim pipes, one per client, as
// one net.PacketConn: each client gets its own pipe (its own link
// conditions) and a distinct address, 10.0.0.n:4000+n. It uses only
// channels and the pipes, so it runs in a testing/synctest bubble.
type pipeHub struct {
	local *net.UDPAddr
	in    chan hubDatagram
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	mu   sync.Mutex
	ends map[netip.AddrPort]*netsim.PipeConn
	n    int
}

type hubDatagram struct {
	b    []byte
	from netip.AddrPort
}

var _ net.PacketConn = (*pipeHub)(nil)

// hubServerAddr is the server's address as every client sees it (the
// server end of a pipe).
var hubServerAddr = netip.MustParseAddrPort("192.0.2.2:10002")

func newPipeHub() *pipeHub {
	return &pipeHub{
		local: net.UDPAddrFromAddrPort(hubServerAddr),
		in:    make(chan hubDatagram, 256),
		done:  make(chan struct{}),
		ends:  map[netip.AddrPort]*netsim.PipeConn{},
	}
}

// dial returns a new client's end of a pipe (for netcode.DialConn with
// hubServerAddr) and the address the server sees it at. up conditions what
// the client sends, down what it receives.
func (h *pipeHub) dial(up, down netsim.Config, seed uint64) (net.PacketConn, netip.AddrPort) {
	cli, srv := netsim.Pipe(up, down, seed)
	h.mu.Lock()
	h.n++
	addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(h.n)}), uint16(4000+h.n))
	h.ends[addr] = srv
	h.mu.Unlock()
	h.wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case h.in <- hubDatagram{b: append([]byte(nil), buf[:n]...), from: addr}:
			case <-h.done:
				return
			}
		}
	})
	return cli, addr
}

func (h *pipeHub) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case d := <-h.in:
		return copy(p, d.b), net.UDPAddrFromAddrPort(d.from), nil
	case <-h.done:
		return 0, nil, &net.OpError{Op: "read", Net: "udp", Addr: h.local, Err: net.ErrClosed}
	}
}

func (h *pipeHub) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: os.ErrInvalid}
	}
	ap := ua.AddrPort()
	h.mu.Lock()
	end := h.ends[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())]
	h.mu.Unlock()
	if end == nil {
		return len(p), nil // nobody there: lost, as UDP would
	}
	return end.WriteTo(p, nil)
}

func (h *pipeHub) Close() error {
	h.once.Do(func() {
		close(h.done)
		h.mu.Lock()
		for _, end := range h.ends {
			_ = end.Close()
		}
		h.mu.Unlock()
	})
	h.wg.Wait()
	return nil
}

func (h *pipeHub) LocalAddr() net.Addr                { return h.local }
func (h *pipeHub) SetDeadline(t time.Time) error      { return nil }
func (h *pipeHub) SetReadDeadline(t time.Time) error  { return nil }
func (h *pipeHub) SetWriteDeadline(t time.Time) error { return nil }
