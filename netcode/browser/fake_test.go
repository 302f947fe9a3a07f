package browser

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// pipeSession is an in-memory session: the server's half is the Session,
// the client's half (client) a net.PacketConn whose peer is the server.
type pipeSession struct {
	toServer chan []byte
	toClient chan []byte
	done     chan struct{}
	once     sync.Once
	closes   atomic.Int32
	sent     atomic.Uint64 // bytes the server sent
}

func newPipeSession() *pipeSession {
	return &pipeSession{toServer: make(chan []byte, 256), toClient: make(chan []byte, 256), done: make(chan struct{})}
}

func (p *pipeSession) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	select {
	case b := <-p.toServer:
		return b, nil
	case <-p.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pipeSession) SendDatagram(b []byte) error {
	select {
	case <-p.done:
		return net.ErrClosed
	default:
	}
	p.sent.Add(uint64(len(b)))
	select {
	case p.toClient <- append([]byte(nil), b...):
	default: // dropped, like a datagram
	}
	return nil
}

// Close ends the session (from the server's side, or the page's: end).
func (p *pipeSession) Close() error {
	p.closes.Add(1)
	p.end()
	return nil
}

func (p *pipeSession) end() { p.once.Do(func() { close(p.done) }) }

// client returns the browser's half as a net.PacketConn.
func (p *pipeSession) client() net.PacketConn { return &pipeClient{p: p} }

type pipeClient struct{ p *pipeSession }

// clientServerAddr is what the client's half calls the server.
var clientServerAddr = &net.UDPAddr{IP: net.ParseIP("100::1"), Port: 443}

func (c *pipeClient) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.p.toClient:
		return copy(b, d), clientServerAddr, nil
	case <-c.p.done:
		return 0, nil, net.ErrClosed
	}
}

func (c *pipeClient) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-c.p.done:
		return 0, net.ErrClosed
	case c.p.toServer <- append([]byte(nil), b...):
	default:
	}
	return len(b), nil
}

func (c *pipeClient) Close() error                     { c.p.end(); return nil }
func (c *pipeClient) LocalAddr() net.Addr              { return &net.UDPAddr{IP: net.IPv6loopback, Port: 1} }
func (c *pipeClient) SetDeadline(time.Time) error      { return nil }
func (c *pipeClient) SetReadDeadline(time.Time) error  { return nil }
func (c *pipeClient) SetWriteDeadline(time.Time) error { return nil }
