package browser

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxSessions     = 256
	DefaultQueue           = 1024
	DefaultSessionQueue    = 64
	DefaultMaxDatagramSize = 1500
	DefaultSessionsPerIP   = 16
	DefaultSessionIdle     = 10 * time.Second
)

// endedMemory is how many ended sessions SessionEnded remembers.
const endedMemory = 1024

// ErrTooManySessions is returned by AddSession when Config.MaxSessions
// sessions are open, or Config.SessionsPerIP from the same IP address.
var ErrTooManySessions = errors.New("browser: too many sessions")

// ErrSessionEnded is returned by WriteTo for the address of a session that
// ended (or never was).
var ErrSessionEnded = errors.New("browser: session ended")

// Config configures a Conn. The zero value takes every default.
type Config struct {
	// MaxSessions bounds the sessions open at once; 0 means
	// DefaultMaxSessions (256).
	MaxSessions int
	// Queue is how many received datagrams wait for ReadFrom, for the
	// UDP socket and for all sessions each (so neither side can crowd out
	// the other); 0 means DefaultQueue (1024).
	Queue int
	// SessionQueue bounds the datagrams of one session waiting for
	// ReadFrom, so that one flooding session cannot fill the queue of the
	// others; 0 means DefaultSessionQueue (64).
	SessionQueue int
	// MaxDatagramSize: larger datagrams from a session are dropped; 0
	// means DefaultMaxDatagramSize (1500).
	MaxDatagramSize int
	// SessionsPerIP bounds the sessions open at once from one IP address,
	// so that one host cannot take every session; 0 means
	// DefaultSessionsPerIP (16).
	SessionsPerIP int
	// SessionIdle ends a session that sent nothing for this long (a
	// netcode client sends at least a keepalive every 100 ms), so that
	// silent sessions do not hold places; 0 means DefaultSessionIdle
	// (10 s).
	SessionIdle time.Duration
}

// Session is one browser session's datagram path. A
// *webtransport.Session has these methods (webTransportSession adapts
// Close).
type Session interface {
	// ReceiveDatagram blocks until a datagram arrives, ctx is done, or the
	// session ends (an error).
	ReceiveDatagram(ctx context.Context) ([]byte, error)
	// SendDatagram sends b without blocking (it may be dropped).
	SendDatagram(b []byte) error
	// Close ends the session.
	Close() error
}

// Stats counts what a Conn did since it started.
type Stats struct {
	SessionsOpened, SessionsEnded uint64
	// SessionsRefused: AddSession calls over MaxSessions or SessionsPerIP;
	// SessionsIdle: sessions ended for sending nothing for SessionIdle.
	SessionsRefused, SessionsIdle uint64
	// Open is the number of sessions open now.
	Open int
	// DatagramsIn and DatagramsOut count session datagrams (not UDP).
	DatagramsIn, DatagramsOut uint64
	// Drops of received datagrams: the queue (all sessions', or the UDP
	// socket's) was full; one session had SessionQueue datagrams waiting;
	// a session's datagram was empty or above MaxDatagramSize; a UDP
	// datagram claimed a session address (spoofed).
	DropsQueueFull, DropsSessionQueue, DropsMalformed, DropsSpoofed uint64
	// SendErrors: session datagrams the session refused (too large, or
	// ended while being sent).
	SendErrors uint64
}

