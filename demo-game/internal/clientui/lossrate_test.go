package clientui

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feed plays a server sending a snapshot every 2 ticks for the ticks
// [from, to), of which keep(i) arrive, and returns the last estimate.
func feed(s *SnapshotLoss, epoch uint64, from, to uint32, snaps *uint64, keep func(tick uint32) bool) (float64, bool) {
	var loss float64
	var ok bool
	for t := from; t < to; t += 2 {
		if keep(t) {
			*snaps++
		}
		loss, ok = s.Add(epoch, t, *snaps, 2, 60)
	}
	return loss, ok
}

func TestSnapshotLossFollowsTheLink(t *testing.T) {
	var s SnapshotLoss
	var snaps uint64
	_, ok := s.Add(1, 0, 0, 2, 60)
	assert.False(t, ok, "no span yet")

	third := func(t uint32) bool { return (t/2)%3 != 0 } // a third lost
	loss, ok := feed(&s, 1, 2, 600, &snaps, third)
	require.True(t, ok)
	assert.InDelta(t, 1.0/3, loss, 0.04)

	// The link turns perfect: one window (60 ticks, 1 s at 60 Hz) later the
	// estimate reads no loss, where a 1024-packet average would still read
	// about a third.
	loss, ok = feed(&s, 1, 600, 662, &snaps, func(uint32) bool { return true })
	require.True(t, ok)
	assert.Less(t, loss, 0.05)
	assert.LessOrEqual(t, len(s.samples), 32, "only the window is kept")
}

func TestSnapshotLossStartsOverOnANewConnection(t *testing.T) {
	var s SnapshotLoss
	var snaps uint64
	_, ok := feed(&s, 1, 1000, 1200, &snaps, func(uint32) bool { return false })
	require.True(t, ok)

	// A restarted server counts ticks from 0 again, on a new connection.
	_, ok = s.Add(2, 4, snaps+1, 2, 60)
	assert.False(t, ok, "nothing from the old connection")
	loss, ok := feed(&s, 2, 6, 100, &snaps, func(uint32) bool { return true })
	require.True(t, ok)
	assert.Zero(t, loss)

	_, ok = s.Add(2, 50, snaps, 2, 60)
	assert.False(t, ok, "a tick going back starts over")
}

func TestSnapshotLossBounds(t *testing.T) {
	var s SnapshotLoss
	_, ok := s.Add(1, 0, 0, 0, 60)
	assert.False(t, ok)
	s.Add(1, 0, 0, 2, 60)
	loss, ok := s.Add(1, 60, 100, 2, 60) // duplicates counted: more than sent
	require.True(t, ok)
	assert.Zero(t, loss, "never below 0")
}
