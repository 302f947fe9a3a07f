package endpoint_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// redundancyConfig is the default layout with the reliable channel's
// Redundancy and RedundancyMaxSize set.
func redundancyConfig(copies, maxSize int) endpoint.Config {
	cfg := endpoint.DefaultConfig()
	cfg.Channels[chReliable].Redundancy = copies
	cfg.Channels[chReliable].RedundancyMaxSize = maxSize
	return cfg
}

// flushEachTick has a send one unreliable message of size bytes and flush
// once per millisecond for ticks ticks, and returns the packets.
func flushEachTick(t *testing.T, a *endpoint.Endpoint, start time.Time, ticks, size int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range ticks {
		_, err := a.Send(chUnreliable, bytes.Repeat([]byte{'u'}, size))
		require.NoError(t, err)
		out = append(out, collect(a, start.Add(time.Duration(i+1)*time.Millisecond))...)
	}
	return out
}

func count(packets [][]byte, msg []byte) int {
	n := 0
	for _, p := range packets {
		n += bytes.Count(p, msg)
	}
	return n
}

// TestRedundantCopiesBounded: an unacknowledged small reliable message
// rides again in the next packets that leave anyway, Redundancy times and
// no more, each packet at most once.
func TestRedundantCopiesBounded(t *testing.T) {
	for _, copies := range []int{endpoint.NoRedundancy, 1, 2, 5} {
		a := newEndpoint(t, redundancyConfig(copies, 0))
		msg := []byte("reliable event")
		_, err := a.Send(chReliable, msg)
		require.NoError(t, err)
		first := collect(a, epoch)
		require.Len(t, first, 1)
		later := flushEachTick(t, a, epoch, 10, 20) // the peer never acks
		require.Len(t, later, 10, "one packet per tick: copies open none")
		want := max(copies, 0)
		assert.Equal(t, want, count(later, msg), "Redundancy %d", copies)
		for i, p := range later {
			assert.LessOrEqual(t, bytes.Count(p, msg), 1, "packet %d", i)
			if i < want {
				assert.Equal(t, 1, bytes.Count(p, msg), "copies ride in the next packets (%d)", i)
			}
		}
		s := a.Stats()
		assert.Equal(t, uint64(want), s.MessagesRedundant)
		assert.Zero(t, s.MessagesResent)
	}
}

// TestRedundancyNeverOpensPacketsOrDisplacesData: with nothing else to
// send, copies do not make a packet; they only fill room left after all
// new data, within MaxPacketSize, and messages over RedundancyMaxSize or
// the default 256 bytes get none.
func TestRedundancyNeverOpensPacketsOrDisplacesData(t *testing.T) {
	a := newEndpoint(t, redundancyConfig(2, 100))
	small, large := []byte("small event"), bytes.Repeat([]byte{'L'}, 101)
	_, err := a.Send(chReliable, small)
	require.NoError(t, err)
	_, err = a.Send(chReliable, large)
	require.NoError(t, err)
	require.Len(t, collect(a, epoch), 1)
	assert.Empty(t, collect(a, epoch.Add(time.Millisecond)), "copies alone make no packet")

	// A nearly full packet of new data: the copy does not fit, and waits.
	// (3-byte header, as a has received nothing to ack; a 1180-byte
	// message takes 1185 bytes of frame; 12 are left, a copy needs 15.)
	now := epoch.Add(2 * time.Millisecond)
	full := flushEachTick(t, a, now, 1, 1180)
	require.Len(t, full, 1)
	assert.LessOrEqual(t, len(full[0]), 1200)
	assert.Zero(t, count(full, small), "no room: new data first")
	// New data that leaves room: the copy rides.
	roomy := flushEachTick(t, a, now.Add(time.Millisecond), 1, 20)
	require.Len(t, roomy, 1)
	assert.Equal(t, 1, count(roomy, small))
	assert.Zero(t, count(roomy, large), "over RedundancyMaxSize: no copies")
	assert.Equal(t, uint64(1), a.Stats().MessagesRedundant)
}

// TestRedundancyRespectsFlushBudget: copies never make a packet the
// MaxFlushBytes budget would not have allowed; they only fill the last
// packet the budget let open.
func TestRedundancyRespectsFlushBudget(t *testing.T) {
	for _, tt := range []struct {
		budget, packets int
		copies          bool
	}{
		{1000, 1, false}, // the first, full packet spends the budget: no room for copies
		{1500, 2, true},  // a second packet opens for new data; copies fill its room
	} {
		cfg := redundancyConfig(2, 0)
		cfg.MaxFlushBytes = tt.budget
		a := newEndpoint(t, cfg)
		for i := range 40 {
			_, err := a.Send(chReliable, label(i))
			require.NoError(t, err)
		}
		require.Len(t, collect(a, epoch), 1, "40 small messages fit one packet")
		for i := range 100 {
			_, err := a.Send(chUnreliable, label(100+i))
			require.NoError(t, err)
		}
		second := collect(a, epoch.Add(time.Millisecond))
		require.Len(t, second, tt.packets, "budget %d", tt.budget)
		total := 0
		for _, p := range second {
			total += len(p)
			assert.LessOrEqual(t, len(p), 1200)
		}
		assert.Less(t, total, tt.budget+1200, "the budget holds")
		copies := 0
		for i := range 40 {
			copies += count(second, label(i))
			assert.Zero(t, count(second[:1], label(i)), "the first packet is all new data")
		}
		assert.Equal(t, tt.copies, copies > 0, "budget %d: %d copies", tt.budget, copies)
	}
}

// TestRedundantCopiesDeliveredOnce: the receiver drops the copies by
// message id; after a loss, the resent message rides again with fresh
// copies.
func TestRedundantCopiesDeliveredOnce(t *testing.T) {
	a := newEndpoint(t, redundancyConfig(2, 0))
	b := newEndpoint(t, endpoint.Config{AckDelay: endpoint.NoAckDelay})
	msg := []byte("reliable event")
	_, err := a.Send(chReliable, msg)
	require.NoError(t, err)
	packets := append(collect(a, epoch), flushEachTick(t, a, epoch, 2, 10)...)
	require.Equal(t, 3, count(packets, msg))
	for _, p := range packets {
		require.NoError(t, b.Receive(epoch.Add(10*time.Millisecond), p))
	}
	got, ok := b.ReadMessage(chReliable)
	require.True(t, ok)
	assert.Equal(t, msg, got)
	_, ok = b.ReadMessage(chReliable)
	assert.False(t, ok, "delivered once")
	assert.Equal(t, uint64(2), b.Stats().MessagesDuplicate)

	// Another message, all of whose copies are lost: the resend timer
	// sends it again, and the resend has copies of its own.
	a2 := newEndpoint(t, redundancyConfig(2, 0))
	_, err = a2.Send(chReliable, msg)
	require.NoError(t, err)
	lost := append(collect(a2, epoch), flushEachTick(t, a2, epoch, 5, 10)...)
	require.Equal(t, 3, count(lost, msg))
	after := flushEachTick(t, a2, epoch.Add(time.Second), 3, 10)
	assert.Equal(t, 3, count(after, msg), "the resend and its two copies")
	s := a2.Stats()
	assert.Equal(t, uint64(1), s.MessagesResent)
	assert.Equal(t, uint64(4), s.MessagesRedundant)
}
