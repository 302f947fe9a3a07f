package netcode

import (
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chanConn is a net.PacketConn whose reads come from a channel the test
// feeds, each datagram with the source address the test chooses. Its
// reader blocks on a channel, so it is durably blocked inside a synctest
// bubble.
type chanConn struct {
	in     chan chanDatagram
	closed chan struct{}
}

type chanDatagram struct {
	b    []byte
	from netip.AddrPort
}

func newChanConn() *chanConn {
	return &chanConn{in: make(chan chanDatagram), closed: make(chan struct{})}
}

func (c *chanConn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(p, d.b), net.UDPAddrFromAddrPort(d.from), nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *chanConn) send(b []byte, from netip.AddrPort) { c.in <- chanDatagram{b: b, from: from} }

func (c *chanConn) WriteTo(p []byte, _ net.Addr) (int, error) { return len(p), nil }
func (c *chanConn) Close() error                              { close(c.closed); return nil }
func (c *chanConn) LocalAddr() net.Addr                       { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7000} }
func (c *chanConn) SetDeadline(time.Time) error               { return nil }
func (c *chanConn) SetReadDeadline(time.Time) error           { return nil }
func (c *chanConn) SetWriteDeadline(time.Time) error          { return nil }

func testAddr(port int) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(port))
}

// sources counts the taken datagrams by source: from the known addresses
// and from the others.
func sources(ds []*datagram, known map[netip.AddrPort]bool) (fromKnown, fromOthers int) {
	for _, d := range ds {
		if known[d.from] {
			fromKnown++
		} else {
			fromOthers++
		}
	}
	return
}

// A flood of handshakes from unknown addresses fills its own queue; the
// datagrams of established connections still all find room, taking the
// place of queued handshakes once the buffers run out. Only when no
// handshake is left to give up its place is a connection's datagram
// dropped.
func TestReceiverKeepsConnectionsDatagramsUnderFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const pool, unverCap = 8, 2
		pc := newChanConn()
		r := newReceiver(newSocket(pc, false), pool, time.Now, newSourceFilter(unverCap, 100))
		defer func() { require.NoError(t, r.stop()) }()
		known := map[netip.AddrPort]bool{testAddr(1): true, testAddr(2): true}
		for a := range known {
			r.setKnown(a, true)
		}
		r.start()
		hello := make([]byte, helloSize)
		hello[0] = byte(ptRequest)
		payload := connHeader{Type: ptPayload, ConnID: 1, Seq: 1}.append(nil)

		// 20 handshakes from 20 addresses: 2 queued, 18 dropped.
		for i := range 20 {
			pc.send(hello, testAddr(1000+i))
		}
		// 6 datagrams of the connections take the free buffers, 2 more
		// take the places of the queued handshakes.
		for i := range 8 {
			pc.send(payload, testAddr(1+i%2))
		}
		synctest.Wait()
		f := r.filter
		assert.Equal(t, uint64(18), f.unverFull.Load(), "handshakes over the queue's bound")
		assert.Equal(t, uint64(2), f.evicted.Load(), "queued handshakes that gave up their place")
		assert.Zero(t, r.dropped.Load(), "no datagram of a connection dropped")

		// Nothing left to evict: the next one of a connection is dropped
		// (the game is not keeping up: a real overload).
		pc.send(payload, testAddr(1))
		synctest.Wait()
		assert.Equal(t, uint64(1), r.dropped.Load())

		ds := r.take()
		fromKnown, fromOthers := sources(ds, known)
		assert.Equal(t, 8, fromKnown)
		assert.Zero(t, fromOthers)
		r.release(ds)

		// With the buffers back (the reader, blocked since before, reads
		// the next datagram into scratch and copies it into one of them),
		// handshakes are queued again, behind the connections' datagrams.
		pc.send(hello, testAddr(2000))
		pc.send(payload, testAddr(2))
		synctest.Wait()
		ds = r.take()
		require.Len(t, ds, 2)
		assert.Equal(t, testAddr(2), ds[0].from, "connections first")
		assert.Equal(t, testAddr(2000), ds[1].from)
		r.release(ds)
		assert.Equal(t, uint64(20+8+1+2), r.packets.Load())
	})
}

