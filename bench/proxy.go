package main

import (
	"context"
	"time"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// linkConfig is the condition of each direction through the proxy:
// independent loss, and a one-way delay of latency ± jitter (uniform; as
// netem, jitter alone reorders datagrams sent closer together than it).
type linkConfig struct {
	loss            float64
	latency, jitter time.Duration
	bandwidth       int64 // bytes per second; 0: no cap
}

func (l linkConfig) netsim() netsim.Config {
	return netsim.Config{Loss: l.loss, Latency: l.latency, Jitter: l.jitter, Bandwidth: l.bandwidth}
}

// proxy is a netsim UDP proxy on loopback in front of a server.
type proxy struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func startProxy(target string, link linkConfig, seed uint64) (*proxy, error) {
	p, err := netsim.ListenProxy(netsim.ProxyConfig{
		Listen: "127.0.0.1:0", Target: target,
		Up: link.netsim(), Down: link.netsim(), Seed: seed,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	return &proxy{addr: p.Addr().String(), cancel: cancel, done: done}, nil
}

func (p *proxy) close() {
	p.cancel()
	<-p.done
}
