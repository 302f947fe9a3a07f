package endpoint_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// reliableOnly is a one-channel (reliable-ordered) config; redundancy is
// the channel's Redundancy, ackDelay the endpoint's AckDelay.
func reliableOnly(redundancy int, ackDelay time.Duration) endpoint.Config {
	return endpoint.Config{AckDelay: ackDelay, Channels: []endpoint.ChannelConfig{
		{Kind: endpoint.ReliableOrdered, Redundancy: redundancy},
	}}
}

func label(i int) []byte { return fmt.Appendf(nil, "message %03d", i) }

// warmRTT has a ping b, which answers at once, so that a holds exactly one
// RTT sample of rtt; it returns the time the answer arrived. b must not
// coalesce acks.
func warmRTT(t *testing.T, a, b *endpoint.Endpoint, now time.Time, rtt time.Duration) time.Time {
	t.Helper()
	a.Ping()
	ping := collect(a, now)
	require.Len(t, ping, 1)
	now = now.Add(rtt / 2)
	require.NoError(t, b.Receive(now, ping[0]))
	reply := collect(b, now)
	require.Len(t, reply, 1)
	now = now.Add(rtt / 2)
	require.NoError(t, a.Receive(now, reply[0]))
	require.Equal(t, rtt, a.Stats().RTT)
	return now
}

// sendEach has a send one labelled message per packet, a millisecond
// apart from start, and returns the packets.
func sendEach(t *testing.T, a *endpoint.Endpoint, start time.Time, n int) [][]byte {
	t.Helper()
	var ps [][]byte
	for i := range n {
		_, err := a.Send(0, label(i))
		require.NoError(t, err)
		got := collect(a, start.Add(time.Duration(i)*time.Millisecond))
		require.Len(t, got, 1)
		ps = append(ps, got[0])
	}
	return ps
}

// ackFrom has b receive packet p at now and returns its immediate ack.
func ackFrom(t *testing.T, b *endpoint.Endpoint, now time.Time, p []byte) []byte {
	t.Helper()
	require.NoError(t, b.Receive(now, p))
	reply := collect(b, now)
	require.Len(t, reply, 1)
	return reply[0]
}

// carries reports whether one of packets holds the labelled message i.
func carries(packets [][]byte, i int) bool {
	for _, p := range packets {
		if bytes.Contains(p, label(i)) {
			return true
		}
	}
	return false
}

// TestLossByPacketThreshold: a packet is lost once the peer acknowledges
// one sent three packets after it, long before the resend timer; two are
// not enough.
func TestLossByPacketThreshold(t *testing.T) {
	const rtt = 100 * time.Millisecond
	a := newEndpoint(t, reliableOnly(endpoint.NoRedundancy, 0))
	b := newEndpoint(t, reliableOnly(endpoint.NoRedundancy, endpoint.NoAckDelay))
	start := warmRTT(t, a, b, epoch, rtt)
	ps := sendEach(t, a, start, 5) // packet 0 is lost
	sent := func(i int) time.Time { return start.Add(time.Duration(i) * time.Millisecond) }

	for i := 1; i <= 2; i++ {
		require.NoError(t, a.Receive(sent(i).Add(rtt), ackFrom(t, b, sent(i).Add(rtt/2), ps[i])))
	}
	assert.Empty(t, collect(a, sent(2).Add(rtt)), "two later packets acknowledged: not yet lost")
	assert.Zero(t, a.Stats().PacketsLost)

	require.NoError(t, a.Receive(sent(3).Add(rtt), ackFrom(t, b, sent(3).Add(rtt/2), ps[3])))
	resent := collect(a, sent(3).Add(rtt))
	require.Len(t, resent, 1, "the third later packet acknowledged: lost, resent at once")
	assert.True(t, carries(resent, 0))
	assert.False(t, carries(resent, 1) || carries(resent, 4), "only what the lost packet carried")
	s := a.Stats()
	assert.Equal(t, uint64(1), s.PacketsLost)
	assert.Equal(t, uint64(1), s.MessagesResent)
	assert.Less(t, 3*time.Millisecond+rtt, 5*rtt/4, "sooner than the resend timer")

	require.NoError(t, b.Receive(sent(3).Add(rtt+rtt/2), resent[0]))
	msg, ok := b.ReadMessage(0)
	require.True(t, ok)
	assert.Equal(t, label(0), msg)
}

