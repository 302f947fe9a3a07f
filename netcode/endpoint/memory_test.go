package endpoint

import (
	"bytes"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// footprint returns the bytes e holds: its own struct and the capacity of
// every slice it owns, each element counted at its size. It is exact and
// deterministic (no allocator rounding, no GC noise), so tests can hold it
// to a budget; BenchmarkMemoryPerEndpoint measures the real heap.
func footprint(e *Endpoint) int {
	n := int(unsafe.Sizeof(*e))
	n += cap(e.cfg.Channels) * int(unsafe.Sizeof(ChannelConfig{}))
	for _, p := range []*bufPool{&e.sendBufs, &e.recvBufs} {
		n += cap(p.bufs) * int(unsafe.Sizeof([]byte(nil)))
		for _, b := range p.bufs {
			n += cap(b)
		}
	}
	n += cap(e.pkt) + cap(e.refs)*int(unsafe.Sizeof(msgRef{}))
	n += int(unsafe.Sizeof(*e.sent)) + cap(e.sent.entries)*int(unsafe.Sizeof(sentPacket{})) + cap(e.sent.seqs)*4
	n += cap(e.sentRefs.refs) * int(unsafe.Sizeof(msgRef{}))
	n += cap(e.sendChannels) * int(unsafe.Sizeof(e.sendChannels[0]))
	for _, c := range e.sendChannels {
		n += int(unsafe.Sizeof(*c)) + cap(c.msgs)*int(unsafe.Sizeof(sendMessage{}))
		for _, m := range c.msgs {
			n += cap(m.data) + cap(m.frags)*int(unsafe.Sizeof(fragState{}))
		}
	}
	n += cap(e.recvChannels) * int(unsafe.Sizeof(e.recvChannels[0]))
	for _, c := range e.recvChannels {
		n += int(unsafe.Sizeof(*c)) + cap(c.slots)*int(unsafe.Sizeof(recvSlot{}))
		for _, s := range c.slots {
			n += cap(s.data)
			if s.frag != nil {
				n += reassemblyBytes(s.frag)
			}
		}
		n += cap(c.ready)*int(unsafe.Sizeof(MessageID(0))) + cap(c.queue)*int(unsafe.Sizeof(queuedMessage{}))
		for _, q := range c.queue {
			n += cap(q.data)
		}
	}
	n += cap(e.partials) * int(unsafe.Sizeof(partial{}))
	for i := range e.partials {
		n += reassemblyBytes(&e.partials[i].reassembly) - int(unsafe.Sizeof(reassembly{}))
	}
	return n
}

func reassemblyBytes(r *reassembly) int {
	return int(unsafe.Sizeof(*r)) + cap(r.have)*8 + cap(r.buf)
}

// idleBudget is what an endpoint with the default config may hold before
// any traffic (4.4 KB today): the Endpoint struct (1.4 KB of counters,
// statistics, rate meters and windows), the ring of sent-packet records at
// its initial 64 (28 bytes each with its sequence slot: 1.8 KB, so that
// the records of the last 63 packets, more than an ack header covers, are
// always kept) and the four channels' configs and structs (1.2 KB). The
// rings of messages are allocated by a channel's first use.
const idleBudget = 5 << 10

// lightBudget is what it may hold after a light exchange (a message each
// way on each of the four channels, ten times): the idle budget plus a
// small ring on each channel (8 messages sent, 8 received) with their
// buffers.
const lightBudget = 12 << 10

func TestIdleEndpointFootprint(t *testing.T) {
	e, err := NewEndpoint(DefaultConfig(), fuzzEpoch)
	require.NoError(t, err)
	idle := footprint(e)
	t.Logf("idle endpoint: %d bytes", idle)
	assert.LessOrEqual(t, idle, idleBudget)

	// A keepalive a second for a minute, acknowledged, costs nothing more
	// than the packet buffer.
	peer, err := NewEndpoint(Config{AckDelay: NoAckDelay}, fuzzEpoch)
	require.NoError(t, err)
	now := fuzzEpoch
	for range 60 {
		now = now.Add(time.Second)
		e.Ping()
		e.Flush(now, func(p []byte) { require.NoError(t, peer.Receive(now, p)) })
		peer.Flush(now, func(p []byte) { require.NoError(t, e.Receive(now, p)) })
	}
	require.Equal(t, uint64(60), e.Stats().PacketsAcked)
	assert.LessOrEqual(t, footprint(e), idle+e.cfg.MaxPacketSize)
	assert.Len(t, e.sent.entries, initialSentRecords)
}

func TestLightExchangeFootprint(t *testing.T) {
	a, err := NewEndpoint(DefaultConfig(), fuzzEpoch)
	require.NoError(t, err)
	b, err := NewEndpoint(DefaultConfig(), fuzzEpoch)
	require.NoError(t, err)
	now := fuzzEpoch
	msg := make([]byte, 32)
	delivered := 0
	for range 10 {
		now = now.Add(30 * time.Millisecond)
		for _, e := range []*Endpoint{a, b} {
			for ch := range 4 {
				_, err := e.Send(ch, msg)
				require.NoError(t, err)
			}
		}
		a.Flush(now, func(p []byte) { require.NoError(t, b.Receive(now, p)) })
		b.Flush(now, func(p []byte) { require.NoError(t, a.Receive(now, p)) })
		for _, e := range []*Endpoint{a, b} {
			for ch := range 4 {
				for _, ok := e.ReadMessage(ch); ok; _, ok = e.ReadMessage(ch) {
					delivered++
				}
			}
		}
	}
	require.Equal(t, 80, delivered)
	for _, e := range []*Endpoint{a, b} {
		t.Logf("after a light exchange: %d bytes", footprint(e))
		assert.LessOrEqual(t, footprint(e), lightBudget)
		for _, c := range e.sendChannels {
			assert.Len(t, c.msgs, initialSendRing)
		}
	}
}

// TestRingsGrowToTheFullWindow: a burst of MaxQueuedMessages reliable
// messages, sent in one Flush, grows the sender's ring and the receiver's
// window to their full size; the full window is usable (one more is
// refused), everything arrives in order, and once grown, more bursts
// allocate nothing.
func TestRingsGrowToTheFullWindow(t *testing.T) {
	cfg := Config{AckDelay: NoAckDelay}
	a, err := NewEndpoint(cfg, fuzzEpoch)
	require.NoError(t, err)
	b, err := NewEndpoint(cfg, fuzzEpoch)
	require.NoError(t, err)
	now := fuzzEpoch
	toB := func(p []byte) {
		if err := b.Receive(now, p); err != nil {
			panic(err)
		}
	}
	toA := func(p []byte) {
		if err := a.Receive(now, p); err != nil {
			panic(err)
		}
	}
	msg := make([]byte, 32)
	next := uint32(0)
	burst := func() int {
		now = now.Add(time.Millisecond)
		for range DefaultMaxQueuedMessages {
			msg[0], msg[1] = byte(next), byte(next>>8)
			next++
			if _, err := a.Send(0, msg); err != nil {
				panic(err)
			}
		}
		a.Flush(now, toB)
		got := 0
		for m, ok := b.ReadMessage(0); ok; m, ok = b.ReadMessage(0) {
			if uint32(m[0])|uint32(m[1])<<8 != (next-DefaultMaxQueuedMessages+uint32(got))&0xffff {
				panic("out of order")
			}
			got++
		}
		b.Flush(now, toA)
		return got
	}
	idle := footprint(a)

	// The window is full before anything leaves: one more is refused.
	for range DefaultMaxQueuedMessages {
		_, err := a.Send(0, msg)
		require.NoError(t, err)
	}
	_, err = a.Send(0, msg)
	require.ErrorIs(t, err, ErrSendQueueFull)
	assert.Len(t, a.sendChannels[0].msgs, DefaultMaxQueuedMessages)
	next = DefaultMaxQueuedMessages
	now = now.Add(time.Millisecond)
	a.Flush(now, toB)
	n := 0
	for _, ok := b.ReadMessage(0); ok; _, ok = b.ReadMessage(0) {
		n++
	}
	require.Equal(t, DefaultMaxQueuedMessages, n)
	b.Flush(now, toA)
	assert.Len(t, b.recvChannels[0].slots, DefaultMaxReceivedMessages, "the receive window grew to its full size")

	for range 20 {
		require.Equal(t, DefaultMaxQueuedMessages, burst())
	}
	grown := footprint(a)
	t.Logf("sender: %d bytes idle, %d after bursts of %d messages", idle, grown, DefaultMaxQueuedMessages)
	assert.Greater(t, grown, idle)
	allocs := testing.AllocsPerRun(50, func() {
		if burst() != DefaultMaxQueuedMessages {
			panic("lost messages on a perfect link")
		}
	})
	assert.Zero(t, allocs, "bursts within the grown rings allocate nothing")
	assert.Equal(t, grown, footprint(a), "steady bursts do not grow the sender further")
	s := a.Stats()
	assert.Equal(t, s.MessagesSent, s.MessagesAcked)
}

// TestSentRecordsGrowWithPacketsInFlight: a sender with more packets in
// flight than the initial ring holds keeps every record (so every ack is
// applied) and grows its ring, up to sentPacketWindow and no further.
func TestSentRecordsGrowWithPacketsInFlight(t *testing.T) {
	a, err := NewEndpoint(Config{}, fuzzEpoch)
	require.NoError(t, err)
	b, err := NewEndpoint(Config{AckDelay: NoAckDelay}, fuzzEpoch)
	require.NoError(t, err)
	now := fuzzEpoch
	var inFlight [][]byte
	// 1500 packets in one second: more than the ring's bound, all in flight.
	for range 1500 {
		now = now.Add(time.Millisecond / 2)
		_, err := a.Send(1, make([]byte, 8))
		require.NoError(t, err)
		a.Flush(now, func(p []byte) { inFlight = append(inFlight, append([]byte(nil), p...)) })
	}
	require.Len(t, inFlight, 1500)
	assert.Len(t, a.sent.entries, sentPacketWindow, "grown to its bound, not beyond")
	for _, p := range inFlight {
		require.NoError(t, b.Receive(now, p))
	}
	b.Flush(now, func(p []byte) { require.NoError(t, a.Receive(now, p)) })
	// One header acknowledges the newest 33; the rest were pushed out of
	// the bounded ring and declared lost.
	assert.Equal(t, uint64(33), a.Stats().PacketsAcked)
}

// TestHostileInputDoesNotGrowMemory feeds an endpoint packets a hostile
// peer could send: acks of packets never sent (far ahead, all ack bits
// set), sequence numbers jumping around, frames on channels that do not
// exist, reliable message ids outside the window, and a flood of
// fragments of distinct messages. Acks, sequence numbers and bad channel
// ids change nothing in memory; message ids and fragments grow it only
// within the Config's bounds.
func TestHostileInputDoesNotGrowMemory(t *testing.T) {
	cfg := fuzzConfig()
	e, err := NewEndpoint(cfg, fuzzEpoch)
	require.NoError(t, err)
	sendSome(e, 10) // some records the acks could match, and a send ring
	now := fuzzEpoch.Add(time.Second)
	// The receive rings are allocated by a first frame on each channel.
	for ch := range 4 {
		pkt := packetHeader{Seq: seqNum(ch)}.Append(nil)
		pkt = appendWholeFrame(pkt, ch, 0, []byte("x"))
		require.NoError(t, e.Receive(now, pkt))
	}
	drain(e)
	e.Flush(now, func([]byte) {}) // acks, and the resends of a second's silence
	before := footprint(e)

	seq := seqNum(100)
	for i := range 5000 {
		// Never sent: e's packets so far are numbered below 20.
		h := packetHeader{Seq: seq, HasAck: true, Ack: seqNum(1000 + i*7919%59000), AckBits: ^uint32(0)}
		seq += seqNum(i%300 + 1) // jumps of up to 300, wrapping many times
		require.NoError(t, e.Receive(now, h.Append(nil)))
		e.Flush(now, func([]byte) {})
	}
	assert.Equal(t, before, footprint(e), "acks of unsent packets and sequence jumps")

	for ch := 4; ch < 127; ch++ {
		pkt := packetHeader{Seq: seq}.Append(nil)
		seq++
		require.ErrorIs(t, e.Receive(now, appendWholeFrame(pkt, ch, 0, []byte("x"))), ErrMalformedPacket)
	}
	assert.Equal(t, before, footprint(e), "frames on channels that do not exist")

	for _, id := range []MessageID{17, 1000, 30000} { // the window is [1, 17)
		pkt := packetHeader{Seq: seq}.Append(nil)
		seq++
		require.NoError(t, e.Receive(now, appendWholeFrame(pkt, 0, id, []byte("x"))))
	}
	assert.Equal(t, before, footprint(e), "reliable ids outside the window")
	assert.Equal(t, uint64(3), e.Stats().DroppedOutsideWindow)

	// Ids at the edge of the window grow the ring to the window, no more.
	for _, ch := range []int{0, 3} {
		pkt := packetHeader{Seq: seq}.Append(nil)
		seq++
		require.NoError(t, e.Receive(now, appendWholeFrame(pkt, ch, 16, []byte("x"))))
		assert.Len(t, e.recvChannels[ch].slots, 16)
	}

	// Fragments of ever new unreliable messages: at most
	// MaxPartialMessages are reassembled at once, within
	// MaxReassemblyBytes.
	for i := range 1000 {
		pkt := packetHeader{Seq: seq}.Append(nil)
		seq++
		pkt = appendFragmentFrame(pkt, 1, MessageID(i), 0, 2, 2000, make([]byte, 1000))
		require.NoError(t, e.Receive(now, pkt))
	}
	assert.Len(t, e.partials, cfg.MaxPartialMessages)
	assert.Equal(t, uint64(1000-cfg.MaxPartialMessages), e.Stats().DroppedReassemblyStale)
	bound := before + 2*16*int(unsafe.Sizeof(recvSlot{})+8) +
		cfg.MaxPartialMessages*int(unsafe.Sizeof(partial{})+8) + cfg.MaxReassemblyBytes
	assert.LessOrEqual(t, footprint(e), bound)
	checkBounds(t, e)
}

// TestSharedScratch: endpoints sharing a Scratch build their packets in it
// and keep no packet buffer of their own; a Flush started from another's
// emit function (the Scratch busy) uses its own buffer and both packets
// come out intact; in steady state nothing allocates.
func TestSharedScratch(t *testing.T) {
	scratch := new(Scratch)
	var eps, peers [3]*Endpoint
	for i := range eps {
		var err error
		eps[i], err = NewEndpoint(Config{AckDelay: NoAckDelay, Scratch: scratch}, fuzzEpoch)
		require.NoError(t, err)
		peers[i], err = NewEndpoint(Config{AckDelay: NoAckDelay}, fuzzEpoch)
		require.NoError(t, err)
	}
	now := fuzzEpoch
	got := 0
	var msgs [3][]byte
	for i := range msgs {
		msgs[i] = bytes.Repeat([]byte{byte(i + 1)}, 1000)
	}
	var recv, back [3]func([]byte)
	for i := range recv {
		recv[i] = func(p []byte) {
			if err := peers[i].Receive(now, p); err != nil {
				panic(err)
			}
		}
		back[i] = func(p []byte) {
			if err := eps[i].Receive(now, p); err != nil {
				panic(err)
			}
		}
	}
	round := func() {
		now = now.Add(time.Millisecond)
		for i, e := range eps {
			if _, err := e.Send(0, msgs[i]); err != nil {
				panic(err)
			}
			e.Flush(now, recv[i])
		}
		for i, p := range peers {
			for m, ok := p.ReadMessage(0); ok; m, ok = p.ReadMessage(0) {
				if !bytes.Equal(m, msgs[i]) {
					panic("message damaged")
				}
				got++
			}
			p.Flush(now, back[i])
		}
	}
	for range 10 {
		round()
	}
	assert.Equal(t, 30, got)
	for _, e := range eps {
		assert.Zero(t, cap(e.pkt), "no packet buffer of its own")
	}
	assert.GreaterOrEqual(t, cap(scratch.pkt), 1000)
	assert.False(t, scratch.busy)
	assert.Zero(t, testing.AllocsPerRun(100, round))
	assert.Equal(t, 30+101*3, got) // AllocsPerRun runs it once more to warm up

	// A Flush from within another's emit function.
	a, b := eps[0], eps[1]
	_, err := a.Send(1, []byte("outer"))
	require.NoError(t, err)
	_, err = b.Send(1, []byte("inner"))
	require.NoError(t, err)
	a.Flush(now, func(p []byte) {
		b.Flush(now, recv[1])
		recv[0](p)
	})
	m, ok := peers[0].ReadMessage(1)
	require.True(t, ok)
	assert.Equal(t, "outer", string(m))
	m, ok = peers[1].ReadMessage(1)
	require.True(t, ok)
	assert.Equal(t, "inner", string(m))
	assert.NotZero(t, cap(b.pkt), "b built in a buffer of its own")
	assert.False(t, scratch.busy)
}
