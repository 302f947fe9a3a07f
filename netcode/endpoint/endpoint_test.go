package endpoint_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

const (
	chReliable   = 0 // DefaultConfig channel ids
	chUnreliable = 1
	chSequenced  = 2
	chUnordered  = 3
)

func newEndpoint(t testing.TB, cfg endpoint.Config) *endpoint.Endpoint {
	t.Helper()
	e, err := endpoint.NewEndpoint(cfg, epoch)
	require.NoError(t, err)
	return e
}

func TestOneReplyAcks33Packets(t *testing.T) {
	a, b := newEndpoint(t, endpoint.Config{}), newEndpoint(t, endpoint.Config{})
	var acked []endpoint.MessageID
	a.SetAckHandler(func(ch int, id endpoint.MessageID) {
		assert.Equal(t, chUnreliable, ch)
		acked = append(acked, id)
	})
	now := epoch
	var packets [][]byte
	for i := range 33 {
		_, err := a.Send(chUnreliable, numbered(uint32(i), 8))
		require.NoError(t, err)
		ps := collect(a, now)
		require.Len(t, ps, 1, "one small message makes one packet")
		packets = append(packets, ps...)
		now = now.Add(time.Millisecond)
	}
	for _, p := range packets {
		require.NoError(t, b.Receive(now, p))
	}
	reply := collect(b, now)
	require.Len(t, reply, 1, "b owes 33 acks (more than it may hold) and has nothing else: one header-only packet")
	assert.Len(t, reply[0], 6, "flags, seq, ack and a 1-byte ack delay; all ack bits set fit in the flags")

	require.NoError(t, a.Receive(now, reply[0]))
	assert.Equal(t, uint64(33), a.Stats().PacketsAcked)
	assert.Len(t, acked, 33)
	for i, id := range acked {
		assert.Equal(t, endpoint.MessageID(i), id) // acked oldest first
	}
	assert.Empty(t, collect(a, now), "an ack-only packet is not acknowledged in turn")
}

func TestAcksSurviveLoss(t *testing.T) {
	lossy := netsim.Config{Loss: 0.3, Latency: 20 * time.Millisecond}
	p := newPair(t, endpoint.Config{}, lossy, lossy, 1)
	received := map[uint32]bool{}
	acked := map[endpoint.MessageID]bool{}
	p.a.SetAckHandler(func(ch int, id endpoint.MessageID) { acked[id] = true })

	const n = 2000
	for i := range n {
		_, err := p.a.Send(chUnreliable, numbered(uint32(i), 16))
		require.NoError(t, err)
		p.step(10 * time.Millisecond)
		for msg, ok := p.b.ReadMessage(chUnreliable); ok; msg, ok = p.b.ReadMessage(chUnreliable) {
			received[number(msg)] = true
		}
	}
	for range 100 { // keep traffic going so the last messages' acks get through
		p.a.Ping()
		p.step(10 * time.Millisecond)
		for msg, ok := p.b.ReadMessage(chUnreliable); ok; msg, ok = p.b.ReadMessage(chUnreliable) {
			received[number(msg)] = true
		}
	}
	require.InDelta(t, n*0.7, len(received), n*0.05, "the link lost about 30%%")
	for i := range uint32(n) {
		assert.Equal(t, received[i], acked[endpoint.MessageID(i)], "message %d: received %v, acked %v", i, received[i], acked[endpoint.MessageID(i)])
	}
	assert.Zero(t, p.a.Stats().PacketsMalformed+p.b.Stats().PacketsMalformed)
}

func TestRTTConverges(t *testing.T) {
	oneWay := netsim.Config{Latency: 50 * time.Millisecond, Jitter: 5 * time.Millisecond}
	p := newPair(t, endpoint.Config{}, oneWay, oneWay, 2)
	for i := range 5000 {
		if i%10 == 0 {
			_, err := p.a.Send(chUnreliable, []byte("tick"))
			require.NoError(t, err)
		}
		p.step(time.Millisecond)
	}
	s := p.a.Stats()
	assert.InDelta(t, 100*time.Millisecond, s.RTT, float64(10*time.Millisecond), "RTT %v", s.RTT)
	assert.GreaterOrEqual(t, s.MinRTT, 90*time.Millisecond)
	assert.LessOrEqual(t, s.MinRTT, s.RTT)
	assert.Less(t, s.RTTVar, 10*time.Millisecond)
	assert.Zero(t, s.PacketLoss)
	assert.Greater(t, s.SentKbps, 0.0)
	assert.Greater(t, s.AckedKbps, 0.0)
	assert.Greater(t, p.b.Stats().ReceivedKbps, 0.0)
}