// Conn is a net.PacketConn over a UDP socket and any number of browser
// sessions, each seen as a distinct *net.UDPAddr. Datagrams from the
// socket and from sessions are read in turn, from two bounded queues, by
// ReadFrom; WriteTo sends to the session of the address, or to the
// socket. It implements netcode.SessionConn: ReadFrom returns a
// zero-length datagram from a session's address when the session ends.
// Safe for concurrent use.
type Conn struct {
	udp net.PacketConn
	cfg Config

	udpIn  chan packet
	sessIn chan packet
	wake   chan struct{}
	done   chan struct{}
	free   chan []byte // UDP receive buffers

	mu       sync.Mutex
	sessions map[netip.AddrPort]*session
	perIP    map[netip.Addr]int
	next     uint64
	ended    []netip.AddrPort            // ended, ReadFrom has not returned their marker yet
	memory   [endedMemory]netip.AddrPort // recently ended, a ring
	memNext  int
	closed   bool
	udpErr   error

	opened, endedN, refused, idle atomic.Uint64
	dgIn, dgOut                   atomic.Uint64
	dropFull, dropSess, dropBad   atomic.Uint64
	dropSpoof, sendErr            atomic.Uint64
	closeOnce                     sync.Once
	wg                            sync.WaitGroup
}

type packet struct {
	b    []byte
	addr *net.UDPAddr
	sess *session // nil for UDP
	err  error
}

type session struct {
	s      Session
	addr   *net.UDPAddr
	ap     netip.AddrPort
	remote netip.Addr // the peer's IP; invalid when unknown
	queued atomic.Int32
	heard  atomic.Bool // a datagram arrived since the idle check
	cancel context.CancelFunc
	once   sync.Once
}

// close closes the session once.
func (ss *session) close() {
	ss.once.Do(func() {
		ss.cancel()
		_ = ss.s.Close()
	})
}

// sessionPrefix is the discard-only prefix 100::/64 (RFC 6666): no real
// datagram comes from it, so a session address never collides with a
// client's.
var sessionPrefix = netip.MustParsePrefix("100::/64")

// sessionPort is the port of every session address.
const sessionPort = 1

// IsSessionAddr reports whether a is a session address of a Conn (in
// 100::/64).
func IsSessionAddr(a netip.AddrPort) bool { return sessionPrefix.Contains(a.Addr()) }

// sessionAddr returns the address of session number n.
func sessionAddr(n uint64) netip.AddrPort {
	var b [16]byte
	b[0], b[1] = 0x01, 0x00
	binary.BigEndian.PutUint64(b[8:], n)
	return netip.AddrPortFrom(netip.AddrFrom16(b), sessionPort)
}

// NewConn returns a Conn over udp (a UDP socket, or any net.PacketConn
// whose addresses are *net.UDPAddr), which it owns from now on: Close
// closes it. It starts a goroutine that reads udp.
func NewConn(udp net.PacketConn, cfg Config) *Conn {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.SessionQueue <= 0 {
		cfg.SessionQueue = DefaultSessionQueue
	}
	if cfg.MaxDatagramSize <= 0 {
		cfg.MaxDatagramSize = DefaultMaxDatagramSize
	}
	if cfg.SessionsPerIP <= 0 {
		cfg.SessionsPerIP = DefaultSessionsPerIP
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	c := &Conn{
		udp: udp, cfg: cfg,
		udpIn:    make(chan packet, cfg.Queue),
		sessIn:   make(chan packet, cfg.Queue),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		free:     make(chan []byte, cfg.Queue+1),
		sessions: make(map[netip.AddrPort]*session),
		perIP:    make(map[netip.Addr]int),
	}
	for range cfg.Queue + 1 {
		c.free <- make([]byte, 2048)
	}
	c.wg.Add(1)
	go c.readUDP()
	return c
}

// readUDP moves the socket's datagrams to udpIn until the socket closes.
func (c *Conn) readUDP() {
	defer c.wg.Done()
	for {
		var buf []byte
		select {
		case buf = <-c.free:
		case <-c.done:
			return
		}
		n, from, err := c.udp.ReadFrom(buf)
		if err != nil {
			c.free <- buf
			if c.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case c.udpIn <- packet{err: err}:
			default:
			}
			time.Sleep(time.Millisecond) // an error that repeats must not spin
			continue
		}
		ua, ok := from.(*net.UDPAddr)
		if ok && IsSessionAddr(ua.AddrPort()) {
			c.dropSpoof.Add(1)
			c.free <- buf
			continue
		}
		select {
		case c.udpIn <- packet{b: buf[:n], addr: ua}:
		default:
			c.dropFull.Add(1)
			c.free <- buf
		}
	}
}

