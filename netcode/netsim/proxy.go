package netsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy defaults, used when a ProxyConfig field is zero.
const (
	DefaultMaxClients  = 256
	DefaultIdleTimeout = time.Minute
)

// socketBuffer is the kernel buffer size the proxy asks for on its sockets.
const socketBuffer = 4 << 20

// ProxyConfig configures a [Proxy].
type ProxyConfig struct {
	// Listen is the UDP address clients send to, e.g. "127.0.0.1:7001"
	// (port 0 picks a free one; see Proxy.Addr).
	Listen string
	// Target is the UDP address of the real server, e.g. "127.0.0.1:7000".
	Target string
	// Up conditions client → server traffic, Down server → client. Each
	// client gets its own pair of Links.
	Up, Down Config
	// Seed seeds every Link; client n (in order of first datagram) uses
	// seeds derived from Seed and n.
	Seed uint64
	// MaxClients bounds the clients served at once; the datagrams of
	// further clients are dropped and counted until one expires. Zero
	// means DefaultMaxClients.
	MaxClients int
	// IdleTimeout forgets a client (and closes its upstream socket) after
	// this long without a datagram either way. Zero means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
}

// Validate reports the first invalid field, naming it, its value and what
// is allowed.
func (c ProxyConfig) Validate() error {
	if c.Listen == "" {
		return errors.New("netsim: ProxyConfig.Listen is empty: want a UDP address like 127.0.0.1:7001")
	}
	if c.Target == "" {
		return errors.New("netsim: ProxyConfig.Target is empty: want the server's UDP address like 127.0.0.1:7000")
	}
	if err := c.Up.Validate(); err != nil {
		return fmt.Errorf("ProxyConfig.Up: %w", err)
	}
	if err := c.Down.Validate(); err != nil {
		return fmt.Errorf("ProxyConfig.Down: %w", err)
	}
	if c.MaxClients < 0 {
		return fmt.Errorf("%w: ProxyConfig.MaxClients = %d: must be 0 (default %d) or positive", ErrInvalidConfig, c.MaxClients, DefaultMaxClients)
	}
	if c.IdleTimeout < 0 {
		return fmt.Errorf("%w: ProxyConfig.IdleTimeout = %v: must be 0 (default %v) or positive", ErrInvalidConfig, c.IdleTimeout, DefaultIdleTimeout)
	}
	return nil
}

// ProxyStats counts what a Proxy did. Up and Down add up the Links of every
// client, current and past.
type ProxyStats struct {
	Clients         int    // clients served now
	ClientsSeen     uint64 // clients ever accepted
	ClientsRejected uint64 // datagrams dropped because MaxClients were being served
	ClientsExpired  uint64 // clients forgotten after IdleTimeout
	Up, Down        Stats
}

// LogValue makes ProxyStats print as a group of fields with log/slog.
func (s ProxyStats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("clients", s.Clients),
		slog.Uint64("clients_seen", s.ClientsSeen),
		slog.Uint64("clients_rejected", s.ClientsRejected),
		slog.Uint64("clients_expired", s.ClientsExpired),
		slog.Any("up", s.Up),
		slog.Any("down", s.Down),
	)
}

// LogValue makes Stats print as a group of fields with log/slog.
func (s Stats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Uint64("sent", s.Sent),
		slog.Uint64("delivered", s.Delivered),
		slog.Uint64("lost", s.DroppedLoss),
		slog.Uint64("queue_full", s.DroppedQueueFull),
		slog.Uint64("oversize", s.DroppedOversize),
		slog.Uint64("delayed", s.Delayed),
		slog.Uint64("duplicated", s.Duplicated),
		slog.Uint64("reordered", s.Reordered),
		slog.Int("queued", s.Queued),
	)
}

// Proxy forwards UDP datagrams between clients and a server through
// simulated links. Each client address gets its own upstream socket, so the
// server sees one address per client, and its own Links each way.
//
// Create it with [ListenProxy]; it is safe for concurrent use.
type Proxy struct {
	cfg       ProxyConfig
	conn      *net.UDPConn
	target    netip.AddrPort
	targetUDP *net.UDPAddr // the same, made once for WriteTo

	mu      sync.Mutex
	up      Config
	down    Config
	clients map[netip.AddrPort]*proxyClient
	past    ProxyStats // Up/Down of clients already gone
	closed  bool

	seen, rejected, expired atomic.Uint64
	wg                      sync.WaitGroup
	serving                 atomic.Bool
}

type proxyClient struct {
	addr     *net.UDPAddr
	upstream *net.UDPConn
	up       *Conn // client → server, over upstream
	down     *Conn // server → client, over the listening socket (not owned)
	active   atomic.Int64
}

// ListenProxy validates cfg, resolves the target and listens on cfg.Listen.
// Call Serve to run the proxy.
func ListenProxy(cfg ProxyConfig) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	target, err := net.ResolveUDPAddr("udp", cfg.Target)
	if err != nil {
		return nil, fmt.Errorf("netsim: ProxyConfig.Target = %q: %w", cfg.Target, err)
	}
	laddr, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("netsim: ProxyConfig.Listen = %q: %w", cfg.Listen, err)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("netsim: listen on %q: %w", cfg.Listen, err)
	}
	// Bursts of many clients meet one socket: ask for a large buffer (the
	// kernel caps it at its maximum; failing is harmless).
	_ = conn.SetReadBuffer(socketBuffer)
	_ = conn.SetWriteBuffer(socketBuffer)
	return &Proxy{
		cfg:       cfg,
		conn:      conn,
		target:    unmap(target.AddrPort()),
		targetUDP: net.UDPAddrFromAddrPort(unmap(target.AddrPort())),
		up:        cfg.Up,
		down:      cfg.Down,
		clients:   make(map[netip.AddrPort]*proxyClient),
	}, nil
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// Addr returns the address clients send to.
func (p *Proxy) Addr() net.Addr { return p.conn.LocalAddr() }