func TestLossMeasured(t *testing.T) {
	p := newPair(t, endpoint.Config{}, netsim.Config{Loss: 0.1, Latency: 20 * time.Millisecond},
		netsim.Config{Latency: 20 * time.Millisecond}, 3)
	const n = 10_000
	for range n {
		_, err := p.a.Send(chUnreliable, []byte("state"))
		require.NoError(t, err)
		p.step(2 * time.Millisecond)
	}
	for range 200 { // let the last packets be decided
		p.step(2 * time.Millisecond)
	}
	s := p.a.Stats()
	dropped := p.ab.Stats().DroppedLoss
	assert.InDelta(t, 0.10, s.PacketLoss, 0.02, "loss over the last %d packets", 1024)
	assert.InDelta(t, 0.10, float64(s.PacketsLost)/float64(s.PacketsSent), 0.02)
	assert.Equal(t, dropped, s.PacketsLost, "every packet the link dropped, and only those, counts as lost")
	assert.Equal(t, s.PacketsSent-dropped, s.PacketsAcked)
}

func TestSendErrors(t *testing.T) {
	cfg := endpoint.Config{
		MaxMessageSize: 4000,
		Channels: []endpoint.ChannelConfig{
			{Kind: endpoint.ReliableOrdered, MaxQueuedMessages: 4},
			{Kind: endpoint.Unreliable, MaxQueuedMessages: 100, MaxQueuedBytes: 100},
		},
	}
	e := newEndpoint(t, cfg)

	_, err := e.Send(2, []byte("x"))
	assert.ErrorIs(t, err, endpoint.ErrUnknownChannel)
	_, err = e.Send(-1, []byte("x"))
	assert.ErrorIs(t, err, endpoint.ErrUnknownChannel)
	_, err = e.Send(0, make([]byte, 4001))
	assert.ErrorIs(t, err, endpoint.ErrMessageTooLarge)
	assert.Contains(t, err.Error(), "4001")

	for i := range 4 {
		id, err := e.Send(0, []byte("r"))
		require.NoError(t, err)
		assert.Equal(t, endpoint.MessageID(i), id)
	}
	_, err = e.Send(0, []byte("r"))
	assert.ErrorIs(t, err, endpoint.ErrSendQueueFull)

	// Sending does not free a reliable slot: only the peer's ack does.
	collect(e, epoch)
	_, err = e.Send(0, []byte("r"))
	assert.ErrorIs(t, err, endpoint.ErrSendQueueFull, "reliable messages in flight count against the bound")

	// The byte bound: one large message always fits an empty queue.
	_, err = e.Send(1, make([]byte, 3000))
	require.NoError(t, err)
	_, err = e.Send(1, []byte("x"))
	assert.ErrorIs(t, err, endpoint.ErrSendQueueFull)
	collect(e, epoch) // unreliable messages leave the queue once sent
	_, err = e.Send(1, make([]byte, 60))
	require.NoError(t, err)
	_, err = e.Send(1, make([]byte, 41))
	assert.True(t, errors.Is(err, endpoint.ErrSendQueueFull), "60 + 41 bytes exceed MaxQueuedBytes 100")
}

func TestPingElicitsAck(t *testing.T) {
	a, b := newEndpoint(t, endpoint.Config{}), newEndpoint(t, endpoint.Config{})
	assert.Empty(t, collect(a, epoch), "nothing to send, no ack owed")
	a.Ping()
	ps := collect(a, epoch)
	require.Len(t, ps, 1)
	arrived := epoch.Add(30 * time.Millisecond)
	require.NoError(t, b.Receive(arrived, ps[0]))
	assert.Empty(t, collect(b, arrived), "the ack waits AckDelay for data to ride on")
	held := arrived.Add(endpoint.DefaultAckDelay)
	reply := collect(b, held)
	require.Len(t, reply, 1)
	require.NoError(t, a.Receive(held.Add(30*time.Millisecond), reply[0]))
	s := a.Stats()
	assert.Equal(t, 60*time.Millisecond, s.RTT, "the path's RTT: the hold is not in it")
	assert.Equal(t, 30*time.Millisecond, s.RTTVar)
	assert.Equal(t, endpoint.DefaultAckDelay, s.PeerAckDelay)
	assert.Empty(t, collect(a, held.Add(time.Hour)), "an ack-only packet is not acknowledged in turn")
}

