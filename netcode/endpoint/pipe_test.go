package endpoint_test

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// runPeer drives e over conn the way a game loop does: read what arrives
// until the tick's deadline, let onTick send and read messages, flush. It
// returns when onTick returns false.
func runPeer(conn net.PacketConn, e *endpoint.Endpoint, tick time.Duration, onTick func(now time.Time) bool) error {
	buf := make([]byte, 2048)
	write := func(p []byte) { _, _ = conn.WriteTo(p, nil) }
	deadline := time.Now()
	for {
		deadline = deadline.Add(tick)
		if err := conn.SetReadDeadline(deadline); err != nil {
			return err
		}
		for {
			n, _, err := conn.ReadFrom(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return err
			}
			if err := e.Receive(time.Now(), buf[:n]); errors.Is(err, endpoint.ErrMalformedPacket) {
				return err
			}
		}
		now := time.Now()
		if !onTick(now) {
			return nil
		}
		e.Flush(now, write)
	}
}

// TestReliableOrderedOverPipe runs the headline scenario through the
// in-memory net.PacketConn pair, one goroutine per endpoint, in a synctest
// bubble so the simulated seconds cost no real time.
func TestReliableOrderedOverPipe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca, cb := netsim.Pipe(hostile, hostile, 40)
		defer ca.Close()
		defer cb.Close()
		a := newEndpointAt(t, time.Now())
		b := newEndpointAt(t, time.Now())

		const n = 10_000
		done := make(chan struct{})
		var got []uint32
		var wg sync.WaitGroup
		var errA, errB error
		wg.Go(func() {
			next := 0
			errA = runPeer(ca, a, 5*time.Millisecond, func(time.Time) bool {
				for ; next < n; next++ {
					if _, err := a.Send(chReliable, numbered(uint32(next), 32)); err != nil {
						break
					}
				}
				select {
				case <-done:
					return false
				default:
					return true
				}
			})
		})
		wg.Go(func() {
			idle, finished := 0, false
			errB = runPeer(cb, b, 5*time.Millisecond, func(time.Time) bool {
				for msg, ok := b.ReadMessage(chReliable); ok; msg, ok = b.ReadMessage(chReliable) {
					got = append(got, number(msg))
				}
				if len(got) == n && !finished {
					close(done)
					finished = true
				}
				if finished {
					idle++ // keep acking a little so a's last messages are acked
				}
				return idle < 100
			})
		})
		wg.Wait()
		require.NoError(t, errA)
		require.NoError(t, errB)
		require.Len(t, got, n)
		for i, v := range got {
			require.Equal(t, uint32(i), v)
		}
		s := a.Stats()
		assert.InDelta(t, 0.3, s.PacketLoss, 0.1)
		assert.InDelta(t, 100*time.Millisecond, s.MinRTT, float64(100*time.Millisecond))
		assert.Positive(t, s.MessagesResent)
		assert.Zero(t, b.Stats().PacketsMalformed)
	})
}

func newEndpointAt(t testing.TB, now time.Time) *endpoint.Endpoint {
	t.Helper()
	e, err := endpoint.NewEndpoint(endpoint.Config{}, now)
	require.NoError(t, err)
	return e
}

// BenchmarkReliableOrderedThroughputPipe is the throughput benchmark through
// the netsim in-memory net.PacketConn pair (a perfect link), one goroutine.
func BenchmarkReliableOrderedThroughputPipe(b *testing.B) {
	const batch = 256
	ca, cb := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	defer ca.Close()
	defer cb.Close()
	// Acks at every Flush, as the loopback benchmarks: one exchange per
	// iteration.
	cfg := endpoint.Config{AckDelay: endpoint.NoAckDelay}
	ea, err := endpoint.NewEndpoint(cfg, time.Now())
	require.NoError(b, err)
	eb, err := endpoint.NewEndpoint(cfg, time.Now())
	require.NoError(b, err)
	buf := make([]byte, 2048)
	written := 0
	writeA := func(p []byte) { _, _ = ca.WriteTo(p, nil); written++ }
	writeB := func(p []byte) { _, _ = cb.WriteTo(p, nil); written++ }
	pump := func(conn net.PacketConn, e *endpoint.Endpoint) {
		for ; written > 0; written-- {
			k, _, err := conn.ReadFrom(buf)
			if err != nil {
				b.Fatal(err)
			}
			if err := e.Receive(time.Now(), buf[:k]); err != nil {
				b.Fatal(err)
			}
		}
	}
	msg := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		for range batch {
			if _, err := ea.Send(chReliable, msg); err != nil {
				b.Fatal(err)
			}
		}
		ea.Flush(time.Now(), writeA)
		pump(cb, eb)
		for range batch {
			if _, ok := eb.ReadMessage(chReliable); !ok {
				b.Fatal("message missing")
			}
		}
		eb.Flush(time.Now(), writeB)
		pump(ca, ea)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
}
