package endpoint_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// hostile is the link of the headline scenario: 30% loss, 5%
// duplication, reordering, and 50 ms ± 50 ms one-way delay.
var hostile = netsim.Config{
	Loss:      0.3,
	Duplicate: 0.05,
	Reorder:   0.1,
	Latency:   50 * time.Millisecond,
	Jitter:    50 * time.Millisecond,
}

// sendAll queues numbered messages 0..n-1 on ch as the send queue allows,
// stepping the pair every tick, and returns when check reports that the
// receiver has everything. It fails after maxTicks.
func sendAll(t *testing.T, p *pair, ch, n, size, maxTicks int, read func(msg []byte), done func() bool) int {
	t.Helper()
	next := 0
	for tick := range maxTicks {
		for next < n {
			if _, err := p.a.Send(ch, numbered(uint32(next), size)); err != nil {
				require.ErrorIs(t, err, endpoint.ErrSendQueueFull)
				break
			}
			next++
		}
		p.step(5 * time.Millisecond)
		for msg, ok := p.b.ReadMessage(ch); ok; msg, ok = p.b.ReadMessage(ch) {
			read(msg)
		}
		if next == n && done() {
			return tick
		}
	}
	t.Fatalf("gave up after %d ticks", maxTicks)
	return 0
}

func TestReliableOrderedUnderHostileLink(t *testing.T) {
	p := newPair(t, endpoint.Config{}, hostile, hostile, 10)
	acked := 0
	p.a.SetAckHandler(func(ch int, id endpoint.MessageID) {
		require.Equal(t, chReliable, ch)
		acked++
	})
	const n = 10_000
	var got []uint32
	ticks := sendAll(t, p, chReliable, n, 32, 20_000, func(msg []byte) {
		require.Len(t, msg, 32)
		require.Equal(t, numbered(number(msg), 32), msg, "payload intact")
		got = append(got, number(msg))
	}, func() bool { return len(got) == n })
	for i, v := range got {
		require.Equal(t, uint32(i), v, "message %d out of order or repeated", i)
	}
	for range 200 { // let the final acks arrive
		p.step(5 * time.Millisecond)
	}
	a, b := p.a.Stats(), p.b.Stats()
	assert.Equal(t, n, acked)
	assert.Equal(t, uint64(n), a.MessagesAcked)
	assert.Equal(t, uint64(n), b.MessagesDelivered)
	assert.Greater(t, a.MessagesResent, uint64(n/4), "30%% loss forces resends")
	assert.Greater(t, b.PacketsDuplicate, uint64(0), "the link duplicated packets")
	assert.Zero(t, a.PacketsMalformed+b.PacketsMalformed)
	assert.InDelta(t, 0.3, a.PacketLoss, 0.1)
	t.Logf("%d messages in %v simulated; resent %d, duplicates dropped %d",
		n, time.Duration(ticks)*5*time.Millisecond, a.MessagesResent, b.MessagesDuplicate+b.PacketsDuplicate)
}

func TestReliableUnorderedExactlyOnce(t *testing.T) {
	p := newPair(t, endpoint.Config{}, hostile, hostile, 11)
	const n = 5000
	seen := make(map[uint32]int)
	outOfOrder := 0
	last := int64(-1)
	sendAll(t, p, chUnordered, n, 20, 20_000, func(msg []byte) {
		v := number(msg)
		seen[v]++
		require.Equal(t, 1, seen[v], "message %d delivered twice", v)
		if int64(v) < last {
			outOfOrder++
		}
		last = int64(v)
	}, func() bool { return len(seen) == n })
	assert.Len(t, seen, n)
	assert.Positive(t, outOfOrder, "unordered delivery does not wait for gaps")
}

func TestSequencedNeverGoesBack(t *testing.T) {
	p := newPair(t, endpoint.Config{}, hostile, hostile, 12)
	var got []uint32
	for i := range 3000 {
		_, err := p.a.Send(chSequenced, numbered(uint32(i), 8))
		require.NoError(t, err)
		p.step(5 * time.Millisecond)
		for msg, ok := p.b.ReadMessage(chSequenced); ok; msg, ok = p.b.ReadMessage(chSequenced) {
			got = append(got, number(msg))
		}
	}
	require.NotEmpty(t, got)
	for i := 1; i < len(got); i++ {
		require.Greater(t, got[i], got[i-1], "delivered %d after %d", got[i], got[i-1])
	}
	s := p.b.Stats()
	assert.Positive(t, s.DroppedStale, "reordering made some arrive after newer ones")
	assert.InDelta(t, 3000*0.7, float64(len(got)+int(s.DroppedStale)), 3000*0.06)
}