// TestLossByTimeThreshold: with only one later packet acknowledged, a
// packet is lost once it has been out for 9/8 of the RTT.
func TestLossByTimeThreshold(t *testing.T) {
	const rtt = 100 * time.Millisecond
	a := newEndpoint(t, reliableOnly(endpoint.NoRedundancy, 0))
	b := newEndpoint(t, reliableOnly(endpoint.NoRedundancy, endpoint.NoAckDelay))
	start := warmRTT(t, a, b, epoch, rtt)
	ps := sendEach(t, a, start, 2) // packet 0 is lost
	require.NoError(t, a.Receive(start.Add(rtt+time.Millisecond), ackFrom(t, b, start.Add(rtt/2+time.Millisecond), ps[1])))

	threshold := rtt * 9 / 8
	assert.Empty(t, collect(a, start.Add(threshold-time.Millisecond)), "out for less than 9/8 RTT")
	resent := collect(a, start.Add(threshold))
	require.Len(t, resent, 1)
	assert.True(t, carries(resent, 0))
	assert.Equal(t, uint64(1), a.Stats().MessagesResent)
	assert.Equal(t, uint64(1), a.Stats().PacketsLost)
}

// TestSpuriousLoss: a packet declared lost that the peer acknowledges
// later (it was only overtaken) is counted, no longer counts as lost, and
// the packet threshold grows past the reordering seen, so the same
// reordering costs no resend the next time.
func TestSpuriousLoss(t *testing.T) {
	const rtt = 100 * time.Millisecond
	a := newEndpoint(t, reliableOnly(endpoint.NoRedundancy, 0))
	b := newEndpoint(t, reliableOnly(endpoint.NoRedundancy, endpoint.NoAckDelay))
	now := warmRTT(t, a, b, epoch, rtt)
	ps := sendEach(t, a, now, 4)
	now = now.Add(rtt / 2)
	for _, i := range []int{1, 2, 3} {
		require.NoError(t, a.Receive(now.Add(rtt/2), ackFrom(t, b, now, ps[i])))
	}
	now = now.Add(rtt / 2)
	resent := collect(a, now)
	require.Len(t, resent, 1, "declared lost by the packet threshold")
	require.Equal(t, uint64(1), a.Stats().PacketsLost)

	// Packet 0 was only late: its ack comes, then the resend arrives too.
	require.NoError(t, a.Receive(now.Add(time.Millisecond), ackFrom(t, b, now.Add(-rtt/2+time.Millisecond), ps[0])))
	s := a.Stats()
	assert.Equal(t, uint64(1), s.SpuriousLosses)
	assert.Zero(t, s.PacketsLost, "a late ack takes the loss back")
	assert.Zero(t, s.PacketLoss)
	require.NoError(t, b.Receive(now.Add(rtt/2), resent[0]))
	for i := range 4 {
		msg, ok := b.ReadMessage(0)
		require.True(t, ok)
		assert.Equal(t, label(i), msg)
	}
	_, ok := b.ReadMessage(0)
	assert.False(t, ok, "the resend is a duplicate, dropped")
	assert.Equal(t, uint64(1), b.Stats().MessagesDuplicate)

	// The same reordering again: tolerated now.
	now = now.Add(10 * time.Millisecond)
	ps = sendEach(t, a, now, 4)
	now = now.Add(rtt / 2)
	for _, i := range []int{1, 2, 3} {
		require.NoError(t, a.Receive(now.Add(rtt/2), ackFrom(t, b, now, ps[i])))
	}
	assert.Empty(t, collect(a, now.Add(rtt/2)), "reordering by 3 no longer declares a loss")
	assert.Zero(t, a.Stats().PacketsLost)
	assert.Equal(t, uint64(1), a.Stats().MessagesResent)
}

