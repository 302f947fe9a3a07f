package clientui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// DialerConfig configures a UDPDialer.
type DialerConfig struct {
	// Addr is the server's UDP address, host:port.
	Addr string
	// Link conditions both directions of each socket (netsim); Seed seeds
	// the first socket's conditioner, Seed+1 the next one's, and so on.
	Link netsim.Config
	Seed uint64
	// Live wraps every socket in a conditioner even on a perfect Link, so
	// that SetConfig can change its conditions later (the client's network
	// panel). Without it a socket on a perfect Link is not wrapped, which
	// spares the conditioner's goroutine (a bot swarm).
	Live bool
	// Netcode configures each connection (NetcodeConfig's by default).
	Netcode netcode.ClientConfig
}

// UDPDialer makes a client's connections to a demo server (a
// client.Config's Dial): every attempt opens a new UDP socket, wraps it in
// a netsim conditioner and runs the netcode handshake over it. SetConfig
// changes the conditions of the newest socket and of those to come, so the
// network panel keeps working across reconnects.
//
// The zero UDPDialer is not usable (NewUDPDialer). Dial and SetConfig are
// safe for concurrent use (a client dials on a goroutine of its own).
type UDPDialer struct {
	server  netip.AddrPort
	network string
	ncfg    netcode.ClientConfig
	live    bool

	mu       sync.Mutex
	link     netsim.Config
	seed     uint64
	attempts uint64
	conn     *netsim.Conn // the newest socket's conditioner; nil when not wrapped
}

// NewUDPDialer resolves cfg.Addr and returns a dialer for it. The error
// names a bad address or link.
func NewUDPDialer(cfg DialerConfig) (*UDPDialer, error) {
	ap, err := ResolveServer(cfg.Addr)
	if err != nil {
		return nil, err
	}
	if err := cfg.Link.Validate(); err != nil {
		return nil, fmt.Errorf("clientui: DialerConfig.Link: %w", err)
	}
	network := "udp4"
	if ap.Addr().Is6() {
		network = "udp6"
	}
	if cfg.Netcode.ProtocolID == 0 {
		cfg.Netcode = NetcodeConfig()
	}
	return &UDPDialer{server: ap, network: network, ncfg: cfg.Netcode, live: cfg.Live, link: cfg.Link, seed: cfg.Seed}, nil
}

// ResolveServer parses addr (host:port) into the server's address, with an
// IPv4-mapped address unmapped. The error names addr and what is allowed.
func ResolveServer(addr string) (netip.AddrPort, error) {
	if addr == "" {
		return netip.AddrPort{}, errors.New("clientui: server address is empty: want host:port, like 127.0.0.1:7777")
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("clientui: server address %q: %w", addr, err)
	}
	ap := ua.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !ap.Addr().IsValid() || ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("clientui: server address %q: want an IP address (or host name) and a non-zero port", addr)
	}
	return ap, nil
}

// Server returns the address the dialer connects to.
func (d *UDPDialer) Server() netip.AddrPort { return d.server }

// Dial opens a new socket and connects it to the server; the connection
// owns the socket. It returns when the handshake ends or ctx is done.
func (d *UDPDialer) Dial(ctx context.Context) (*netcode.Client, error) {
	udp, err := net.ListenUDP(d.network, nil)
	if err != nil {
		return nil, fmt.Errorf("clientui: open socket: %w", err)
	}
	var pc net.PacketConn = udp
	d.mu.Lock()
	seed := d.seed + d.attempts
	d.attempts++
	if d.live || d.link != (netsim.Config{}) {
		c := netsim.WrapDuplex(udp, d.link, d.link, seed)
		d.conn, pc = c, c
	}
	d.mu.Unlock()
	return netcode.DialConn(ctx, pc, d.server, d.ncfg)
}

// SetConfig changes the conditions of the newest socket (both directions,
// live) and of the sockets of later attempts. On a dialer that is not Live,
// a socket opened on a perfect link keeps it.
func (d *UDPDialer) SetConfig(cfg netsim.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.link = cfg
	if d.conn == nil {
		return nil
	}
	if err := d.conn.SetConfig(cfg); err != nil {
		return err
	}
	return d.conn.SetReceiveConfig(cfg)
}
