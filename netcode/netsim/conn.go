package netsim

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a [net.PacketConn] that sends (and, from [WrapDuplex], receives)
// through Links in front of another net.PacketConn. A goroutine writes the
// delayed datagrams when they fall due; Close lets those already written
// arrive, as on a real wire, then stops it.
//
// A Conn is safe for concurrent use. Create it with [Wrap] or [WrapDuplex].
type Conn struct {
	pc     net.PacketConn
	owned  bool // Close closes pc
	out    *Link
	in     *inbox // nil unless incoming traffic is conditioned
	wake   chan struct{}
	done   chan struct{} // closed by Close: deliver empties the send Link, then ends
	sent   chan struct{} // closed by deliver when it ends
	closed atomic.Bool
	once   sync.Once
	wg     sync.WaitGroup

	flushMu     sync.Mutex // keeps delivered datagrams in order on pc
	writeErrors atomic.Uint64
	lastErr     atomic.Pointer[error]
}

var _ net.PacketConn = (*Conn)(nil)

// Wrap returns a Conn that applies cfg to what is written to pc, with its
// random choices seeded by seed. Reads pass straight through. The Conn owns
// pc: closing the Conn closes pc.
//
// Wrap panics if cfg is invalid (see [Config.Validate]); check it first when
// it comes from a user.
func Wrap(pc net.PacketConn, cfg Config, seed uint64) *Conn {
	return newConn(pc, true, cfg, nil, seed)
}

// WrapDuplex is [Wrap] that also applies recv to what is read from pc. A
// goroutine then reads pc continuously into the receive Link, and the read
// deadline is the Conn's own. It panics if send or recv is invalid.
func WrapDuplex(pc net.PacketConn, send, recv Config, seed uint64) *Conn {
	return newConn(pc, true, send, &recv, seed)
}

func newConn(pc net.PacketConn, owned bool, send Config, recv *Config, seed uint64) *Conn {
	out, err := NewLink(send, mixSeed(seed, 1))
	if err != nil {
		panic(err)
	}
	c := &Conn{
		pc:    pc,
		owned: owned,
		out:   out,
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		sent:  make(chan struct{}),
	}
	if recv != nil {
		in, err := NewLink(*recv, mixSeed(seed, 2))
		if err != nil {
			panic(err)
		}
		c.in = newInbox(in)
		c.in.srcDone = make(chan struct{})
		c.wg.Add(1)
		go c.receive()
	}
	go c.deliver()
	return c
}

// SetConfig changes the conditions of what is written, effective for the
// next datagram.
func (c *Conn) SetConfig(cfg Config) error { return c.out.SetConfig(cfg) }

// SetReceiveConfig changes the conditions of what is read. It fails on a
// Conn made by Wrap, which does not condition reads.
func (c *Conn) SetReceiveConfig(cfg Config) error {
	if c.in == nil {
		return errors.New("netsim: SetReceiveConfig: the Conn was made by Wrap, which does not condition reads; use WrapDuplex")
	}
	return c.in.link.SetConfig(cfg)
}

// SendLink returns the Link conditioning what is written.
func (c *Conn) SendLink() *Link { return c.out }

// ReceiveLink returns the Link conditioning what is read, or nil for a Conn
// made by Wrap.
func (c *Conn) ReceiveLink() *Link {
	if c.in == nil {
		return nil
	}
	return c.in.link
}

// Stats returns the counters of what is written.
func (c *Conn) Stats() Stats { return c.out.Stats() }

// WriteErrors returns how many delayed datagrams the wrapped conn refused,
// and the last error it gave (nil if none).
func (c *Conn) WriteErrors() (uint64, error) {
	n := c.writeErrors.Load()
	if p := c.lastErr.Load(); p != nil {
		return n, *p
	}
	return n, nil
}