func TestUnreliableDeliversOnceDespiteDuplication(t *testing.T) {
	p := newPair(t, endpoint.Config{}, netsim.Config{Duplicate: 0.5, Latency: 10 * time.Millisecond, Jitter: 10 * time.Millisecond}, netsim.Config{}, 13)
	seen := map[uint32]int{}
	for i := range 1000 {
		_, err := p.a.Send(chUnreliable, numbered(uint32(i), 8))
		require.NoError(t, err)
		p.step(time.Millisecond)
		for msg, ok := p.b.ReadMessage(chUnreliable); ok; msg, ok = p.b.ReadMessage(chUnreliable) {
			seen[number(msg)]++
		}
	}
	for range 50 {
		p.step(time.Millisecond)
		for msg, ok := p.b.ReadMessage(chUnreliable); ok; msg, ok = p.b.ReadMessage(chUnreliable) {
			seen[number(msg)]++
		}
	}
	assert.Len(t, seen, 1000)
	for v, n := range seen {
		require.Equal(t, 1, n, "message %d", v)
	}
	assert.Positive(t, p.b.Stats().PacketsDuplicate)
}

func TestReceiveWindowBackPressure(t *testing.T) {
	cfg := endpoint.Config{Channels: []endpoint.ChannelConfig{{Kind: endpoint.ReliableOrdered, MaxReceivedMessages: 8}}}
	p := newPair(t, cfg, netsim.Config{}, netsim.Config{}, 14)
	for i := range 20 {
		_, err := p.a.Send(0, numbered(uint32(i), 4))
		require.NoError(t, err)
	}
	p.step(time.Millisecond)
	p.step(time.Millisecond)
	s := p.b.Stats()
	assert.Equal(t, uint64(12), s.DroppedOutsideWindow, "only 8 fit the window")
	assert.Zero(t, p.a.Stats().PacketsAcked, "the packet with refused messages is not acked")

	var got []uint32
	for range 100 { // the reader drains the window; resends fill it again
		for msg, ok := p.b.ReadMessage(0); ok; msg, ok = p.b.ReadMessage(0) {
			got = append(got, number(msg))
		}
		p.step(30 * time.Millisecond)
	}
	require.Len(t, got, 20)
	for i, v := range got {
		assert.Equal(t, uint32(i), v)
	}
}

func TestWrapAroundLongRun(t *testing.T) {
	// 70,000 packets: every 16-bit sequence number is used once and the
	// counter wraps; reliable messages keep flowing in order across it.
	lossy := netsim.Config{Loss: 0.1, Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}
	p := newPair(t, endpoint.Config{}, lossy, lossy, 15)
	var next, want uint32
	for range 70_000 {
		if _, err := p.a.Send(chReliable, numbered(next, 8)); err == nil {
			next++
		}
		p.step(time.Millisecond)
		for msg, ok := p.b.ReadMessage(chReliable); ok; msg, ok = p.b.ReadMessage(chReliable) {
			require.Equal(t, want, number(msg))
			want++
		}
	}
	a := p.a.Stats()
	require.GreaterOrEqual(t, a.PacketsSent, uint64(70_000))
	assert.Greater(t, want, uint32(65_536), "message ids wrapped too")
	assert.InDelta(t, 0.1, a.PacketLoss, 0.03)
	assert.InDelta(t, 20*time.Millisecond, a.RTT, float64(5*time.Millisecond))
	assert.Less(t, int(next-want), 100, "no backlog built up")
}