// The reader drops what can never be a handshake from an unknown address
// at once, and rate-limits handshakes per source address; a known address
// is never limited.
func TestReceiverFiltersUnknownSources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pc := newChanConn()
		const rate = 5
		r := newReceiver(newSocket(pc, false), 64, time.Now, newSourceFilter(64, rate))
		defer func() { require.NoError(t, r.stop()) }()
		r.setKnown(testAddr(1), true)
		r.start()
		hello := make([]byte, helloSize)
		hello[0] = byte(ptResponse)
		shortHello := hello[:helloSize-1]
		payload := connHeader{Type: ptDisconnect, ConnID: 1, Seq: 1}.append(nil)
		for _, b := range [][]byte{shortHello, {byte(ptChallenge)}, {0}, {}, payload, payload} {
			pc.send(b, testAddr(9))
		}
		for range 3 * rate {
			pc.send(hello, testAddr(10))
			pc.send(hello, testAddr(1)) // known: its own queue, no limit
		}
		synctest.Wait()
		f := r.filter
		assert.Equal(t, uint64(4), f.malformed.Load())
		assert.Equal(t, uint64(2), f.unknownAddr.Load())
		assert.Equal(t, uint64(2*rate), f.rateLimited.Load(), "a burst of rate, then nothing")
		ds := r.take()
		fromKnown, fromOthers := sources(ds, map[netip.AddrPort]bool{testAddr(1): true})
		assert.Equal(t, 3*rate, fromKnown)
		assert.Equal(t, rate, fromOthers)
		r.release(ds)

		// A second later the bucket has refilled.
		time.Sleep(time.Second)
		for range rate + 1 {
			pc.send(hello, testAddr(10))
		}
		synctest.Wait()
		assert.Equal(t, uint64(2*rate+1), f.rateLimited.Load())
		ds = r.take()
		assert.Len(t, ds, rate)
		r.release(ds)
	})
}

// The limiters stay bounded under a flood from ever new addresses: quiet
// ones are swept, then any one is forgotten.
func TestSourceFilterLimitersBounded(t *testing.T) {
	f := newSourceFilter(16, 2)
	now := time.Unix(1_700_000_000, 0)
	d := &datagram{buf: make([]byte, helloSize), n: helloSize, at: now}
	d.buf[0] = byte(ptRequest)
	for i := range 3 * maxRateSources {
		d.from = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1)
		assert.True(t, f.admitUnknown(d, 0), "a new source has its burst")
		require.LessOrEqual(t, len(f.limiters), maxRateSources)
	}
	// Once their buckets have refilled, a sweep clears the quiet ones. (A
	// source the flood did not use: one it did may still have its limiter,
	// and a known source needs no room.)
	d.at = now.Add(2 * time.Second)
	d.from = netip.MustParseAddrPort("192.0.2.1:1")
	assert.True(t, f.admitUnknown(d, 0))
	assert.Len(t, f.limiters, 1)
}

// FuzzSourceFilter sorts arbitrary datagrams from an unknown address: only
// a handshake-shaped one may be queued, and every other is counted as
// exactly one drop.
func FuzzSourceFilter(f *testing.F) {
	hello := make([]byte, helloSize)
	hello[0] = byte(ptRequest)
	f.Add(hello)
	f.Add(connHeader{Type: ptPayload, ConnID: 1, Seq: 2}.append(nil))
	f.Add([]byte{})
	f.Add([]byte{byte(ptResponse), 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		sf := newSourceFilter(4, 1000)
		d := &datagram{buf: make([]byte, maxDatagramSize), from: testAddr(5), at: time.Unix(1, 0)}
		d.n = copy(d.buf, b)
		ok := sf.admitUnknown(d, 0)
		isHello := d.n == helloSize && (b[0] == byte(ptRequest) || b[0] == byte(ptResponse))
		assert.Equal(t, isHello, ok)
		drops := sf.malformed.Load() + sf.unknownAddr.Load() + sf.rateLimited.Load() + sf.unverFull.Load()
		if ok {
			assert.Zero(t, drops)
		} else {
			assert.Equal(t, uint64(1), drops)
		}
	})
}
