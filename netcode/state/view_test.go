package state

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func worldOf(tick uint32, ids ...uint32) *Snapshot {
	w := NewSnapshot(tick, 2, len(ids))
	for _, id := range ids {
		f := w.Add(id)
		f[0], f[1] = int32(id)*10, int32(tick)
	}
	w.Sort()
	return w
}

func TestViewSelect(t *testing.T) {
	w := worldOf(7, 3, 5, 9, 11)
	var v View
	v.Reset(w.Len())
	v.Add(0)
	v.Add(2)
	v.Add(2)  // twice is once
	v.Add(-1) // out of range: ignored
	v.Add(4)
	assert.Equal(t, 2, v.Len())
	assert.True(t, v.Has(2))
	assert.False(t, v.Has(1))
	assert.False(t, v.Has(4))
	var dst Snapshot
	got, err := v.Select(w, &dst)
	require.NoError(t, err)
	assert.Same(t, &dst, got)
	assert.Equal(t, uint32(7), got.Tick)
	assert.Equal(t, []uint32{3, 9}, got.IDs)
	assert.Equal(t, []int32{30, 7, 90, 7}, got.Values)

	v.SetAll(w.Len())
	assert.True(t, v.All())
	assert.Equal(t, 4, v.Len())
	got, err = v.Select(w, &dst)
	require.NoError(t, err)
	assert.Same(t, w, got, "all of the world is the world itself, not a copy")

	v.Reset(3)
	_, err = v.Select(w, &dst)
	assert.ErrorIs(t, err, ErrInvalidSnapshot, "a view over another world")
}

func TestViewSelectKinds(t *testing.T) {
	w := NewSnapshot(1, 1, 0)
	w.AddKind(1, 0)[0] = 10
	w.AddKind(2, 1)[0] = 20
	w.AddKind(3, 1)[0] = 30
	var v View
	v.Reset(3)
	v.Add(1)
	v.Add(2)
	got, err := v.Select(w, &Snapshot{})
	require.NoError(t, err)
	assert.Equal(t, []uint8{1, 1}, got.Kinds)
	assert.Equal(t, []int32{20, 30}, got.Values)
}

// TestViewSelectMatchesFilter: over random worlds and views (bitsets that
// span several words), Select equals filtering the world by hand, and
// reuses its memory (no allocation once grown).
func TestViewSelectMatchesFilter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var v View
	var dst Snapshot
	for range 200 {
		n := rng.IntN(300)
		ids := make([]uint32, 0, n)
		for i := range n {
			ids = append(ids, uint32(i*3+rng.IntN(3)))
		}
		w := worldOf(uint32(n), ids...)
		v.Reset(w.Len())
		want := NewSnapshot(w.Tick, w.Stride, 0)
		for i := range w.Len() {
			if rng.IntN(3) == 0 {
				v.Add(i)
				copy(want.Add(w.IDs[i]), w.Fields(i))
			}
		}
		got, err := v.Select(w, &dst)
		require.NoError(t, err)
		require.True(t, want.Equal(got), "n=%d", n)
		require.Equal(t, want.Len(), v.Len())
	}
	w := worldOf(1, 1, 2, 3, 4, 5)
	v.Reset(w.Len())
	v.Add(3)
	allocs := testing.AllocsPerRun(100, func() {
		v.Reset(w.Len())
		v.Add(1)
		_, _ = v.Select(w, &dst)
	})
	assert.Zero(t, allocs)
}

// TestViewTrackerBaseline: the baseline is the newest acked snapshot,
// rebuilt from the shared world history; nil before an ack, after Reset,
// and once the world of the acked tick is evicted or the tracker forgot
// the view.
func TestViewTrackerBaseline(t *testing.T) {
	worlds, err := NewHistory(8)
	require.NoError(t, err)
	tr, err := NewViewTracker(3)
	require.NoError(t, err)
	var scratch Snapshot
	assert.Nil(t, tr.Baseline(worlds, &scratch), "no ack yet")

	var v View
	for tick := uint32(10); tick <= 14; tick++ {
		w := worldOf(tick, 1, 2, 3, 4)
		worlds.Put(w)
		v.Reset(4)
		v.Add(int(tick % 4)) // each snapshot carried one entity
		tr.Sent(tick, &v)
	}
	tr.Ack(13)
	tr.Ack(12) // older: ignored
	b := tr.Baseline(worlds, &scratch)
	require.NotNil(t, b)
	assert.Equal(t, uint32(13), b.Tick)
	assert.Equal(t, []uint32{2}, b.IDs, "entity 13 mod 4 = 1 (id 2)")
	assert.Equal(t, []int32{20, 13}, b.Values)

	tr.Ack(14)
	v.SetAll(4)
	worlds.Put(worldOf(15, 1, 2, 3, 4))
	tr.Sent(15, &v)
	tr.Ack(15)
	b = tr.Baseline(worlds, &scratch)
	require.NotNil(t, b)
	w15, _ := worlds.Get(15)
	assert.Same(t, w15, b, "all of the world: the world itself")

	// The tracker remembers 3 views: 13, 14, 15. An ack of 12 (already
	// superseded) changes nothing; after 3 more sends, 15 is gone.
	for tick := uint32(16); tick <= 18; tick++ {
		worlds.Put(worldOf(tick, 1))
		v.SetAll(1)
		tr.Sent(tick, &v)
	}
	assert.Nil(t, tr.Baseline(worlds, &scratch), "the view of tick 15 was forgotten")
	tr.Ack(18)
	require.NotNil(t, tr.Baseline(worlds, &scratch))
	worlds.Put(worldOf(26, 1)) // evicts tick 18's world (26 mod 8 = 18 mod 8)
	assert.Nil(t, tr.Baseline(worlds, &scratch), "the world of tick 18 was evicted")
	acked, ok := tr.AckedTick()
	assert.True(t, ok)
	assert.Equal(t, uint32(18), acked)
	tr.Reset()
	_, ok = tr.AckedTick()
	assert.False(t, ok)
	assert.Nil(t, tr.Baseline(worlds, &scratch))

	_, err = NewViewTracker(0)
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

// TestViewTrackerSparse: a view holding few of a large world's entities is
// kept as their indexes, and rebuilds the same baseline as a bitset would.
func TestViewTrackerSparse(t *testing.T) {
	worlds, err := NewHistory(4)
	require.NoError(t, err)
	ids := make([]uint32, 1000)
	for i := range ids {
		ids[i] = uint32(i + 1)
	}
	worlds.Put(worldOf(1, ids...))
	w, _ := worlds.Get(1)
	tr, err := NewViewTracker(2)
	require.NoError(t, err)
	var v View
	v.Reset(w.Len())
	for _, i := range []int{3, 64, 65, 999} {
		v.Add(i)
	}
	tr.Sent(1, &v)
	assert.True(t, tr.ring[0].sparse)
	assert.Empty(t, tr.ring[0].view.words, "no bitset kept")
	assert.Equal(t, []int32{3, 64, 65, 999}, tr.idx(&tr.ring[0]))
	tr.Ack(1)
	var a, b Snapshot
	got := tr.Baseline(worlds, &a)
	require.NotNil(t, got)
	want, err := v.Select(w, &b)
	require.NoError(t, err)
	assert.True(t, want.Equal(got))
	assert.Equal(t, []uint32{4, 65, 66, 1000}, got.IDs)

	for i := range 100 { // a dense view stays a bitset
		v.Add(i)
	}
	tr.Sent(2, &v)
	assert.False(t, tr.ring[1].sparse)
}