// headerNoAck returns a packet of body after the 3-byte header of packet
// seq that acknowledges nothing (flags 0x20, seq little-endian).
func headerNoAck(seq uint16, body ...byte) []byte {
	return append([]byte{0x20, byte(seq), byte(seq >> 8)}, body...)
}

func TestReceiveRejectsBadPackets(t *testing.T) {
	a, b := newEndpoint(t, endpoint.Config{}), newEndpoint(t, endpoint.Config{})
	_, err := a.Send(chReliable, []byte("hello"))
	require.NoError(t, err)
	good := collect(a, epoch)[0]

	tests := []struct {
		name   string
		packet []byte
	}{
		{"empty", nil},
		{"truncated header", good[:2]},
		{"truncated frame", good[:len(good)-1]},
		{"unknown channel", headerNoAck(9, 0x50, 0, 0, 0)},
		{"length past end", headerNoAck(9, 0, 0, 0, 5, 'a')},
		{"fragment count 1", headerNoAck(9, 0x80, 0, 0, 0, 1, 1, 1, 'a')},
		{"oversize", make([]byte, 1201)},
	}
	for i, tt := range tests {
		err := b.Receive(epoch, tt.packet)
		assert.ErrorIs(t, err, endpoint.ErrMalformedPacket, tt.name)
		assert.Equal(t, uint64(i+1), b.Stats().PacketsMalformed, tt.name)
	}
	assert.Zero(t, b.Stats().PacketsReceived)

	require.NoError(t, b.Receive(epoch, good))
	assert.ErrorIs(t, b.Receive(epoch, good), endpoint.ErrDuplicatePacket)
	assert.Equal(t, uint64(1), b.Stats().PacketsDuplicate)
	msg, ok := b.ReadMessage(chReliable)
	require.True(t, ok)
	assert.Equal(t, "hello", string(msg))
	_, ok = b.ReadMessage(chReliable)
	assert.False(t, ok, "delivered exactly once")
	_, ok = b.ReadMessage(99)
	assert.False(t, ok)
}

func TestStalePacket(t *testing.T) {
	a, b := newEndpoint(t, endpoint.Config{}), newEndpoint(t, endpoint.Config{})
	var first []byte
	for i := range 300 {
		a.Ping()
		ps := collect(a, epoch)
		if i == 0 {
			first = ps[0]
			continue
		}
		require.NoError(t, b.Receive(epoch, ps[0]))
	}
	assert.ErrorIs(t, b.Receive(epoch, first), endpoint.ErrStalePacket)
	assert.Equal(t, uint64(1), b.Stats().PacketsStale)
}

