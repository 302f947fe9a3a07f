package netcode

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// onlyPacketConn hides the *net.UDPConn so the socket takes the plain path.
type onlyPacketConn struct{ net.PacketConn }

func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	return c
}

func TestSocketBatchAndPlain(t *testing.T) {
	tests := []struct {
		name     string
		wrap     func(*net.UDPConn) net.PacketConn
		batching bool
		batched  bool
	}{
		{"udp batched", func(c *net.UDPConn) net.PacketConn { return c }, true, true},
		{"udp unbatched", func(c *net.UDPConn) net.PacketConn { return c }, false, false},
		{"generic packet conn", func(c *net.UDPConn) net.PacketConn { return onlyPacketConn{c} }, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := listenLoopback(t), listenLoopback(t)
			sa, sb := newSocket(tt.wrap(a), tt.batching), newSocket(tt.wrap(b), tt.batching)
			assert.Equal(t, tt.batched, sa.batch != nil)
			defer a.Close()
			defer b.Close()
			to := b.LocalAddr().(*net.UDPAddr).AddrPort()
			out := make([]outDatagram, 50)
			for i := range out {
				out[i] = outDatagram{buf: []byte(fmt.Sprintf("datagram %02d", i)), to: to}
			}
			sent, err := sa.write(out)
			require.NoError(t, err)
			require.Equal(t, len(out), sent)

			require.NoError(t, b.SetReadDeadline(time.Now().Add(5*time.Second)))
			ds := make([]*datagram, socketBatchSize)
			for i := range ds {
				ds[i] = &datagram{buf: make([]byte, maxDatagramSize)}
			}
			from := a.LocalAddr().(*net.UDPAddr).AddrPort()
			got := 0
			for got < len(out) {
				n, err := sb.read(ds)
				require.NoError(t, err)
				for _, d := range ds[:n] {
					assert.Equal(t, fmt.Sprintf("datagram %02d", got), string(d.buf[:d.n]))
					assert.Equal(t, from, d.from)
					got++
				}
			}
		})
	}
}

func TestReceiverDropsWhenQueueFull(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	defer a.Close()
	r := newReceiver(newSocket(b, true), 4, time.Now, nil)
	r.start()
	to := b.LocalAddr().(*net.UDPAddr).AddrPort()
	out := []outDatagram{{buf: []byte("x"), to: to}}
	// Nobody drains the queue: the first 4 are queued, the rest dropped.
	deadline := time.After(5 * time.Second)
	sa := newSocket(a, false)
	for r.dropped.Load() < 10 {
		_, err := sa.write(out)
		require.NoError(t, err)
		select {
		case <-deadline:
			t.Fatalf("dropped %d, want 10", r.dropped.Load())
		default:
		}
	}
	ds := r.take()
	require.Len(t, ds, 4)
	d := ds[0]
	assert.Equal(t, "x", string(d.buf[:d.n]))
	assert.Equal(t, normalizeAddr(a.LocalAddr().(*net.UDPAddr).AddrPort()), d.from)
	r.release(ds)
	require.NoError(t, r.stop())
	assert.NoError(t, r.lastErr())
}

// TestReceiverPoolSizedToTraffic: a receiver with a long queue allocates
// its buffers a chunk at a time, as datagrams arrive, not all up front.
func TestReceiverPoolSizedToTraffic(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	defer a.Close()
	const queueLen = 4096
	r := newReceiver(newSocket(b, true), queueLen, time.Now, nil)
	r.mu.Lock()
	assert.Equal(t, queueLen, r.unmade, "nothing allocated before the reader starts")
	r.mu.Unlock()
	r.start()
	to := b.LocalAddr().(*net.UDPAddr).AddrPort()
	sa := newSocket(a, false)
	got := 0
	deadline := time.After(5 * time.Second)
	for got < 100 {
		_, err := sa.write([]outDatagram{{buf: []byte("x"), to: to}})
		require.NoError(t, err)
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("received %d of 100", got)
		}
		ds := r.take()
		got += len(ds)
		r.release(ds)
	}
	r.mu.Lock()
	assert.Equal(t, queueLen-poolChunk, r.unmade, "one chunk carries a datagram at a time")
	r.mu.Unlock()
	require.NoError(t, r.stop())
}

func TestNormalizeAddr(t *testing.T) {
	assert.Equal(t, netip.MustParseAddrPort("1.2.3.4:5"), normalizeAddr(netip.MustParseAddrPort("[::ffff:1.2.3.4]:5")))
	assert.Equal(t, netip.MustParseAddrPort("[::1]:5"), normalizeAddr(netip.MustParseAddrPort("[::1]:5")))
}

func TestReceiveCoalesceConfig(t *testing.T) {
	_, err := Listen("127.0.0.1:0", ServerConfig{ProtocolID: 1, ReceiveCoalesce: 20 * time.Millisecond})
	require.ErrorIs(t, err, ErrInvalidConnConfig)
	assert.EqualError(t, err, ErrInvalidConnConfig.Error()+": ServerConfig.ReceiveCoalesce = 20ms, want 0 (read at every arrival) up to 10ms")
	for _, d := range []time.Duration{NoCoalesce, 0, time.Millisecond, 10 * time.Millisecond} {
		s, err := Listen("127.0.0.1:0", ServerConfig{ProtocolID: 1, ReceiveCoalesce: d})
		require.NoError(t, err, d)
		assert.Equal(t, max(d, 0), s.rx.coalesce)
		require.NoError(t, s.Close())
	}
}
