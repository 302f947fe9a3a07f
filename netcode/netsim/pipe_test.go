package netsim

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
)

func TestPipeRoundTrip(t *testing.T) {
	a, b := Pipe(Config{}, Config{}, 1)
	defer a.Close()
	defer b.Close()

	_, err := a.WriteTo([]byte("ping"), b.LocalAddr())
	require.NoError(t, err)
	buf := make([]byte, 16)
	n, from, err := b.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf[:n]))
	assert.Equal(t, a.LocalAddr().String(), from.String())

	_, err = b.WriteTo([]byte("pong"), from)
	require.NoError(t, err)
	n, from, err = a.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "pong", string(buf[:n]))
	assert.Equal(t, b.LocalAddr().String(), from.String())

	// A short buffer truncates, like UDP.
	_, err = a.WriteTo([]byte("truncated"), nil)
	require.NoError(t, err)
	n, _, err = b.ReadFrom(buf[:5])
	require.NoError(t, err)
	assert.Equal(t, "trunc", string(buf[:n]))
}

func TestPipeWriteToUnknownAddress(t *testing.T) {
	a, b := Pipe(Config{}, Config{}, 1)
	defer a.Close()
	defer b.Close()
	_, err := a.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no route")
}

func TestPipeLatencyInFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := Pipe(Config{Latency: 100 * time.Millisecond}, Config{}, 7)
		defer a.Close()
		defer b.Close()

		const count = 5000
		start := time.Now()
		go func() {
			for i := range count {
				_, _ = a.WriteTo([]byte{byte(i), byte(i >> 8)}, nil)
				time.Sleep(time.Millisecond) // fake time: 1 datagram per ms
			}
		}()
		buf := make([]byte, 8)
		for i := range count {
			n, _, err := b.ReadFrom(buf)
			require.NoError(t, err)
			require.Equal(t, 2, n)
			require.Equal(t, i, int(buf[0])|int(buf[1])<<8, "in order")
			// Datagram i was written at start+i ms and takes exactly 100 ms.
			require.Equal(t, time.Duration(i)*time.Millisecond+100*time.Millisecond, time.Since(start))
		}
		s := a.Stats()
		assert.Equal(t, uint64(count), s.Sent)
		assert.Equal(t, uint64(count), s.Delivered)
		assert.Equal(t, uint64(count), s.Delayed)
	})
}

func TestPipeReadDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := Pipe(Config{}, Config{}, 1)
		defer a.Close()
		defer b.Close()

		start := time.Now()
		require.NoError(t, b.SetReadDeadline(start.Add(50*time.Millisecond)))
		_, _, err := b.ReadFrom(make([]byte, 8))
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.True(t, errors.As(err, &ne))
		assert.True(t, ne.Timeout())
		assert.Equal(t, 50*time.Millisecond, time.Since(start))

		// A past deadline fails at once; clearing it lets reads work again.
		require.NoError(t, b.SetReadDeadline(time.Now().Add(-time.Second)))
		_, _, err = b.ReadFrom(make([]byte, 8))
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.NoError(t, b.SetReadDeadline(time.Time{}))
		_, err = a.WriteTo([]byte("x"), nil)
		require.NoError(t, err)
		n, _, err := b.ReadFrom(make([]byte, 8))
		require.NoError(t, err)
		assert.Equal(t, 1, n)

		// A deadline extended while a reader waits is honoured.
		require.NoError(t, b.SetReadDeadline(time.Now().Add(10*time.Millisecond)))
		done := make(chan error)
		readStart := time.Now()
		go func() {
			_, _, err := b.ReadFrom(make([]byte, 8))
			done <- err
		}()
		synctest.Wait()
		require.NoError(t, b.SetReadDeadline(time.Now().Add(time.Second)))
		assert.ErrorIs(t, <-done, os.ErrDeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(readStart))
	})
}

func TestPipeCloseUnblocksReaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := Pipe(Config{}, Config{}, 1)
		defer a.Close()

		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Go(func() {
				_, _, errs[i] = b.ReadFrom(make([]byte, 8))
			})
		}
		synctest.Wait() // all three readers are blocked
		require.NoError(t, b.Close())
		wg.Wait()
		for _, err := range errs {
			assert.ErrorIs(t, err, net.ErrClosed)
		}
		_, err := b.WriteTo([]byte("x"), nil)
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.ErrorIs(t, b.SetReadDeadline(time.Time{}), net.ErrClosed)
		assert.NoError(t, b.Close(), "Close is idempotent")

		// Writing to a closed peer succeeds and goes nowhere, like UDP.
		n, err := a.WriteTo([]byte("x"), nil)
		assert.NoError(t, err)
		assert.Equal(t, 1, n)
	})
}

func TestPipeManyReaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := Pipe(Config{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}, Config{}, 3)
		defer a.Close()
		defer b.Close()
		const count = 1000
		var mu sync.Mutex
		got := 0
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				buf := make([]byte, 8)
				for {
					if _, _, err := b.ReadFrom(buf); err != nil {
						return
					}
					mu.Lock()
					got++
					mu.Unlock()
				}
			})
		}
		for range count {
			_, err := a.WriteTo([]byte("x"), nil)
			require.NoError(t, err)
		}
		time.Sleep(time.Second) // fake time: everything has arrived
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, count, got)
		mu.Unlock()
		b.Close()
		wg.Wait()
	})
}

func BenchmarkPipe(b *testing.B) {
	payload := make([]byte, 32)
	b.Run("write+read/same-goroutine", func(b *testing.B) {
		x, y := Pipe(Config{}, Config{}, 1)
		defer x.Close()
		defer y.Close()
		buf := make([]byte, 64)
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			_, _ = x.WriteTo(payload, nil)
			_, _, _ = y.ReadFrom(buf)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
	})
	b.Run("write+read/two-goroutines", func(b *testing.B) {
		x, y := Pipe(Config{}, Config{}, 1)
		defer x.Close()
		defer y.Close()
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		done := make(chan int)
		go func() {
			buf := make([]byte, 64)
			n := 0
			for {
				if _, _, err := y.ReadFrom(buf); err != nil {
					done <- n
					return
				}
				n++
			}
		}()
		for b.Loop() {
			_, _ = x.WriteTo(payload, nil)
		}
		elapsed := b.Elapsed()
		y.Close()
		got := <-done
		b.ReportMetric(float64(got)/elapsed.Seconds(), "received/s")
		b.ReportMetric(float64(x.Stats().DroppedQueueFull)/float64(b.N), "queuefull/op")
	})
}

// TestPipeSameSeedSameTraffic runs the same traffic twice through a lossy,
// jittery pipe in fake time and gets the same arrivals, in the same order,
// at the same times.
func TestPipeSameSeedSameTraffic(t *testing.T) {
	type arrival struct {
		id int
		at time.Duration
	}
	run := func(seed uint64) []arrival {
		var got []arrival
		synctest.Test(t, func(t *testing.T) {
			cfg := Config{Loss: 0.1, Latency: 40 * time.Millisecond, Jitter: 15 * time.Millisecond, Duplicate: 0.02, Reorder: 0.02}
			a, b := Pipe(cfg, Config{}, seed)
			defer a.Close()
			const count = 3000
			start := time.Now()
			writerDone := make(chan struct{})
			go func() {
				defer close(writerDone)
				for i := range count {
					_, _ = a.WriteTo([]byte{byte(i), byte(i >> 8)}, nil)
					time.Sleep(time.Millisecond)
				}
			}()
			<-writerDone
			require.NoError(t, b.SetReadDeadline(time.Now().Add(time.Second)))
			buf := make([]byte, 4)
			for {
				_, _, err := b.ReadFrom(buf)
				if err != nil {
					require.ErrorIs(t, err, os.ErrDeadlineExceeded)
					break
				}
				got = append(got, arrival{int(buf[0]) | int(buf[1])<<8, time.Since(start)})
			}
			b.Close()
			s := a.Stats()
			assert.Equal(t, int(s.Delivered), len(got))
			assert.InDelta(t, 0.1, float64(s.DroppedLoss)/count, 0.02)
		})
		return got
	}
	first, second, other := run(99), run(99), run(100)
	require.NotEmpty(t, first)
	assert.Equal(t, first, second)
	assert.NotEqual(t, first, other)
}