func (c *Conn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// AddSession serves s, a session from remote (the peer's address as the
// HTTP request saw it, "ip:port"; "" when unknown), as a new peer and
// returns its address. The Conn owns s from now on: it closes s when s's
// datagrams end (ReceiveDatagram fails), when it sent nothing for
// Config.SessionIdle, or when the Conn closes. It fails with
// ErrTooManySessions over Config.MaxSessions or Config.SessionsPerIP, or
// net.ErrClosed after Close.
func (c *Conn) AddSession(s Session, remote string) (net.Addr, error) {
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		ip = ap.Addr().Unmap()
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, net.ErrClosed
	}
	if len(c.sessions) >= c.cfg.MaxSessions {
		c.mu.Unlock()
		c.refused.Add(1)
		return nil, fmt.Errorf("%w: %d open, Config.MaxSessions is %d", ErrTooManySessions, c.cfg.MaxSessions, c.cfg.MaxSessions)
	}
	if ip.IsValid() && c.perIP[ip] >= c.cfg.SessionsPerIP {
		c.mu.Unlock()
		c.refused.Add(1)
		return nil, fmt.Errorf("%w: %d open from %v, Config.SessionsPerIP is %d", ErrTooManySessions, c.cfg.SessionsPerIP, ip, c.cfg.SessionsPerIP)
	}
	c.next++
	ap := sessionAddr(c.next)
	ctx, cancel := context.WithCancel(context.Background())
	ss := &session{s: s, ap: ap, addr: net.UDPAddrFromAddrPort(ap), remote: ip, cancel: cancel}
	ss.heard.Store(true)
	c.sessions[ap] = ss
	if ip.IsValid() {
		c.perIP[ip]++
	}
	c.wg.Add(2)
	c.mu.Unlock()
	c.opened.Add(1)
	go c.readSession(ctx, ss)
	go c.watchIdle(ctx, ss)
	return ss.addr, nil
}

// watchIdle closes ss when a whole SessionIdle passes without a datagram.
func (c *Conn) watchIdle(ctx context.Context, ss *session) {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.SessionIdle)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !ss.heard.Swap(false) {
			c.idle.Add(1)
			ss.close()
			return
		}
	}
}

// readSession moves ss's datagrams to sessIn until the session ends, then
// queues its end marker.
func (c *Conn) readSession(ctx context.Context, ss *session) {
	defer c.wg.Done()
	for {
		b, err := ss.s.ReceiveDatagram(ctx)
		if err != nil {
			break
		}
		c.dgIn.Add(1)
		ss.heard.Store(true)
		if len(b) == 0 || len(b) > c.cfg.MaxDatagramSize {
			c.dropBad.Add(1)
			continue
		}
		if int(ss.queued.Load()) >= c.cfg.SessionQueue {
			c.dropSess.Add(1)
			continue
		}
		ss.queued.Add(1)
		select {
		case c.sessIn <- packet{b: b, addr: ss.addr, sess: ss}:
		default:
			ss.queued.Add(-1)
			c.dropFull.Add(1)
		}
	}
	ss.close()
	c.mu.Lock()
	delete(c.sessions, ss.ap)
	if ss.remote.IsValid() {
		if c.perIP[ss.remote]--; c.perIP[ss.remote] <= 0 {
			delete(c.perIP, ss.remote)
		}
	}
	if !c.closed {
		c.ended = append(c.ended, ss.ap)
		c.memory[c.memNext] = ss.ap
		c.memNext = (c.memNext + 1) % endedMemory
	}
	c.mu.Unlock()
	c.endedN.Add(1)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// ReadFrom reads the next datagram from the socket or a session, or the
// zero-length end marker of a session that ended. It blocks until there
// is one or the Conn closes (net.ErrClosed).
func (c *Conn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		if len(c.ended) > 0 {
			ap := c.ended[0]
			c.ended = c.ended[1:]
			c.mu.Unlock()
			return 0, net.UDPAddrFromAddrPort(ap), nil
		}
		c.mu.Unlock()
		select {
		case pk := <-c.udpIn:
			return c.deliver(p, pk)
		case pk := <-c.sessIn:
			return c.deliver(p, pk)
		case <-c.wake:
		case <-c.done:
			return 0, nil, net.ErrClosed
		}
	}
}