// SetConfig changes the conditions of every current and future client.
func (p *Proxy) SetConfig(up, down Config) error {
	if err := up.Validate(); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	if err := down.Validate(); err != nil {
		return fmt.Errorf("down: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up, p.down = up, down
	for _, c := range p.clients {
		_ = c.up.SetConfig(up)
		_ = c.down.SetConfig(down)
	}
	return nil
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() ProxyStats {
	p.mu.Lock()
	s := p.past
	s.Clients = len(p.clients)
	for _, c := range p.clients {
		s.Up = s.Up.add(c.up.Stats())
		s.Down = s.Down.add(c.down.Stats())
	}
	p.mu.Unlock()
	s.ClientsSeen = p.seen.Load()
	s.ClientsRejected = p.rejected.Load()
	s.ClientsExpired = p.expired.Load()
	return s
}

// Close stops the proxy: Serve returns, every client socket is closed.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	clients := p.clients
	p.clients = map[netip.AddrPort]*proxyClient{}
	p.mu.Unlock()
	err := p.conn.Close()
	for _, c := range clients {
		p.retire(c)
	}
	p.wg.Wait()
	return err
}

// Serve forwards datagrams until ctx is done or Close is called, then
// closes everything and returns nil; it returns an error if reading the
// listening socket fails otherwise. Serve may be called once.
func (p *Proxy) Serve(ctx context.Context) error {
	if !p.serving.CompareAndSwap(false, true) {
		return errors.New("netsim: Proxy.Serve called twice")
	}
	stop := make(chan struct{})
	var helpers sync.WaitGroup
	helpers.Go(func() {
		select {
		case <-ctx.Done():
			_ = p.Close()
		case <-stop:
		}
	})
	helpers.Go(func() {
		tick := time.NewTicker(min(max(p.cfg.IdleTimeout/4, 10*time.Millisecond), 5*time.Second))
		defer tick.Stop()
		for {
			select {
			case now := <-tick.C:
				p.expireIdle(now)
			case <-stop:
				return
			}
		}
	})
	err := p.serve() // nil once Close has closed the socket
	close(stop)
	helpers.Wait()
	_ = p.Close()
	return err
}

func (p *Proxy) serve() error {
	buf := make([]byte, 65536)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("netsim: proxy read: %w", err)
		}
		c := p.client(unmap(from))
		if c == nil {
			continue
		}
		c.active.Store(time.Now().UnixNano())
		_, _ = c.up.WriteTo(buf[:n], p.targetUDP)
	}
}

// client returns the client at addr, creating it if there is room; nil
// when the datagram is to be dropped.
func (p *Proxy) client(addr netip.AddrPort) *proxyClient {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[addr]; c != nil {
		return c
	}
	if p.closed {
		return nil
	}
	if len(p.clients) >= p.cfg.MaxClients {
		p.rejected.Add(1)
		return nil
	}
	network := "udp4"
	if !p.target.Addr().Is4() {
		network = "udp6"
	}
	upstream, err := net.ListenUDP(network, nil)
	if err != nil {
		p.rejected.Add(1)
		return nil
	}
	_ = upstream.SetReadBuffer(socketBuffer)
	_ = upstream.SetWriteBuffer(socketBuffer)
	n := p.seen.Add(1)
	c := &proxyClient{
		addr:     net.UDPAddrFromAddrPort(addr),
		upstream: upstream,
		up:       newConn(upstream, true, p.up, nil, mixSeed(p.cfg.Seed, 2*n)),
		down:     newConn(p.conn, false, p.down, nil, mixSeed(p.cfg.Seed, 2*n+1)),
	}
	c.active.Store(time.Now().UnixNano())
	p.clients[addr] = c
	p.wg.Go(func() { p.relayDown(c) })
	return c
}

// relayDown forwards what the server sends to c's upstream socket back to
// the client, until the socket is closed.
func (p *Proxy) relayDown(c *proxyClient) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.upstream.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP port unreachable while the server is down
		}
		if unmap(from) != p.target {
			continue // only the server may talk to this socket
		}
		c.active.Store(time.Now().UnixNano())
		_, _ = c.down.WriteTo(buf[:n], c.addr)
	}
}

// expireIdle forgets the clients idle since before now-IdleTimeout and
// returns how many it forgot.
func (p *Proxy) expireIdle(now time.Time) int {
	limit := now.Add(-p.cfg.IdleTimeout).UnixNano()
	var idle []*proxyClient
	p.mu.Lock()
	for addr, c := range p.clients {
		if c.active.Load() < limit {
			idle = append(idle, c)
			delete(p.clients, addr)
		}
	}
	p.mu.Unlock()
	for _, c := range idle {
		p.expired.Add(1)
		p.retire(c)
	}
	return len(idle)
}

// retire closes a client removed from the map and keeps its counters.
func (p *Proxy) retire(c *proxyClient) {
	_ = c.up.Close()
	_ = c.down.Close()
	up, down := c.up.Stats(), c.down.Stats()
	up.Queued, up.QueuedBytes, down.Queued, down.QueuedBytes = 0, 0, 0, 0
	p.mu.Lock()
	p.past.Up = p.past.Up.add(up)
	p.past.Down = p.past.Down.add(down)
	p.mu.Unlock()
}