func TestSequencedSupersedesQueued(t *testing.T) {
	a, b := newEndpoint(t, endpoint.Config{}), newEndpoint(t, endpoint.Config{})
	for i := range 5 {
		_, err := a.Send(chSequenced, numbered(uint32(i), 8))
		require.NoError(t, err)
	}
	for _, p := range collect(a, epoch) {
		require.NoError(t, b.Receive(epoch, p))
	}
	msg, ok := b.ReadMessage(chSequenced)
	require.True(t, ok)
	assert.Equal(t, uint32(4), number(msg), "only the newest state leaves")
	_, ok = b.ReadMessage(chSequenced)
	assert.False(t, ok)
	assert.Equal(t, uint64(4), a.Stats().MessagesSuperseded)
	assert.Equal(t, uint64(1), a.Stats().MessagesSent)
}

func TestFlushBudget(t *testing.T) {
	cfg := endpoint.Config{MaxFlushBytes: 3000}
	a, b := newEndpoint(t, cfg), newEndpoint(t, cfg)
	for i := range 100 {
		_, err := a.Send(chUnreliable, numbered(uint32(i), 100))
		require.NoError(t, err)
		_, err = a.Send(chReliable, numbered(uint32(i), 100))
		require.NoError(t, err)
	}
	now := epoch
	var reliable, unreliable []uint32
	for flushes := 1; ; flushes++ {
		require.Less(t, flushes, 20)
		packets := collect(a, now)
		total := 0
		for _, p := range packets {
			total += len(p)
			require.NoError(t, b.Receive(now, p))
		}
		assert.Less(t, total, 3000+1200, "flush %d emitted %d bytes", flushes, total)
		for msg, ok := b.ReadMessage(chReliable); ok; msg, ok = b.ReadMessage(chReliable) {
			reliable = append(reliable, number(msg))
		}
		for msg, ok := b.ReadMessage(chUnreliable); ok; msg, ok = b.ReadMessage(chUnreliable) {
			unreliable = append(unreliable, number(msg))
			assert.Len(t, reliable, 100, "unreliable messages wait until reliable ones are out")
		}
		if len(unreliable) == 100 {
			assert.Greater(t, flushes, 6, "%d bytes need several budgets", 200*107)
			break
		}
		for _, p := range collect(b, now) { // acks are not held back by a's budget
			require.NoError(t, a.Receive(now, p))
		}
		now = now.Add(time.Millisecond)
	}
	for i := range 100 {
		assert.Equal(t, uint32(i), reliable[i])
		assert.Equal(t, uint32(i), unreliable[i])
	}
}

func TestResendDelay(t *testing.T) {
	tests := []struct {
		name      string
		rtt       time.Duration // the path's round trip, measured before the lost message
		hold      time.Duration // how long the peer held the ack of that measurement
		wantAfter time.Duration // resend delay: max(1.25 × RTT + hold, MinResendDelay)
	}{
		{"1.25 x RTT", 100 * time.Millisecond, 0, 125 * time.Millisecond},
		{"plus the peer's hold", 100 * time.Millisecond, 30 * time.Millisecond, 155 * time.Millisecond},
		{"floor", 8 * time.Millisecond, 0, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newEndpoint(t, endpoint.Config{}), newEndpoint(t, endpoint.Config{AckDelay: endpoint.NoAckDelay})
			now := epoch
			// One exchange gives a an exact RTT sample.
			a.Ping()
			ping := collect(a, now)
			require.Len(t, ping, 1)
			require.NoError(t, b.Receive(now.Add(tt.rtt/2), ping[0]))
			now = now.Add(tt.rtt + tt.hold)
			for _, p := range collect(b, now.Add(-tt.rtt/2)) {
				require.NoError(t, a.Receive(now, p))
			}
			require.Equal(t, tt.rtt, a.Stats().RTT)
			require.Equal(t, tt.hold, a.Stats().PeerAckDelay)

			_, err := a.Send(chReliable, []byte("important"))
			require.NoError(t, err)
			require.Len(t, collect(a, now), 1) // lost on the way
			sentAt := now
			assert.Empty(t, collect(a, sentAt.Add(tt.wantAfter-time.Millisecond)), "resent too early")
			resent := collect(a, sentAt.Add(tt.wantAfter))
			require.Len(t, resent, 1, "resent on time")
			require.NoError(t, b.Receive(now, resent[0]))
			msg, ok := b.ReadMessage(chReliable)
			require.True(t, ok)
			assert.Equal(t, "important", string(msg))
			assert.Equal(t, uint64(1), a.Stats().MessagesResent)
		})
	}
}