// TestAckDelay: with Config.AckDelay, an owed ack waits for a data packet
// to ride on; a header-only ack leaves once the oldest unacknowledged
// arrival with reliable data is AckDelay old, or once 4 such packets are
// owed; acks of packets with only unreliable data wait twice as long, or
// until 16 are owed.
func TestAckDelay(t *testing.T) {
	const delay = 40 * time.Millisecond
	tests := []struct {
		name string
		// run receives packets from the peer at b and returns b's packets
		// of the last Flush and the acks they carry.
		run       func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte
		wantCount int
	}{
		{"reliable, within the delay: nothing", func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte {
			deliverOn(t, chReliable, peer, b, epoch, 1)
			return collect(b, epoch.Add(delay-time.Millisecond))
		}, 0},
		{"reliable, at the delay: a header-only ack", func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte {
			deliverOn(t, chReliable, peer, b, epoch, 1)
			assert.Empty(t, collect(b, epoch.Add(delay/2)))
			deliverOn(t, chReliable, peer, b, epoch.Add(delay/2), 1) // newer arrivals do not restart the clock
			return collect(b, epoch.Add(delay))
		}, 1},
		{"unreliable, at the delay: nothing", func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte {
			deliver(t, peer, b, epoch, 1)
			return collect(b, epoch.Add(2*delay-time.Millisecond))
		}, 0},
		{"unreliable, at twice the delay: a header-only ack", func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte {
			deliver(t, peer, b, epoch, 1)
			assert.Empty(t, collect(b, epoch.Add(delay)))
			deliver(t, peer, b, epoch.Add(delay), 1)
			return collect(b, epoch.Add(2*delay))
		}, 1},
		{"unreliable, then reliable: the reliable one's delay", func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte {
			deliver(t, peer, b, epoch, 1)
			deliverOn(t, chReliable, peer, b, epoch.Add(delay/2), 1)
			assert.Empty(t, collect(b, epoch.Add(delay)))
			return collect(b, epoch.Add(delay/2+delay))
		}, 1},
		{"data leaves at once, with the acks", func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte {
			deliver(t, peer, b, epoch, 1)
			_, err := b.Send(chUnreliable, []byte("state"))
			require.NoError(t, err)
			return collect(b, epoch.Add(time.Millisecond))
		}, 1},
		{"4 reliable packets owed: a header-only ack at once", func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte {
			deliver(t, peer, b, epoch, 5) // unreliable ones do not count
			deliverOn(t, chReliable, peer, b, epoch, 3)
			assert.Empty(t, collect(b, epoch))
			deliverOn(t, chReliable, peer, b, epoch, 1)
			return collect(b, epoch)
		}, 1},
		{"16 unreliable packets owed: a header-only ack at once", func(t *testing.T, peer, b *endpoint.Endpoint) [][]byte {
			deliver(t, peer, b, epoch, 15)
			assert.Empty(t, collect(b, epoch))
			deliver(t, peer, b, epoch, 1)
			return collect(b, epoch)
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := newEndpoint(t, endpoint.Config{})
			b := newEndpoint(t, endpoint.Config{AckDelay: delay})
			ps := tt.run(t, peer, b)
			require.Len(t, ps, tt.wantCount)
			if tt.wantCount == 0 {
				return
			}
			// Whatever left carries the acks of everything received.
			sent := peer.Stats().PacketsSent
			require.NoError(t, peer.Receive(epoch.Add(time.Second), ps[0]))
			assert.Equal(t, sent, peer.Stats().PacketsAcked)
			// And the ack is no longer owed.
			assert.Empty(t, collect(b, epoch.Add(time.Hour)))
		})
	}
}

// deliver has peer send n one-message packets on the unreliable channel
// and b receive them at now.
func deliver(t *testing.T, peer, b *endpoint.Endpoint, now time.Time, n int) {
	t.Helper()
	deliverOn(t, chUnreliable, peer, b, now, n)
}

// deliverOn is deliver on channel ch.
func deliverOn(t *testing.T, ch int, peer, b *endpoint.Endpoint, now time.Time, n int) {
	t.Helper()
	for range n {
		_, err := peer.Send(ch, []byte("input"))
		require.NoError(t, err)
		for _, p := range collect(peer, now) {
			require.NoError(t, b.Receive(now, p))
		}
		for {
			if _, ok := b.ReadMessage(ch); !ok {
				break
			}
		}
	}
}

// TestReadMessageSurvivesSend: a message returned by ReadMessage is not
// reused by Send (the two sides keep separate buffer pools), so a handler
// may reply before it is done with what it read.
func TestReadMessageSurvivesSend(t *testing.T) {
	a, b := newEndpoint(t, endpoint.Config{}), newEndpoint(t, endpoint.Config{})
	now := epoch
	for i := range 100 {
		want := numbered(uint32(i), 40)
		_, err := a.Send(chUnreliable, want)
		require.NoError(t, err)
		for _, p := range collect(a, now) {
			require.NoError(t, b.Receive(now, p))
		}
		got, ok := b.ReadMessage(chUnreliable)
		require.True(t, ok)
		_, err = b.Send(chUnreliable, numbered(uint32(1000+i), 40))
		require.NoError(t, err)
		collect(b, now)
		require.Equal(t, want, got, "message %d changed under Send", i)
		now = now.Add(time.Millisecond)
	}
}
