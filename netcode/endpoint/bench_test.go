package endpoint_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// loopback joins two endpoints directly: whatever one flushes, the other
// receives at once. It is the cheapest harness, for benchmarks and
// allocation tests. Acks are not coalesced (NoAckDelay), so that every
// round trip carries its ack packet back.
type loopback struct {
	now      time.Time
	a, b     *endpoint.Endpoint
	toA, toB func([]byte)
	errs     int
}

func newLoopback(t testing.TB) *loopback {
	cfg := endpoint.Config{AckDelay: endpoint.NoAckDelay}
	l := &loopback{now: epoch, a: newEndpoint(t, cfg), b: newEndpoint(t, cfg)}
	l.toB = func(p []byte) {
		if l.b.Receive(l.now, p) != nil {
			l.errs++
		}
	}
	l.toA = func(p []byte) {
		if l.a.Receive(l.now, p) != nil {
			l.errs++
		}
	}
	return l
}

// exchange sends msg on every channel of the default config from a to b,
// flushes both ways and reads everything b received.
func (l *loopback) exchange(msg []byte) int {
	l.now = l.now.Add(time.Millisecond)
	for ch := range 4 {
		if _, err := l.a.Send(ch, msg); err != nil {
			panic(err)
		}
	}
	l.a.Flush(l.now, l.toB)
	n := 0
	for ch := range 4 {
		for _, ok := l.b.ReadMessage(ch); ok; _, ok = l.b.ReadMessage(ch) {
			n++
		}
	}
	l.b.Flush(l.now, l.toA)
	return n
}

func TestSteadyStateNoAllocs(t *testing.T) {
	l := newLoopback(t)
	msg := make([]byte, 32)
	for range 2000 { // warm up every ring slot and buffer
		require.Equal(t, 4, l.exchange(msg))
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if l.exchange(msg) != 4 {
			panic("lost a message on a perfect loopback")
		}
	})
	assert.Zero(t, allocs, "send, flush, receive, ack and read on all four channel kinds")
	assert.Zero(t, l.errs)
	s := l.a.Stats()
	assert.Equal(t, s.PacketsSent, s.PacketsAcked)
	assert.Equal(t, s.MessagesSent, s.MessagesAcked)
}

// BenchmarkRoundTrip measures one 32-byte unreliable message from a to b and
// the ack packet back: encode, decode and ack processing on both sides.
func BenchmarkRoundTrip(b *testing.B) {
	l := newLoopback(b)
	msg := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		l.now = l.now.Add(time.Millisecond)
		if _, err := l.a.Send(chUnreliable, msg); err != nil {
			b.Fatal(err)
		}
		l.a.Flush(l.now, l.toB)
		if _, ok := l.b.ReadMessage(chUnreliable); !ok {
			b.Fatal("no message")
		}
		l.b.Flush(l.now, l.toA)
	}
}

// BenchmarkRoundTripAllChannels is RoundTrip with one message on each of
// the four channel kinds per packet.
func BenchmarkRoundTripAllChannels(b *testing.B) {
	l := newLoopback(b)
	msg := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		l.exchange(msg)
	}
}

// BenchmarkReliableOrderedThroughput pushes 32-byte reliable-ordered
// messages from a to b as fast as one core allows: each iteration queues
// 256 messages, flushes them (about 8 packets), delivers and reads them,
// and returns the acks.
func BenchmarkReliableOrderedThroughput(b *testing.B) {
	const batch = 256
	l := newLoopback(b)
	msg := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		l.now = l.now.Add(time.Millisecond)
		for range batch {
			if _, err := l.a.Send(chReliable, msg); err != nil {
				b.Fatal(err)
			}
		}
		l.a.Flush(l.now, l.toB)
		for range batch {
			if _, ok := l.b.ReadMessage(chReliable); !ok {
				b.Fatal("message missing")
			}
		}
		l.b.Flush(l.now, l.toA)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
}

// TestLossyStreamNoAllocs: in steady state over a lossy, reordering link,
// sending, flushing (with resends, copies and loss detection), receiving
// and reading allocate nothing.
func TestLossyStreamNoAllocs(t *testing.T) {
	link := netsim.Config{Loss: 0.2, Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond}
	p := newPair(t, streamConfig(), link, link, 3)
	msg := make([]byte, 32)
	read := 0
	tick := func() {
		p.deliver(time.Millisecond)
		for _, ok := p.b.ReadMessage(chReliable); ok; _, ok = p.b.ReadMessage(chReliable) {
			read++
		}
		if _, err := p.a.Send(chReliable, msg); err != nil {
			panic(err)
		}
		p.flush()
	}
	for range 20_000 { // every ring slot, buffer and record list reaches its size
		tick()
	}
	allocs := testing.AllocsPerRun(2000, tick)
	assert.Zero(t, allocs)
	s := p.a.Stats()
	assert.Positive(t, s.MessagesResent)
	assert.Positive(t, s.MessagesRedundant)
	assert.Greater(t, read, 20_000)
}
