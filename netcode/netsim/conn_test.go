package netsim

import (
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestWrapDelaysWrites(t *testing.T) {
	tests := []struct {
		name            string
		cfg             Config
		lo, hi          time.Duration
		wantReorderedOK bool
	}{
		{"no conditions", Config{}, 0, 0, false},
		{"latency", Config{Latency: 80 * time.Millisecond}, 80 * time.Millisecond, 80 * time.Millisecond, false},
		{"latency and jitter", Config{Latency: 80 * time.Millisecond, Jitter: 20 * time.Millisecond}, 60 * time.Millisecond, 100 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := Pipe(Config{}, Config{}, 1)
				defer b.Close()
				w := Wrap(a, tt.cfg, 2)
				defer w.Close()

				const count = 500
				sentAt := make([]time.Time, count)
				writerDone := make(chan struct{})
				defer func() { <-writerDone }()
				go func() {
					defer close(writerDone)
					for i := range count {
						sentAt[i] = time.Now()
						_, _ = w.WriteTo([]byte{byte(i), byte(i >> 8)}, b.LocalAddr())
						time.Sleep(2 * time.Millisecond)
					}
				}()
				buf := make([]byte, 8)
				prev := -1
				for range count {
					n, _, err := b.ReadFrom(buf)
					require.NoError(t, err)
					require.Equal(t, 2, n)
					i := int(buf[0]) | int(buf[1])<<8
					d := time.Since(sentAt[i])
					assert.GreaterOrEqual(t, d, tt.lo)
					assert.LessOrEqual(t, d, tt.hi)
					if !tt.wantReorderedOK {
						assert.Equal(t, prev+1, i, "in order")
					}
					prev = i
				}
				s := w.Stats()
				assert.Equal(t, uint64(count), s.Delivered)
				n, err := w.WriteErrors()
				assert.Zero(t, n)
				assert.NoError(t, err)
			})
		})
	}
}

func TestWrapLiveConfigChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := Pipe(Config{}, Config{}, 1)
		defer b.Close()
		w := Wrap(a, Config{Latency: 10 * time.Millisecond}, 2)
		defer w.Close()

		send := func(n int) {
			for range n {
				_, err := w.WriteTo([]byte("x"), nil)
				require.NoError(t, err)
			}
		}
		send(10)
		require.NoError(t, w.SetConfig(Config{Loss: 1}))
		send(10)
		require.NoError(t, w.SetConfig(Config{Latency: 30 * time.Millisecond}))
		send(5)
		time.Sleep(time.Second)
		synctest.Wait()
		st := w.Stats()
		assert.Equal(t, uint64(25), st.Sent)
		assert.Equal(t, uint64(10), st.DroppedLoss)
		assert.Equal(t, uint64(15), st.Delivered)
		got := 0
		require.NoError(t, b.SetReadDeadline(time.Now().Add(time.Millisecond)))
		for {
			if _, _, err := b.ReadFrom(make([]byte, 4)); err != nil {
				assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
				break
			}
			got++
		}
		assert.Equal(t, 15, got)
	})
}

func TestWrapDuplex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := Pipe(Config{}, Config{}, 1)
		defer b.Close()
		w := WrapDuplex(a, Config{Latency: 10 * time.Millisecond}, Config{Latency: 30 * time.Millisecond}, 2)

		// Incoming: b → w takes the receive latency.
		start := time.Now()
		_, err := b.WriteTo([]byte("down"), nil)
		require.NoError(t, err)
		buf := make([]byte, 8)
		n, from, err := w.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "down", string(buf[:n]))
		assert.Equal(t, b.LocalAddr().String(), from.String())
		assert.Equal(t, 30*time.Millisecond, time.Since(start))

		// Outgoing: w → b takes the send latency.
		start = time.Now()
		_, err = w.WriteTo([]byte("up"), from)
		require.NoError(t, err)
		n, _, err = b.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "up", string(buf[:n]))
		assert.Equal(t, 10*time.Millisecond, time.Since(start))

		// The receive conditions change live.
		require.NoError(t, w.SetReceiveConfig(Config{Latency: 5 * time.Millisecond}))
		start = time.Now()
		_, _ = b.WriteTo([]byte("x"), nil)
		_, _, err = w.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, 5*time.Millisecond, time.Since(start))
		assert.Equal(t, uint64(2), w.ReceiveLink().Stats().Delivered)

		// The Conn's own read deadline.
		require.NoError(t, w.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
		_, _, err = w.ReadFrom(buf)
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout())
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.NoError(t, w.SetReadDeadline(time.Time{}))

		// Close unblocks a reader with net.ErrClosed and ends the goroutines.
		done := make(chan error)
		go func() {
			_, _, err := w.ReadFrom(buf)
			done <- err
		}()
		synctest.Wait()
		require.NoError(t, w.Close())
		assert.ErrorIs(t, <-done, net.ErrClosed)
		_, err = w.WriteTo([]byte("x"), nil)
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.NoError(t, w.Close(), "Close is idempotent")
	})
}