// TestLossOfAckedMessageResendsNothing: a packet declared lost whose
// message the peer acknowledged meanwhile through a copy in a later packet
// costs no resend.
func TestLossOfAckedMessageResendsNothing(t *testing.T) {
	const rtt = 100 * time.Millisecond
	a := newEndpoint(t, reliableOnly(0, 0)) // default redundancy
	b := newEndpoint(t, reliableOnly(0, endpoint.NoAckDelay))
	now := warmRTT(t, a, b, epoch, rtt)
	ps := sendEach(t, a, now, 5)
	require.True(t, carries(ps[1:2], 0), "packet 1 carries a copy of message 0")
	now = now.Add(rtt / 2)
	for _, i := range []int{1, 2, 3, 4} {
		require.NoError(t, a.Receive(now.Add(rtt/2), ackFrom(t, b, now, ps[i])))
	}
	now = now.Add(rtt / 2)
	assert.Empty(t, collect(a, now))
	s := a.Stats()
	assert.Equal(t, uint64(1), s.PacketsLost, "packet 0 is lost")
	assert.Zero(t, s.MessagesResent, "but message 0 arrived in packet 1")
	assert.Equal(t, uint64(5), s.MessagesAcked)
	for i := range 5 {
		msg, ok := b.ReadMessage(0)
		require.True(t, ok)
		assert.Equal(t, label(i), msg)
	}
}

// TestTailLossProbe: when the last packet of a burst is lost nothing later
// is acknowledged, so the probe timeout (RTT + 4 × RTTVar + the peer's ack
// delay) resends the oldest unacknowledged message; on a steady path it
// fires well before the resend timer.
func TestTailLossProbe(t *testing.T) {
	const oneWay = 50 * time.Millisecond
	a := newEndpoint(t, reliableOnly(endpoint.NoRedundancy, 0))
	b := newEndpoint(t, reliableOnly(endpoint.NoRedundancy, endpoint.NoAckDelay))
	now := epoch
	for range 40 { // a steady path: RTTVar decays towards 0
		a.Ping()
		ping := collect(a, now)
		require.Len(t, ping, 1)
		now = now.Add(oneWay)
		reply := ackFrom(t, b, now, ping[0])
		now = now.Add(oneWay)
		require.NoError(t, a.Receive(now, reply))
	}
	s := a.Stats()
	require.Equal(t, 2*oneWay, s.RTT)
	require.Less(t, s.RTTVar, 250*time.Microsecond)
	pto := s.RTT + max(4*s.RTTVar, time.Millisecond)

	_, err := a.Send(0, label(0))
	require.NoError(t, err)
	require.Len(t, collect(a, now), 1) // lost: the tail of the burst
	assert.Empty(t, collect(a, now.Add(pto-time.Millisecond)))
	probe := collect(a, now.Add(pto))
	require.Len(t, probe, 1, "the probe timeout fired")
	assert.True(t, carries(probe, 0))
	s = a.Stats()
	assert.Equal(t, uint64(1), s.ProbesSent)
	assert.Equal(t, uint64(1), s.MessagesResent)
	assert.Less(t, pto, s.RTT*5/4, "before the resend timer would have")

	// The probe's ack stops the probing.
	require.NoError(t, a.Receive(now.Add(pto+2*oneWay), ackFrom(t, b, now.Add(pto+oneWay), probe[0])))
	assert.Empty(t, collect(a, now.Add(10*pto)))
	assert.Equal(t, uint64(1), a.Stats().ProbesSent)
}