func (c *Conn) deliver(p []byte, pk packet) (int, net.Addr, error) {
	if pk.err != nil {
		return 0, nil, pk.err
	}
	n := copy(p, pk.b)
	if pk.sess != nil {
		pk.sess.queued.Add(-1)
	} else {
		c.free <- pk.b[:cap(pk.b)]
	}
	return n, pk.addr, nil
}

// WriteTo sends b to addr: to its session when addr is a session's
// address (ErrSessionEnded when that session is gone), else to the UDP
// socket.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("browser: write to %v: a %T, want a *net.UDPAddr", addr, addr)
	}
	ap := ua.AddrPort()
	if !IsSessionAddr(ap) {
		return c.udp.WriteTo(b, addr)
	}
	c.mu.Lock()
	ss := c.sessions[ap]
	c.mu.Unlock()
	if ss == nil {
		return 0, fmt.Errorf("%w: %v", ErrSessionEnded, ap)
	}
	if err := ss.s.SendDatagram(b); err != nil {
		c.sendErr.Add(1)
		return 0, fmt.Errorf("browser: send to session %v: %w", ap, err)
	}
	c.dgOut.Add(1)
	return len(b), nil
}

// SessionEnded reports whether addr is the address of a session that
// ended recently (the last 1024 to end): netcode.SessionConn.
func (c *Conn) SessionEnded(addr netip.AddrPort) bool {
	if !IsSessionAddr(addr) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.memory {
		if a == addr {
			return true
		}
	}
	return false
}

// Stats returns the counters. Safe from any goroutine.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	open := len(c.sessions)
	c.mu.Unlock()
	return Stats{
		SessionsOpened: c.opened.Load(), SessionsEnded: c.endedN.Load(), SessionsRefused: c.refused.Load(),
		SessionsIdle: c.idle.Load(),
		Open:         open,
		DatagramsIn:  c.dgIn.Load(), DatagramsOut: c.dgOut.Load(),
		DropsQueueFull: c.dropFull.Load(), DropsSessionQueue: c.dropSess.Load(),
		DropsMalformed: c.dropBad.Load(), DropsSpoofed: c.dropSpoof.Load(),
		SendErrors: c.sendErr.Load(),
	}
}

// Close ends every session, closes the UDP socket and waits for the
// Conn's goroutines. ReadFrom then returns net.ErrClosed.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		ss := make([]*session, 0, len(c.sessions))
		for _, s := range c.sessions {
			ss = append(ss, s)
		}
		c.mu.Unlock()
		close(c.done)
		for _, s := range ss {
			s.close()
		}
		err = c.udp.Close()
		c.wg.Wait()
	})
	return err
}

// LocalAddr returns the UDP socket's address.
func (c *Conn) LocalAddr() net.Addr { return c.udp.LocalAddr() }

// SetDeadline, SetReadDeadline and SetWriteDeadline are not supported on
// the merged conn (they return an error); the netcode layer uses none.
func (c *Conn) SetDeadline(t time.Time) error { return errNoDeadline }

// SetReadDeadline: see SetDeadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return errNoDeadline }

// SetWriteDeadline: see SetDeadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return errNoDeadline }

var errNoDeadline = errors.New("browser: deadlines are not supported by Conn")
