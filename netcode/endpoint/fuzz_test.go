package endpoint

import (
	"bytes"
	"testing"
	"time"
)

var fuzzEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fuzzConfig keeps memory bounds small so the fuzzer can reach them.
func fuzzConfig() Config {
	return Config{MaxMessageSize: 8 << 10, MaxReassemblyBytes: 16 << 10, MaxPartialMessages: 4,
		Channels: []ChannelConfig{
			{Kind: ReliableOrdered, MaxReceivedMessages: 16},
			{Kind: Unreliable, MaxReceivedMessages: 4},
			{Kind: UnreliableSequenced, MaxReceivedMessages: 4},
			{Kind: ReliableUnordered, MaxReceivedMessages: 16},
		}}
}

// seedPackets returns packets a real endpoint sends: small messages on every
// channel, a fragmented message, a ping and an ack-only packet.
func seedPackets(t testing.TB) [][]byte {
	a, err := NewEndpoint(fuzzConfig(), fuzzEpoch)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewEndpoint(fuzzConfig(), fuzzEpoch)
	var out [][]byte
	keep := func(p []byte) { out = append(out, bytes.Clone(p)); _ = b.Receive(fuzzEpoch, p) }
	for ch := range 4 {
		_, _ = a.Send(ch, []byte("hello"))
		_, _ = a.Send(ch, nil)
	}
	a.Flush(fuzzEpoch, keep)
	_, _ = a.Send(1, bytes.Repeat([]byte{7}, 3000))
	_, _ = a.Send(0, bytes.Repeat([]byte{9}, 2500))
	a.Flush(fuzzEpoch, keep)
	a.Ping()
	a.Flush(fuzzEpoch, keep)
	// b's acks, held 10 ms (the header says so), and a's answer: data
	// whose header carries an ack delay too.
	later := fuzzEpoch.Add(10 * time.Millisecond)
	b.Flush(later, func(p []byte) { out = append(out, bytes.Clone(p)); _ = a.Receive(later, p) })
	_, _ = a.Send(0, []byte("after the ack"))
	a.Flush(later.Add(time.Millisecond), keep)
	return out
}

// sendSome has e send n small reliable messages, one packet each, so that
// fuzzed acks have sent packets to acknowledge: RTT samples, ack delays,
// loss detection, resends and copies all run.
func sendSome(e *Endpoint, n int) {
	for i := range n {
		_, _ = e.Send(0, []byte{byte(i)})
		e.Flush(fuzzEpoch.Add(time.Duration(i)*time.Millisecond), func([]byte) {})
	}
}

// checkBounds fails when e holds more than its Config allows.
func checkBounds(t *testing.T, e *Endpoint) {
	t.Helper()
	if e.reassembly < 0 || e.reassembly > e.cfg.MaxReassemblyBytes+e.cfg.MaxMessageSize {
		t.Fatalf("reassembly bytes %d outside [0, %d]", e.reassembly, e.cfg.MaxReassemblyBytes+e.cfg.MaxMessageSize)
	}
	if e.nPartials < 0 || e.nPartials > len(e.partials) {
		t.Fatalf("%d partials of %d", e.nPartials, len(e.partials))
	}
	if e.pktThreshold < packetThreshold || e.pktThreshold > maxPacketThreshold {
		t.Fatalf("packet threshold %d outside [%d, %d]", e.pktThreshold, packetThreshold, maxPacketThreshold)
	}
	if e.peerHold < 0 || e.rtt.smoothed < 0 || e.rtt.variance < 0 || e.rtt.min < 0 || e.ptoCount > maxProbeBackoff {
		t.Fatalf("peer hold %v, RTT %v ± %v (min %v), %d probes", e.peerHold, e.rtt.smoothed, e.rtt.variance, e.rtt.min, e.ptoCount)
	}
	for _, c := range e.recvChannels {
		if c.pending > len(c.queue) || c.readyLen > len(c.ready) {
			t.Fatalf("receive queue over its bound")
		}
		if len(c.slots) > pow2AtLeast(c.window) || len(c.queue) > c.window || len(c.ready) > c.window {
			t.Fatalf("receive rings of %d slots, %d queued, %d ready; window %d", len(c.slots), len(c.queue), len(c.ready), c.window)
		}
	}
	for _, c := range e.sendChannels {
		if len(c.msgs) > c.ringMax {
			t.Fatalf("send ring of %d; bound %d", len(c.msgs), c.ringMax)
		}
	}
	if len(e.partials) > e.cfg.MaxPartialMessages || e.sent.Len() > sentPacketWindow {
		t.Fatalf("%d partials (bound %d), %d sent records (bound %d)", len(e.partials), e.cfg.MaxPartialMessages, e.sent.Len(), sentPacketWindow)
	}
}

