package netsim

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer answers every datagram with the same bytes and records which
// addresses it heard from. It stops when the test ends.
type echoServer struct {
	conn  net.PacketConn
	mu    sync.Mutex
	peers map[string]int
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	e := &echoServer{conn: conn, peers: map[string]int{}}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			e.mu.Lock()
			e.peers[from.String()]++
			e.mu.Unlock()
			_, _ = conn.WriteTo(buf[:n], from)
		}
	})
	t.Cleanup(func() {
		conn.Close()
		wg.Wait()
	})
	return e
}

func (e *echoServer) peerCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.peers)
}

func startProxy(t *testing.T, cfg ProxyConfig) *Proxy {
	t.Helper()
	p, err := ListenProxy(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "Serve returns nil after its context ends")
	})
	return p
}

func dialClient(t *testing.T) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	return c
}

// roundTrip sends msg through the proxy and waits for the echo.
func roundTrip(t *testing.T, c net.PacketConn, proxy net.Addr, msg string) {
	t.Helper()
	_, err := c.WriteTo([]byte(msg), proxy)
	require.NoError(t, err)
	buf := make([]byte, 256)
	n, from, err := c.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, msg, string(buf[:n]))
	assert.Equal(t, proxy.String(), from.String())
}

func TestProxyEcho(t *testing.T) {
	echo := startEcho(t)
	p := startProxy(t, ProxyConfig{
		Listen: "127.0.0.1:0", Target: echo.conn.LocalAddr().String(),
		Up:   Config{Latency: 2 * time.Millisecond},
		Down: Config{Latency: time.Millisecond, Jitter: time.Millisecond},
	})
	a, b := dialClient(t), dialClient(t)
	start := time.Now()
	for _, msg := range []string{"one", "two", "three"} {
		roundTrip(t, a, p.Addr(), "a:"+msg)
		roundTrip(t, b, p.Addr(), "b:"+msg)
	}
	assert.GreaterOrEqual(t, time.Since(start), 6*3*time.Millisecond, "each round trip takes at least the simulated latency")
	assert.Equal(t, 2, echo.peerCount(), "one upstream socket per client")

	s := p.Stats()
	assert.Equal(t, 2, s.Clients)
	assert.Equal(t, uint64(2), s.ClientsSeen)
	assert.Equal(t, uint64(6), s.Up.Sent)
	assert.Equal(t, uint64(6), s.Up.Delivered)
	assert.Equal(t, uint64(6), s.Up.Delayed)
	assert.Equal(t, uint64(6), s.Down.Delivered)
}

func TestProxyLiveConfig(t *testing.T) {
	echo := startEcho(t)
	p := startProxy(t, ProxyConfig{Listen: "127.0.0.1:0", Target: echo.conn.LocalAddr().String(), Seed: 5})
	c := dialClient(t)
	roundTrip(t, c, p.Addr(), "before")

	// From now on datagrams over 10 bytes are dropped on the way up. The
	// proxy reads its socket in order, so once the short marker comes back
	// every long datagram before it has met the new limit.
	require.NoError(t, p.SetConfig(Config{MaxDatagramSize: 10}, Config{}))
	const dropped = 50
	for range dropped {
		_, err := c.WriteTo([]byte("longer than ten bytes"), p.Addr())
		require.NoError(t, err)
	}
	roundTrip(t, c, p.Addr(), "marker")
	s := p.Stats()
	assert.Equal(t, uint64(dropped), s.Up.DroppedOversize)
	assert.Equal(t, uint64(dropped+2), s.Up.Sent)
	assert.Equal(t, uint64(2), s.Up.Delivered)
	assert.Equal(t, uint64(2), s.Down.Delivered)

	err := p.SetConfig(Config{Loss: 7}, Config{})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), "up: ")
	err = p.SetConfig(Config{}, Config{Loss: 7})
	assert.Contains(t, err.Error(), "down: ")
}