func TestWrapReceiveConfigNeedsDuplex(t *testing.T) {
	a, b := Pipe(Config{}, Config{}, 1)
	defer b.Close()
	w := Wrap(a, Config{}, 1)
	defer w.Close()
	err := w.SetReceiveConfig(Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WrapDuplex")
	assert.Nil(t, w.ReceiveLink())
	assert.NotNil(t, w.SendLink())
}

func TestWrapPanicsOnInvalidConfig(t *testing.T) {
	a, b := Pipe(Config{}, Config{}, 1)
	defer a.Close()
	defer b.Close()
	assert.PanicsWithError(t, "netsim: invalid config: Loss = 2: must be a probability between 0 and 1", func() {
		Wrap(a, Config{Loss: 2}, 1)
	})
}

// TestWrapUDP runs a Conn over real loopback sockets and checks that Close
// leaves no goroutine behind (TestMain's goleak check).
// udpPair returns two loopback UDP sockets; the first is closed when the
// test ends, the second is for the test to wrap (the wrapper closes it).
func udpPair(t *testing.T) (server, client net.PacketConn) {
	t.Helper()
	server, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { server.Close() })
	client, err = net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	return server, client
}

func TestWrapUDP(t *testing.T) {
	server, client := udpPair(t)
	w := WrapDuplex(client, Config{Latency: 5 * time.Millisecond}, Config{Latency: time.Millisecond}, 3)
	defer w.Close()

	const count = 20
	for i := range count {
		_, err := w.WriteTo([]byte{byte(i)}, server.LocalAddr())
		require.NoError(t, err)
	}
	require.NoError(t, server.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 8)
	for i := range count {
		n, from, err := server.ReadFrom(buf)
		require.NoError(t, err)
		require.Equal(t, []byte{byte(i)}, buf[:n])
		_, err = server.WriteTo(buf[:n], from)
		require.NoError(t, err)
	}
	require.NoError(t, w.SetReadDeadline(time.Now().Add(5*time.Second)))
	for i := range count {
		n, _, err := w.ReadFrom(buf)
		require.NoError(t, err)
		require.Equal(t, []byte{byte(i)}, buf[:n])
	}
	require.NoError(t, w.Close())
	_, err := client.WriteTo([]byte("x"), server.LocalAddr())
	assert.ErrorIs(t, err, net.ErrClosed, "Close closed the wrapped conn")
}

func BenchmarkWrap(b *testing.B) {
	payload := make([]byte, 64)
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"perfect", Config{}},
		{"lossy", Config{Loss: 0.05, Duplicate: 0.01}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			x, y := Pipe(Config{}, Config{}, 1)
			defer y.Close()
			w := Wrap(x, bc.cfg, 1)
			defer w.Close()
			buf := make([]byte, 128)
			to := y.LocalAddr()
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				_, _ = w.WriteTo(payload, to)
				if y.in.link.Stats().Queued > 0 {
					_, _, _ = y.ReadFrom(buf)
				}
			}
		})
	}
}

func TestWrapCountsWriteErrors(t *testing.T) {
	a, b := Pipe(Config{}, Config{}, 1)
	defer b.Close()
	w := Wrap(a, Config{}, 1)
	defer w.Close()
	// The pipe refuses any address but its peer's; like UDP, the Conn does
	// not fail the write but counts the refusal.
	n, err := w.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	count, last := w.WriteErrors()
	assert.Equal(t, uint64(1), count)
	assert.ErrorContains(t, last, "no route")
}

// TestCloseDeliversInFlight: datagrams written before Close are on the
// simulated wire and still arrive, each after its delay; writes after
// Close fail.
func TestCloseDeliversInFlight(t *testing.T) {
	server, client := udpPair(t)
	const latency = 50 * time.Millisecond
	w := Wrap(client, Config{Latency: latency}, 5)

	start := time.Now()
	const count = 5
	for i := range count {
		_, err := w.WriteTo([]byte{byte(i)}, server.LocalAddr())
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	assert.GreaterOrEqual(t, time.Since(start), latency, "Close returned before what was in flight left")
	_, err := w.WriteTo([]byte("late"), server.LocalAddr())
	assert.ErrorIs(t, err, net.ErrClosed)

	require.NoError(t, server.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 8)
	for i := range count {
		n, _, err := server.ReadFrom(buf)
		require.NoError(t, err, "datagram %d", i)
		assert.Equal(t, []byte{byte(i)}, buf[:n])
	}
}
