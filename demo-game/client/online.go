package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// dialTimeout bounds the connection handshake.
const dialTimeout = 5 * time.Second

// endpointConfig is the demo's channel layout (endpoint.DefaultConfig, which
// server.Config's channel defaults follow) with the packet size left for
// the connection layer to fit its overhead into 1200-byte datagrams.
func endpointConfig() endpoint.Config {
	cfg := endpoint.DefaultConfig()
	cfg.MaxPacketSize = 0
	return cfg
}

// dial connects to the demo server at opts.Addr from a new UDP socket
// wrapped in a netsim conditioner (both directions get opts.Link, and the
// network panel changes them live), and returns the Online source over it.
func dial(opts clientui.Options) (clientui.Source, error) {
	ua, err := net.ResolveUDPAddr("udp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("client: -addr %q: %w", opts.Addr, err)
	}
	server := netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
	network := "udp4"
	if server.Addr().Is6() {
		network = "udp6"
	}
	pc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("client: open socket: %w", err)
	}
	link := netsim.WrapDuplex(pc, opts.Link, opts.Link, opts.Seed)
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	c, err := netcode.DialConn(ctx, link, server, netcode.ClientConfig{
		ProtocolID: opts.ProtocolID,
		Endpoint:   endpointConfig(),
	})
	if err != nil {
		return nil, fmt.Errorf("client: connect to %s: %w", opts.Addr, err)
	}
	return clientui.NewOnline(c, duplex{link}, opts.Addr)
}

// duplex applies the network panel's settings to both directions of the
// client's socket.
type duplex struct{ c *netsim.Conn }

func (d duplex) SetConfig(cfg netsim.Config) error {
	if err := d.c.SetConfig(cfg); err != nil {
		return err
	}
	return d.c.SetReceiveConfig(cfg)
}