func TestProxyClientLimitAndExpiry(t *testing.T) {
	echo := startEcho(t)
	p := startProxy(t, ProxyConfig{Listen: "127.0.0.1:0", Target: echo.conn.LocalAddr().String(), MaxClients: 1})
	a, b := dialClient(t), dialClient(t)
	roundTrip(t, a, p.Addr(), "a")

	// b is over the limit: dropped and counted. a's next round trip shows
	// that the proxy has read b's datagram (one socket, read in order).
	_, err := b.WriteTo([]byte("b"), p.Addr())
	require.NoError(t, err)
	roundTrip(t, a, p.Addr(), "a again")
	s := p.Stats()
	assert.Equal(t, uint64(1), s.ClientsRejected)
	assert.Equal(t, 1, s.Clients)

	// Nothing expires while active; everything expires once idle long enough.
	assert.Zero(t, p.expireIdle(time.Now()))
	assert.Equal(t, 1, p.expireIdle(time.Now().Add(DefaultIdleTimeout+time.Second)))
	s = p.Stats()
	assert.Equal(t, 0, s.Clients)
	assert.Equal(t, uint64(1), s.ClientsExpired)
	assert.Equal(t, uint64(2), s.Up.Sent, "counters of expired clients are kept")

	// Room again: b is served, with a new upstream socket.
	roundTrip(t, b, p.Addr(), "b served")
	assert.Equal(t, 2, echo.peerCount())
	assert.Equal(t, uint64(2), p.Stats().ClientsSeen)
}

func TestProxyConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  ProxyConfig
		want string
	}{
		{"no listen", ProxyConfig{Target: "127.0.0.1:1"}, "Listen is empty"},
		{"no target", ProxyConfig{Listen: "127.0.0.1:0"}, "Target is empty"},
		{"bad up", ProxyConfig{Listen: "127.0.0.1:0", Target: "127.0.0.1:1", Up: Config{Loss: -1}}, "ProxyConfig.Up: netsim: invalid config: Loss = -1"},
		{"bad down", ProxyConfig{Listen: "127.0.0.1:0", Target: "127.0.0.1:1", Down: Config{Jitter: -1}}, "ProxyConfig.Down: netsim: invalid config: Jitter = -1ns"},
		{"max clients", ProxyConfig{Listen: "127.0.0.1:0", Target: "127.0.0.1:1", MaxClients: -2}, "MaxClients = -2"},
		{"idle", ProxyConfig{Listen: "127.0.0.1:0", Target: "127.0.0.1:1", IdleTimeout: -time.Second}, "IdleTimeout = -1s"},
		{"bad target", ProxyConfig{Listen: "127.0.0.1:0", Target: "nohostport"}, `Target = "nohostport"`},
		{"bad listen", ProxyConfig{Listen: "127.0.0.1:99999", Target: "127.0.0.1:1"}, `Listen = "127.0.0.1:99999"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ListenProxy(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestProxyServeTwiceAndClose(t *testing.T) {
	p, err := ListenProxy(ProxyConfig{Listen: "127.0.0.1:0", Target: "127.0.0.1:9"})
	require.NoError(t, err)
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- p.Serve(context.Background()) }()
	}
	// Exactly one of the two calls reports the misuse, at once.
	err = <-done
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Serve called twice")
	require.NoError(t, p.Close())
	assert.NoError(t, <-done, "the serving call returns nil after Close")
	assert.NoError(t, p.Close(), "Close is idempotent")
}

// TestProxyLoss sends 1000 datagrams through a proxy losing 30% on the way
// up and checks the loss the server sees, end to end over loopback.
func TestProxyLoss(t *testing.T) {
	echo := startEcho(t)
	p := startProxy(t, ProxyConfig{Listen: "127.0.0.1:0", Target: echo.conn.LocalAddr().String(),
		Up: Config{Loss: 0.3}, Seed: 11})
	c := dialClient(t)
	const batches, batch = 10, 100
	echoes, markers := 0, 0
	buf := make([]byte, 16)
	for b := range batches {
		// Small batches, so the kernel's socket buffers never overflow.
		for i := range batch {
			_, err := c.WriteTo([]byte{'d', byte(b), byte(i)}, p.Addr())
			require.NoError(t, err)
		}
		// A marker (lost 30% of the time too: then another) shows when
		// the proxy has read the batch: it reads its socket in order.
		for gotMarker := false; !gotMarker; {
			require.Less(t, markers, 100, "markers keep getting lost")
			markers++
			_, err := c.WriteTo([]byte("m"), p.Addr())
			require.NoError(t, err)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(500*time.Millisecond)))
			for {
				n, _, err := c.ReadFrom(buf)
				if err != nil {
					break // marker lost: send another
				}
				if n == 1 && buf[0] == 'm' {
					gotMarker = true
					break
				}
				echoes++
			}
		}
	}
	s := p.Stats()
	assert.Equal(t, uint64(batches*batch+markers), s.Up.Sent)
	assert.InDelta(t, 0.3, float64(s.Up.DroppedLoss)/float64(s.Up.Sent), 0.05)
	assert.Equal(t, s.Up.Sent-s.Up.DroppedLoss, s.Up.Delivered)
	assert.Equal(t, int(s.Up.Delivered)-batches, echoes, "every datagram that passed came back")
}
