package netsim_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/netsim"
)

func TestHubRoutesEachClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := netsim.NewHub()
		defer h.Close()
		slow := h.Dial(netsim.Config{Latency: 50 * time.Millisecond}, netsim.Config{Latency: 50 * time.Millisecond}, 1)
		fast := h.Dial(netsim.Config{}, netsim.Config{}, 2)
		assert.Equal(t, 2, h.Clients())
		server := net.UDPAddrFromAddrPort(netsim.ServerAddr)

		_, err := slow.WriteTo([]byte("slow"), server)
		require.NoError(t, err)
		_, err = fast.WriteTo([]byte("fast"), nil)
		require.NoError(t, err)

		start := time.Now()
		buf := make([]byte, 64)
		n, fastAddr, err := h.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "fast", string(buf[:n]))
		n, slowAddr, err := h.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "slow", string(buf[:n]))
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "the slow client's link delays it")
		assert.NotEqual(t, fastAddr.String(), slowAddr.String())

		// Replies go to the right client only, through its own down link.
		_, err = h.WriteTo([]byte("to slow"), slowAddr)
		require.NoError(t, err)
		_, err = h.WriteTo([]byte("to fast"), fastAddr)
		require.NoError(t, err)
		n, from, err := fast.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "to fast", string(buf[:n]))
		assert.Equal(t, netsim.ServerAddr.String(), from.String())
		n, _, err = slow.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "to slow", string(buf[:n]))

		// A write to nobody goes nowhere, like UDP.
		_, err = h.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 9, 9, 9), Port: 1})
		assert.NoError(t, err)
	})
}

func TestHubDeadlineAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := netsim.NewHub()
		c := h.Dial(netsim.Config{}, netsim.Config{}, 1)
		require.NoError(t, h.SetReadDeadline(time.Now().Add(time.Second)))
		start := time.Now()
		_, _, err := h.ReadFrom(make([]byte, 8))
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start))
		require.NoError(t, h.SetReadDeadline(time.Time{}))

		done := make(chan error)
		go func() {
			_, _, err := h.ReadFrom(make([]byte, 8))
			done <- err
		}()
		synctest.Wait()
		require.NoError(t, h.Close())
		assert.ErrorIs(t, <-done, net.ErrClosed)
		_, err = h.WriteTo([]byte("x"), c.LocalAddr())
		assert.True(t, errors.Is(err, net.ErrClosed))
		require.NoError(t, h.Close(), "Close is idempotent")

		// A client added after Close reaches nobody.
		late := h.Dial(netsim.Config{}, netsim.Config{}, 3)
		_, err = late.WriteTo([]byte("hello?"), nil)
		assert.NoError(t, err)
	})
}
