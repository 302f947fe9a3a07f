package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/trace"
	"slices"
	"sync"
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
)

const (
	twProtocol   = 0xbe7c4
	chReliable   = 0 // endpoint.DefaultConfig channel ids
	chUnreliable = 1
	chSequenced  = 2
)

// twConfig is the endpoint configuration of both sides: the default
// channels, with the reliable-ordered channel's queue and receive window at
// 1024 messages, kcp-go's window in the fast mode measured beside it.
func twConfig() endpoint.Config {
	cfg := endpoint.DefaultConfig()
	cfg.Channels = slices.Clone(cfg.Channels)
	cfg.Channels[chReliable].MaxQueuedMessages = 1024
	cfg.Channels[chReliable].MaxReceivedMessages = 1024
	return cfg
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// twServer runs a netcode server on loopback in a goroutine of its own,
// handing every message any client sends to onMessage, which may Send.
type twServer struct {
	srv  *netcode.Server
	stop chan struct{}
	done sync.WaitGroup
}

func startTWServer(onMessage func(s *netcode.Server, id netcode.ClientID, ch int, msg []byte)) (*twServer, error) {
	return startTWServerInline(false, onMessage)
}

// startTWServerInline is startTWServer with ServerConfig.ReceiveInline and
// SendInline set to inline: its loop, which waits with Server.Wait, then
// reads the socket itself, and writes its datagrams itself.
func startTWServerInline(inline bool, onMessage func(s *netcode.Server, id netcode.ClientID, ch int, msg []byte)) (*twServer, error) {
	srv, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{ProtocolID: twProtocol, Endpoint: twConfig(), Logger: quiet, ReceiveInline: inline, SendInline: inline})
	if err != nil {
		return nil, err
	}
	t := &twServer{srv: srv, stop: make(chan struct{})}
	t.done.Go(func() {
		var clients []netcode.ClientID
		for {
			select {
			case <-t.stop:
				return
			default:
			}
			srv.Wait(time.Now().Add(time.Millisecond))
			now := time.Now()
			srv.Receive(now)
			clients = srv.AppendClients(clients[:0])
			for _, id := range clients {
				for _, ch := range []int{chReliable, chUnreliable, chSequenced} {
					for msg, ok := srv.ReadMessage(id, ch); ok; msg, ok = srv.ReadMessage(id, ch) {
						onMessage(srv, id, ch, msg)
					}
				}
			}
			srv.Flush(now)
		}
	})
	return t, nil
}

func (t *twServer) addr() string { return t.srv.Addr().String() }

func (t *twServer) close() {
	close(t.stop)
	t.done.Wait()
	_ = t.srv.Close()
}

func dialTW(addr string) (*netcode.Client, error) { return dialTWConfig(addr, twConfig()) }

func dialTWConfig(addr string, cfg endpoint.Config) (*netcode.Client, error) {
	return dialTWInline(addr, cfg, false)
}

// dialTWInline is dialTWConfig with ClientConfig.ReceiveInline set to inline.
func dialTWInline(addr string, cfg endpoint.Config, inline bool) (*netcode.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return netcode.Dial(ctx, addr, netcode.ClientConfig{ProtocolID: twProtocol, Endpoint: cfg, Logger: quiet, ReceiveInline: inline})
}

// twConfigAck is twConfig with AckDelay d, when d is not 0.
func twConfigAck(d time.Duration) endpoint.Config {
	cfg := twConfig()
	if d != 0 {
		cfg.AckDelay = d
	}
	return cfg
}

// twRoundTrip measures n round trips of a 32-byte message on channel ch,
// one at a time, through a server that echoes it on the same channel; with
// inline, both ends set ReceiveInline.
func twRoundTrip(ch, n int, inline bool) (sample, error) { return twRoundTripTraced(ch, n, inline, "") }