// WriteTo hands p to the send Link. It never blocks for the simulated
// delay: a datagram due at once is written before WriteTo returns, a
// delayed one later by the Conn's goroutine. Like UDP, a dropped datagram
// is not an error; errors from the wrapped conn are counted (WriteErrors).
func (c *Conn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.closed.Load() {
		return 0, &net.OpError{Op: "write", Net: c.network(), Source: c.pc.LocalAddr(), Addr: addr, Err: net.ErrClosed}
	}
	now := time.Now()
	if c.out.send(now, p, addr) {
		c.flush(now)
		if _, ok := c.out.NextDelivery(); ok {
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
	}
	return len(p), nil
}

// flush writes every datagram due at now to the wrapped conn.
func (c *Conn) flush(now time.Time) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.out.deliverAddr(now, c.writeOut)
}

func (c *Conn) writeOut(b []byte, addr net.Addr) {
	if _, err := c.pc.WriteTo(b, addr); err != nil {
		c.recordWriteError(err)
	}
}

// recordWriteError is kept apart so that the error escapes to the heap only
// when there is one.
func (c *Conn) recordWriteError(err error) {
	c.writeErrors.Add(1)
	c.lastErr.Store(&err)
}

// deliver is the goroutine writing delayed datagrams when they fall due.
func (c *Conn) deliver() {
	defer close(c.sent)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	done := c.done
	for {
		c.flush(time.Now())
		next, ok := c.out.NextDelivery()
		switch {
		case ok:
			timer.Reset(time.Until(next))
		case done == nil:
			return // closing, and nothing left in flight
		default:
			timer.Stop()
		}
		select {
		case <-c.wake:
		case <-timer.C:
		case <-done:
			done = nil // closing: deliver what is in flight, then end
		}
	}
}

// receive is the goroutine of WrapDuplex reading pc into the receive Link.
func (c *Conn) receive() {
	defer c.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, addr, err := c.pc.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !c.closed.Load() {
				continue // someone set a deadline on pc itself
			}
			c.in.srcErr = err
			close(c.in.srcDone)
			return
		}
		if c.in.link.send(time.Now(), buf[:n], addr) {
			c.in.signal()
		}
	}
}

// ReadFrom reads the next datagram. From a Conn made by Wrap it reads pc
// directly; from WrapDuplex it waits for the next datagram the receive Link
// delivers, until the read deadline.
func (c *Conn) ReadFrom(p []byte) (int, net.Addr, error) {
	if c.in == nil {
		return c.pc.ReadFrom(p)
	}
	n, addr, err := c.in.read(p)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			return 0, nil, err // already shaped by pc
		}
		return 0, nil, &net.OpError{Op: "read", Net: c.network(), Source: c.pc.LocalAddr(), Err: err}
	}
	return n, addr, nil
}

func (c *Conn) network() string {
	if a := c.pc.LocalAddr(); a != nil {
		return a.Network()
	}
	return "udp"
}

// Close refuses further writes and fails blocked reads with net.ErrClosed
// at once. Datagrams the send Link still delays are on the simulated wire:
// Close writes each to the wrapped conn when it falls due, as a real
// network would still carry them, so it returns after the longest delay in
// flight (latency, jitter, the bandwidth queue). Then it closes the wrapped
// conn and waits for the Conn's goroutines to end. Datagrams the receive
// Link delays are discarded, like a closed socket's receive queue. Close is
// idempotent.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		c.closed.Store(true)
		if c.in != nil {
			c.in.close()
		}
		close(c.done)
		<-c.sent // the send Link is empty
		if c.owned {
			err = c.pc.Close()
		}
		c.wg.Wait() // the receive goroutine, which the close ended
	})
	return err
}

// LocalAddr returns the wrapped conn's address.
func (c *Conn) LocalAddr() net.Addr { return c.pc.LocalAddr() }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline: the wrapped conn's for Wrap, the
// Conn's own for WrapDuplex (with the same timeout error).
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.in == nil {
		return c.pc.SetReadDeadline(t)
	}
	if c.closed.Load() {
		return &net.OpError{Op: "set", Net: c.network(), Source: c.pc.LocalAddr(), Err: net.ErrClosed}
	}
	c.in.rd.set(t)
	return nil
}

// SetWriteDeadline sets the wrapped conn's write deadline, which bounds the
// writes of due datagrams.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.pc.SetWriteDeadline(t) }
