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

var fragmentSizes = []int{0, 1, 100, 1179, 1180, 1181, 1200, 2400, 5000, 64 << 10, 256 << 10}

// readOne steps the pair until ch has a message or ticks run out.
func readOne(p *pair, ch, ticks int) ([]byte, bool) {
	for range ticks {
		p.step(5 * time.Millisecond)
		if msg, ok := p.b.ReadMessage(ch); ok {
			return bytes.Clone(msg), true
		}
	}
	return nil, false
}

func TestFragmentedRoundTrip(t *testing.T) {
	for _, ch := range []int{chReliable, chUnreliable, chSequenced, chUnordered} {
		p := newPair(t, endpoint.Config{}, netsim.Config{Latency: 5 * time.Millisecond}, netsim.Config{Latency: 5 * time.Millisecond}, 20)
		for i, size := range fragmentSizes {
			t.Run(fmt.Sprintf("channel %d size %d", ch, size), func(t *testing.T) {
				want := patterned(size, byte(i))
				_, err := p.a.Send(ch, want)
				require.NoError(t, err)
				got, ok := readOne(p, ch, 100)
				require.True(t, ok, "message never arrived")
				require.Equal(t, len(want), len(got))
				require.True(t, bytes.Equal(want, got), "content differs")
				_, ok = p.b.ReadMessage(ch)
				assert.False(t, ok, "delivered once")
			})
		}
	}
}

func TestFragmentedReliableOverLossyLink(t *testing.T) {
	p := newPair(t, endpoint.Config{}, hostile, hostile, 21)
	for _, ch := range []int{chReliable, chUnordered} {
		for i, size := range fragmentSizes {
			want := patterned(size, byte(i))
			_, err := p.a.Send(ch, want)
			require.NoError(t, err)
			got, ok := readOne(p, ch, 2000)
			require.True(t, ok, "channel %d: %d-byte message never arrived", ch, size)
			require.True(t, bytes.Equal(want, got), "channel %d: %d-byte message differs", ch, size)
		}
	}
	assert.Positive(t, p.a.Stats().MessagesResent)
}

func TestFragmentedUnreliableWholeOrNothing(t *testing.T) {
	lossy := netsim.Config{Loss: 0.01, Reorder: 0.2, Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond}
	p := newPair(t, endpoint.Config{}, lossy, lossy, 22)
	const n = 200
	delivered := 0
	for i := range n {
		_, err := p.a.Send(chUnreliable, patterned(20_000, byte(i)))
		require.NoError(t, err)
		p.step(20 * time.Millisecond)
		for msg, ok := p.b.ReadMessage(chUnreliable); ok; msg, ok = p.b.ReadMessage(chUnreliable) {
			require.Len(t, msg, 20_000)
			require.True(t, bytes.Equal(patterned(20_000, msg[0]), msg), "a delivered message is intact")
			delivered++
		}
	}
	// 18 fragments each at 1% loss: about 83% arrive whole.
	assert.InDelta(t, n*0.83, delivered, n*0.1)
	assert.Positive(t, p.b.Stats().DroppedReassemblyStale, "incomplete messages expire")
}

func TestOversizeMessageRefused(t *testing.T) {
	e := newEndpoint(t, endpoint.Config{})
	_, err := e.Send(chReliable, make([]byte, 256<<10+1))
	require.ErrorIs(t, err, endpoint.ErrMessageTooLarge)
	assert.EqualError(t, err, "endpoint: message too large: 262145 bytes, MaxMessageSize is 262144")
	_, err = e.Send(chReliable, make([]byte, 256<<10))
	assert.NoError(t, err)
}

