//go:build linux

package netcode

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestSocketRefusesFragmentation: with path MTU discovery the socket
// refuses IP fragmentation, IPv4 and IPv6.
func TestSocketRefusesFragmentation(t *testing.T) {
	u := listenLoopback(t)
	defer u.Close()
	on, err := dontFragment(u)
	require.NoError(t, err)
	assert.False(t, on, "a new socket fragments (the OS default)")

	s := newSocket(u, true)
	require.NoError(t, s.refuseFragmentation())
	on, err = dontFragment(u)
	require.NoError(t, err)
	assert.True(t, on, "IP_MTU_DISCOVER is IP_PMTUDISC_DO")

	v6, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer v6.Close()
	require.NoError(t, setDontFragment(v6))
	rc, err := v6.SyscallConn()
	require.NoError(t, err)
	var got int
	require.NoError(t, rc.Control(func(fd uintptr) {
		got, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG)
	}))
	require.NoError(t, err)
	assert.Equal(t, 1, got, "IPV6_DONTFRAG")
}

// TestReadLoopWaitsForThePollerAfterAShortBatch: a batch that did not fill
// its buffers left the socket empty, so the read loop waits for the
// poller instead of making a system call that can only fail (one EAGAIN
// per wake-up was a third of a loopback round trip). No datagram may be
// lost or held by it: one sent while the loop waits, one sent while the
// loop is busy with the last batch, and a burst larger than a batch all
// arrive, with no system call that found nothing.
func TestReadLoopWaitsForThePollerAfterAShortBatch(t *testing.T) {
	u := listenLoopback(t)
	s := newSocket(u, true)
	mr, ok := s.mmsg.(*mmsgReader)
	require.True(t, ok, "Linux reads with recvmmsg")
	peer := listenLoopback(t)
	defer peer.Close()
	to := u.LocalAddr()
	send := func(b byte) {
		_, err := peer.WriteTo([]byte{b, 1, 2, 3}, to)
		require.NoError(t, err)
	}

	bufs := make([]*datagram, socketBatchSize)
	for i := range bufs {
		bufs[i] = &datagram{buf: make([]byte, maxDatagramSize)}
	}
	batches := make(chan []byte, 64)
	hold := make(chan struct{}) // closed: got returns at once
	held := make(chan struct{}, 1)
	first := true
	ended := make(chan error, 1)
	go func() {
		ended <- s.readLoop(bufs, func(n int) []*datagram {
			var got []byte
			for _, d := range bufs[:n] {
				got = append(got, d.buf[0])
			}
			batches <- got
			if first { // stay busy with the first batch until told
				first = false
				held <- struct{}{}
				<-hold
			}
			return bufs
		}, false)
	}()
	next := func() []byte {
		select {
		case b := <-batches:
			return b
		case <-time.After(10 * time.Second):
			require.FailNow(t, "no batch within 10 s")
			return nil
		}
	}

	send(1)
	assert.Equal(t, []byte{1}, next())
	<-held
	send(2) // arrives while the loop handles the first batch
	time.Sleep(10 * time.Millisecond)
	close(hold)
	assert.Equal(t, []byte{2}, next())
	time.Sleep(10 * time.Millisecond) // the loop waits
	send(3)
	assert.Equal(t, []byte{3}, next())

	// One datagram at a time, each sent while the loop waits: every wake-up
	// finds its datagram in one system call, and none is followed by a
	// call that finds nothing (before this loop, each was).
	time.Sleep(10 * time.Millisecond)
	calls0, empty0 := mr.calls.Load(), mr.empty.Load()
	for i := range 20 {
		send(byte(100 + i))
		assert.Equal(t, []byte{byte(100 + i)}, next())
		time.Sleep(2 * time.Millisecond)
	}
	assert.Equal(t, empty0, mr.empty.Load(), "system calls that found nothing")
	assert.Equal(t, calls0+20, mr.calls.Load(), "system calls for 20 datagrams one at a time")

	for i := range socketBatchSize + 5 { // a burst: full batches read back to back
		send(byte(10 + i))
	}
	var burst []byte
	for len(burst) < socketBatchSize+5 {
		burst = append(burst, next()...)
	}
	for i, b := range burst {
		require.Equal(t, byte(10+i), b)
	}

	require.NoError(t, u.Close())
	require.ErrorIs(t, <-ended, net.ErrClosed)
}

// TestReceiveCoalesceReadsOncePerInterval: with ServerConfig.ReceiveCoalesce
// the reader lets datagrams gather after a read that emptied the socket,
// so a steady trickle costs a read per interval, not one per datagram,
// and none is lost.
func TestReceiveCoalesceReadsOncePerInterval(t *testing.T) {
	for _, coalesce := range []time.Duration{0, 5 * time.Millisecond} {
		t.Run(coalesce.String(), func(t *testing.T) {
			u := listenLoopback(t)
			s := newSocket(u, true)
			mr := s.mmsg.(*mmsgReader)
			r := newReceiver(s, 1024, time.Now, nil)
			r.coalesce = coalesce
			r.start()
			peer := listenLoopback(t)
			defer peer.Close()

			const total = 400
			for i := range total { // a trickle: one every 250 µs or more
				_, err := peer.WriteTo([]byte{byte(i), byte(i >> 8)}, u.LocalAddr())
				require.NoError(t, err)
				time.Sleep(250 * time.Microsecond)
			}
			var got []int
			deadline := time.Now().Add(10 * time.Second)
			for len(got) < total && time.Now().Before(deadline) {
				ds := r.take()
				for _, d := range ds {
					got = append(got, int(d.buf[0])|int(d.buf[1])<<8)
				}
				r.release(ds)
				time.Sleep(time.Millisecond)
			}
			require.NoError(t, r.stop())
			require.Len(t, got, total, "every datagram arrives, in order")
			for i, v := range got {
				require.Equal(t, i, v)
			}
			calls := mr.calls.Load()
			if coalesce > 0 {
				// Without coalescing an idle reader makes a call per
				// datagram; with it, a call (or two) per 5 ms, however
				// slowly a loaded machine runs the sender.
				assert.LessOrEqual(t, calls, uint64(total/2), "system calls for %d datagrams", total)
			}
			t.Logf("coalesce %v: %d recvmmsg calls for %d datagrams", coalesce, calls, total)
		})
	}
}