func drain(e *Endpoint) {
	for ch := range e.recvChannels {
		for _, ok := e.ReadMessage(ch); ok; _, ok = e.ReadMessage(ch) {
		}
	}
}

// FuzzEndpointReceive feeds arbitrary bytes to Receive, as packets split at
// 0xfe bytes (so one input can be several packets), to an endpoint that has
// sent 40 reliable messages (so acks, ack delays and loss detection have
// packets to work on). Nothing may panic and memory and estimates must stay
// within their bounds.
func FuzzEndpointReceive(f *testing.F) {
	seeds := seedPackets(f)
	for _, p := range seeds {
		f.Add(p)
	}
	f.Add(bytes.Join(seeds, []byte{0xfe}))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, _ := NewEndpoint(fuzzConfig(), fuzzEpoch)
		sendSome(e, 40)
		now := fuzzEpoch.Add(40 * time.Millisecond)
		for _, p := range bytes.Split(data, []byte{0xfe}) {
			now = now.Add(300 * time.Millisecond)
			before := e.Stats()
			err := e.Receive(now, p)
			after := e.Stats()
			counted := after.PacketsReceived + after.PacketsMalformed + after.PacketsDuplicate + after.PacketsStale -
				before.PacketsReceived - before.PacketsMalformed - before.PacketsDuplicate - before.PacketsStale
			if counted != 1 {
				t.Fatalf("Receive (err %v) counted the packet %d times", err, counted)
			}
			checkBounds(t, e)
			if len(p)%3 == 0 {
				drain(e)
			}
			e.Flush(now, func([]byte) {})
		}
		drain(e)
		checkBounds(t, e)
	})
}

// FuzzReassembly delivers the fragments of two messages in an order chosen
// by the input, some corrupted, some repeated. A message that is delivered
// from uncorrupted fragments must be intact; nothing may panic.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5})
	f.Add([]byte{5, 4, 3, 2, 1, 0})
	f.Add([]byte{0, 0, 2, 2, 4, 1, 3, 5})
	f.Add([]byte{0x80, 1, 0x92, 3, 4, 0xc5})
	f.Fuzz(func(t *testing.T, ops []byte) {
		cfg := fuzzConfig()
		a, _ := NewEndpoint(cfg, fuzzEpoch)
		b, _ := NewEndpoint(cfg, fuzzEpoch)
		msgs := [][]byte{bytes.Repeat([]byte("abcdefg"), 400), bytes.Repeat([]byte("0123456789"), 250)}
		_, _ = a.Send(1, msgs[0]) // unreliable
		_, _ = a.Send(0, msgs[1]) // reliable ordered
		var frags [][]byte
		a.Flush(fuzzEpoch, func(p []byte) { frags = append(frags, bytes.Clone(p)) })
		corrupted := false
		now := fuzzEpoch
		for _, op := range ops {
			p := bytes.Clone(frags[int(op&0x3f)%len(frags)])
			if op&0x80 != 0 {
				p[int(op)%len(p)] ^= 0x55
				corrupted = true
			}
			if op&0x40 != 0 {
				now = now.Add(time.Second) // lets unreliable partials expire
			}
			_ = b.Receive(now, p)
			checkBounds(t, b)
		}
		for ch, want := range []int{1, 0} {
			if msg, ok := b.ReadMessage(want); ok && !corrupted && !bytes.Equal(msg, msgs[ch]) {
				t.Fatalf("channel %d: delivered %d bytes that differ from the %d sent", want, len(msg), len(msgs[ch]))
			}
		}
		checkBounds(t, b)
	})
}