// TestAckDelayExcludedFromRTT: a peer that holds its acks 40 ms (it sends
// nothing else) shows the path's RTT, not the path plus 40 ms, and its
// holds cost no spurious resend.
func TestAckDelayExcludedFromRTT(t *testing.T) {
	path := netsim.Config{Latency: 25 * time.Millisecond}
	cfg := endpoint.Config{AckDelay: 40 * time.Millisecond}
	p := newPair(t, cfg, path, path, 11)
	for i := range 3000 {
		if i%100 == 0 {
			_, err := p.a.Send(chReliable, label(i))
			require.NoError(t, err)
		}
		p.step(time.Millisecond)
		for _, ok := p.b.ReadMessage(chReliable); ok; _, ok = p.b.ReadMessage(chReliable) {
		}
	}
	s := p.a.Stats()
	assert.InDelta(t, 50*time.Millisecond, s.RTT, float64(time.Millisecond), "RTT %v", s.RTT)
	assert.InDelta(t, 50*time.Millisecond, s.MinRTT, float64(time.Millisecond), "MinRTT %v", s.MinRTT)
	assert.InDelta(t, 40*time.Millisecond, s.PeerAckDelay, float64(time.Millisecond), "PeerAckDelay %v", s.PeerAckDelay)
	assert.Equal(t, uint64(30), s.MessagesAcked)
	assert.Zero(t, s.MessagesResent)
	assert.Zero(t, s.SpuriousLosses)
	assert.Zero(t, s.PacketsLost)
	assert.Equal(t, uint64(30), s.PacketsSent, "one packet per message: copies never make a packet")
	assert.Zero(t, s.MessagesRedundant)
}

// TestLostOnceRecovery: a reliable message whose packet is lost once, in
// steady two-way game traffic (a state message each way every 5 ms tick,
// 50 ms one way). With redundancy the copy in the next packet delivers it
// one tick late; without, the acks of the packets after it reveal the loss
// and it arrives about one RTT plus one way later; neither waits for the
// resend timer.
func TestLostOnceRecovery(t *testing.T) {
	const (
		oneWay = 50 * time.Millisecond
		tick   = 5 * time.Millisecond
		rtt    = 2 * oneWay
	)
	tests := []struct {
		name       string
		redundancy int
		want       time.Duration // the latest the message may arrive
	}{
		{"redundancy", 0, oneWay + tick},
		{"no redundancy", endpoint.NoRedundancy, rtt + oneWay + 3*tick},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := endpoint.DefaultConfig()
			cfg.Channels[chReliable].Redundancy = tt.redundancy
			path := netsim.Config{Latency: oneWay}
			p := newPair(t, cfg, path, path, 5)
			important := []byte("important event")
			dropped := 0
			p.dropAB = func(b []byte) bool {
				if dropped == 0 && bytes.Contains(b, important) {
					dropped++
					return true
				}
				return false
			}
			state := func() {
				_, err := p.a.Send(chUnreliable, []byte("a state"))
				require.NoError(t, err)
				_, err = p.b.Send(chUnreliable, []byte("b state"))
				require.NoError(t, err)
			}
			// A game tick: take in what arrived, read it, send, flush.
			tickOnce := func() (reliable []byte) {
				p.deliver(tick)
				for _, ok := p.b.ReadMessage(chUnreliable); ok; _, ok = p.b.ReadMessage(chUnreliable) {
				}
				reliable, _ = p.b.ReadMessage(chReliable)
				state()
				return reliable
			}
			for range 200 { // a second of traffic settles the RTT
				require.Nil(t, tickOnce())
				p.flush()
			}
			require.InDelta(t, rtt, p.a.Stats().RTT, float64(time.Millisecond))
			resendTimer := p.a.Stats().RTT*5/4 + p.a.Stats().PeerAckDelay

			_, err := p.a.Send(chReliable, important)
			require.NoError(t, err)
			sent := p.now
			p.flush()
			var got time.Duration
			for i := 0; got == 0; i++ {
				require.Less(t, i, 200, "never delivered")
				if msg := tickOnce(); msg != nil {
					require.Equal(t, important, msg)
					got = p.now.Sub(sent)
				}
				p.flush()
			}
			require.Equal(t, 1, dropped)
			t.Logf("delivered %v after Send (one way %v, resend timer %v)", got, oneWay, resendTimer)
			assert.LessOrEqual(t, got, tt.want)
			assert.Less(t, got, resendTimer+oneWay, "sooner than the resend timer")
			s := p.a.Stats()
			assert.Zero(t, s.ProbesSent)
			if tt.redundancy == endpoint.NoRedundancy {
				assert.Equal(t, uint64(1), s.MessagesResent)
				assert.Zero(t, s.MessagesRedundant)
			} else {
				assert.Zero(t, s.MessagesResent)
				assert.Positive(t, s.MessagesRedundant)
			}
		})
	}
}