func TestReassemblyMemoryBounded(t *testing.T) {
	cfg := endpoint.Config{MaxMessageSize: 64 << 10, MaxReassemblyBytes: 100 << 10}
	p := newPair(t, cfg, netsim.Config{}, netsim.Config{}, 23)
	// Nobody reads: three 64 KiB unreliable messages arrive, only one fits.
	for i := range 3 {
		_, err := p.a.Send(chUnreliable, patterned(64<<10, byte(i)))
		require.NoError(t, err)
	}
	p.step(time.Millisecond)
	p.step(time.Millisecond)
	s := p.b.Stats()
	assert.Equal(t, uint64(2*56), s.DroppedReassemblyFull, "every fragment of the two that do not fit")
	msg, ok := p.b.ReadMessage(chUnreliable)
	require.True(t, ok)
	assert.True(t, bytes.Equal(patterned(64<<10, 0), msg))
	_, ok = p.b.ReadMessage(chUnreliable)
	assert.False(t, ok)

	// Reliable messages that do not fit are not acked, so they come again
	// once the reader has made room.
	for i := range 3 {
		_, err := p.a.Send(chUnordered, patterned(64<<10, byte(10+i)))
		require.NoError(t, err)
	}
	got := 0
	for range 200 {
		p.step(10 * time.Millisecond)
		for msg, ok := p.b.ReadMessage(chUnordered); ok; msg, ok = p.b.ReadMessage(chUnordered) {
			require.True(t, bytes.Equal(patterned(64<<10, msg[0]), msg))
			got++
		}
	}
	assert.Equal(t, 3, got)
}

func TestAckHandlerWaitsForEveryFragment(t *testing.T) {
	a, b := newEndpoint(t, endpoint.Config{}), newEndpoint(t, endpoint.Config{AckDelay: endpoint.NoAckDelay})
	var acked []endpoint.MessageID
	a.SetAckHandler(func(ch int, id endpoint.MessageID) { acked = append(acked, id) })
	id, err := a.Send(chUnreliable, make([]byte, 5000))
	require.NoError(t, err)
	packets := collect(a, epoch)
	require.Len(t, packets, 5)

	// b sees all but the last fragment: acking those four is not enough.
	for _, p := range packets[:4] {
		require.NoError(t, b.Receive(epoch, p))
	}
	for _, p := range collect(b, epoch) {
		require.NoError(t, a.Receive(epoch, p))
	}
	assert.Empty(t, acked)
	require.NoError(t, b.Receive(epoch, packets[4]))
	for _, p := range collect(b, epoch) {
		require.NoError(t, a.Receive(epoch, p))
	}
	assert.Equal(t, []endpoint.MessageID{id}, acked)
}

func TestPartialMessagesExpireAndEvict(t *testing.T) {
	cfg := endpoint.Config{MaxPartialMessages: 2, ReassemblyTimeout: time.Second}
	a, b := newEndpoint(t, cfg), newEndpoint(t, cfg)
	var msgs [][][]byte // packets of each 3-fragment message
	for i := range 4 {
		_, err := a.Send(chUnreliable, patterned(3000, byte(i)))
		require.NoError(t, err)
		msgs = append(msgs, collect(a, epoch))
		require.Len(t, msgs[i], 3)
	}
	// Message 0 loses its last fragment; it expires a second later.
	for _, p := range msgs[0][:2] {
		require.NoError(t, b.Receive(epoch, p))
	}
	require.NoError(t, b.Receive(epoch.Add(1500*time.Millisecond), msgs[1][0]))
	assert.Equal(t, uint64(1), b.Stats().DroppedReassemblyStale, "message 0 expired")
	require.NoError(t, b.Receive(epoch.Add(1500*time.Millisecond), msgs[0][2]))
	_, ok := b.ReadMessage(chUnreliable)
	assert.False(t, ok, "the last fragment alone cannot complete message 0")

	// Two partials are held (1 and the stray fragment of 0); a third evicts the oldest.
	require.NoError(t, b.Receive(epoch.Add(1600*time.Millisecond), msgs[2][0]))
	assert.Equal(t, uint64(2), b.Stats().DroppedReassemblyStale, "one partial evicted")

	// A message whose fragments all arrive still completes.
	for _, p := range msgs[3] {
		require.NoError(t, b.Receive(epoch.Add(1700*time.Millisecond), p))
	}
	msg, ok := b.ReadMessage(chUnreliable)
	require.True(t, ok)
	assert.True(t, bytes.Equal(patterned(3000, 3), msg))
}