// twRoundTripTraced is twRoundTrip that, with traceTo set, writes a
// runtime/trace of the measured round trips to that file, each one a
// "round trip" region (go tool trace lists them by duration under
// User-defined regions, each with the goroutines it waited on).
func twRoundTripTraced(ch, n int, inline bool, traceTo string) (sample, error) {
	srv, err := startTWServerInline(inline, func(s *netcode.Server, id netcode.ClientID, ch int, msg []byte) {
		_, _ = s.Send(id, ch, msg)
	})
	if err != nil {
		return sample{}, err
	}
	defer srv.close()
	cfg := netcode.ClientConfig{ProtocolID: twProtocol, Endpoint: twConfig(), Logger: quiet, ReceiveInline: inline}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := netcode.Dial(ctx, srv.addr(), cfg)
	if err != nil {
		return sample{}, err
	}
	defer c.Close()
	msg := make([]byte, 32)
	res := sample{expected: n}
	var region *trace.Region
	for i := range n + n/10 { // the first tenth warms up
		if traceTo != "" && i == n/10 {
			f, err := os.Create(traceTo)
			if err != nil {
				return res, err
			}
			defer f.Close()
			if err := trace.Start(f); err != nil {
				return res, err
			}
			defer trace.Stop()
		}
		binary.LittleEndian.PutUint64(msg, uint64(i))
		if trace.IsEnabled() {
			region = trace.StartRegion(ctx, "round trip")
		}
		start := time.Now()
		if _, err := c.Send(ch, msg); err != nil {
			return res, err
		}
		if err := c.Update(start); err != nil {
			return res, err
		}
		deadline := start.Add(time.Second)
	wait:
		for {
			if !c.Wait(deadline) && time.Now().After(deadline) {
				break wait // lost (unreliable): the next one
			}
			if err := c.Update(time.Now()); err != nil {
				return res, err
			}
			for got, ok := c.ReadMessage(ch); ok; got, ok = c.ReadMessage(ch) {
				if binary.LittleEndian.Uint64(got) == uint64(i) {
					if i >= n/10 {
						res.lat = append(res.lat, time.Since(start))
					}
					break wait
				}
			}
		}
		if region != nil {
			region.End()
			region = nil
		}
	}
	return res, nil
}

// twStream sends n 32-byte messages on channel ch at rate per second from a
// client to a server through a lossy proxy, and returns their latencies
// from the moment each was due to its delivery by ReadMessage.
func twStream(ch, n, rate int, link linkConfig, seed uint64) (sample, error) {
	var mu sync.Mutex
	start := time.Now()
	res := sample{expected: n}
	seen := make([]bool, n)
	got := 0
	srv, err := startTWServer(func(_ *netcode.Server, _ netcode.ClientID, _ int, msg []byte) {
		i := binary.LittleEndian.Uint64(msg)
		due := time.Duration(binary.LittleEndian.Uint64(msg[8:]))
		mu.Lock()
		defer mu.Unlock()
		if i < uint64(n) && !seen[i] {
			seen[i] = true
			got++
			res.lat = append(res.lat, time.Since(start)-due)
		}
	})
	if err != nil {
		return res, err
	}
	defer srv.close()
	proxy, err := startProxy(srv.addr(), link, seed)
	if err != nil {
		return res, err
	}
	defer proxy.close()
	c, err := dialTW(proxy.addr)
	if err != nil {
		return res, err
	}
	defer c.Close()

	// The sender's loop: every millisecond, queue what is due (a backlog
	// waits when the send queue is full, and its latency counts from when
	// it was due), then Update, which takes in acks and flushes.
	start = time.Now()
	interval := time.Second / time.Duration(rate)
	msg := make([]byte, 32)
	next := 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	drainUntil := time.Time{}
	for {
		<-tick.C
		elapsed := time.Since(start)
		for ; next < n && time.Duration(next)*interval <= elapsed; next++ {
			binary.LittleEndian.PutUint64(msg, uint64(next))
			binary.LittleEndian.PutUint64(msg[8:], uint64(time.Duration(next)*interval))
			if _, err := c.Send(ch, msg); err != nil {
				if errors.Is(err, netcode.ErrSendQueueFull) {
					break
				}
				return res, err
			}
		}
		if err := c.Update(time.Now()); err != nil {
			return res, fmt.Errorf("client: %w", err)
		}
		mu.Lock()
		all := got == n
		mu.Unlock()
		if next == n && drainUntil.IsZero() {
			drainUntil = time.Now().Add(5 * time.Second)
		}
		if all || (!drainUntil.IsZero() && time.Now().After(drainUntil)) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return sample{lat: slices.Clone(res.lat), expected: n}, nil
}
