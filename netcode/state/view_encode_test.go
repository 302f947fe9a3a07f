package state

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomView fills v over a world of n entities: all of it, about half of
// it (a bitset the tracker keeps), or a few entities (kept as indexes).
func randomView(rng *rand.Rand, v *View, n int) {
	switch rng.IntN(5) {
	case 0:
		v.SetAll(n)
	case 1, 2:
		v.Reset(n)
		for i := range n {
			if rng.IntN(2) == 0 {
				v.Add(i)
			}
		}
	default:
		v.Reset(n)
		for range rng.IntN(4) {
			v.Add(rng.IntN(max(n, 1)))
		}
	}
}

// encodeClient is one client of TestViewTrackerEncodeMatchesSelect: a
// tracker encoding with Encode (a), one encoding through Select and
// Baseline (b), and what the client decoded.
type encodeClient struct {
	a, b    *ViewTracker
	decoded map[uint32]*Snapshot
	last    View // the view of the client's last snapshot
}

// shrinkView makes v a copy of last without some of its entities (the
// usual step of a view from one snapshot to the next: nothing enters it),
// or reports false when last is over another world length or is all.
func shrinkView(rng *rand.Rand, v, last *View, n int) bool {
	if last.WorldLen() != n || last.All() {
		return false
	}
	v.CopyFrom(last)
	for i := range n {
		if v.Has(i) && rng.IntN(6) == 0 {
			v.words[i>>6] &^= 1 << (uint(i) & 63)
		}
	}
	return true
}

// TestViewTrackerEncodeMatchesSelect: over random worlds with kinds
// (entities that stay, change kind, appear and disappear), random views
// (all, dense, sparse) of several clients per tick, random and late acks,
// resets, baselines with stale entities and worlds evicted from a small
// history, ViewTracker.Encode makes the same payload, byte for byte, as
// encoding Select of the view against Baseline, and records the same
// views; every payload decodes to the view's snapshot.
func TestViewTrackerEncodeMatchesSelect(t *testing.T) {
	ticks := 1500
	if testing.Short() {
		ticks = 300
	}
	const nClients = 4
	for _, sizes := range []struct{ worlds, views int }{{16, 8}, {4, 8}, {16, 2}} {
		rng := rand.New(rand.NewPCG(21, uint64(sizes.worlds*100+sizes.views)))
		worlds, err := NewHistory(sizes.worlds)
		require.NoError(t, err)
		clients := make([]encodeClient, nClients)
		for c := range clients {
			cl := &clients[c]
			cl.a, err = NewViewTracker(sizes.views) // Encode
			require.NoError(t, err)
			cl.b, err = NewViewTracker(sizes.views) // Select, Baseline, Encode, Sent
			require.NoError(t, err)
			cl.decoded = map[uint32]*Snapshot{}
		}
		encA, dec := newCodec(t, kindsCfg)
		encB, _ := newCodec(t, kindsCfg)
		var v View
		var sel, scratch Snapshot
		var got, want []byte
		var world *Snapshot
		var fulls, deltas, stales, sameLayout int
		for tick := uint32(1); tick <= uint32(ticks); tick++ {
			idSpace := 150
			if rng.IntN(50) == 0 {
				idSpace = 1 + rng.IntN(20) // a small world: views over another length
			}
			world = randomKindsSnapshot(rng, tick, idSpace, world)
			if rng.IntN(3) != 0 && world.Len() > 0 {
				// Often the same entities as the world before (the common
				// case of a game with no spawns this tick).
				prev, ok := worlds.Get(tick - 1)
				if ok && prev.Len() > 0 {
					world = prev.Clone()
					world.Tick = tick
					for i := range world.Len() {
						if rng.IntN(3) == 0 {
							f := world.Fields(i)
							fd := kindsCfg.Kinds[world.Kind(i)].Fields[0]
							f[0] = randomValue(rng, fd)
						}
					}
				}
			}
			worlds.Put(world)
			for c := range clients {
				cl := &clients[c]
				a, b := cl.a, cl.b
				if rng.IntN(2) != 0 || !shrinkView(rng, &v, &cl.last, world.Len()) {
					randomView(rng, &v, world.Len())
				}
				cl.last.CopyFrom(&v)

				var stale []Stale
				if prev, ok := worlds.Get(tick - 1); ok && rng.IntN(8) == 0 {
					// A budgeted snapshot: some of its entities carry the
					// values of the tick before.
					for _, i := range v.appendIndexes(nil) {
						j, ok := prev.Find(world.IDs[i])
						if ok && prev.Kind(j) == world.Kind(int(i)) && rng.IntN(3) == 0 {
							stale = append(stale, Stale{Index: i, Src: tick - 1})
						}
					}
				}
				var cur *Snapshot
				if len(stale) > 0 {
					cur, err = v.SelectStale(world, stale, worlds, &sel)
					require.NoError(t, err)
					base := b.Baseline(worlds, &scratch)
					var other Snapshot
					if ab := a.Baseline(worlds, &other); base == nil || ab == nil {
						require.Equal(t, base == nil, ab == nil)
					} else {
						require.True(t, base.Equal(ab))
					}
					got, err = encB.Encode(got[:0], cur, base)
					require.NoError(t, err)
					a.SentStale(tick, &v, stale)
					b.SentStale(tick, &v, stale)
					stales++
				} else {
					var full bool
					got, full, err = a.Encode(encA, got[:0], worlds, tick, &v)
					require.NoError(t, err, "tick %d", tick)
					cur, err = v.Select(world, &sel)
					require.NoError(t, err)
					base := b.Baseline(worlds, &scratch)
					want, err = encB.Encode(want[:0], cur, base)
					require.NoError(t, err)
					b.Sent(tick, &v)
					require.Equal(t, want, got, "tick %d client %d (full %v)", tick, c, base == nil)
					require.Equal(t, base == nil, full, "tick %d", tick)
					if full {
						fulls++
					} else {
						deltas++
						h, _ := dec.ReadHeader(got)
						_, bin, _ := worlds.getInfo(h.Baseline)
						if _, in, _ := worlds.getInfo(tick); in.layout == bin.layout {
							sameLayout++
						}
					}
				}
				// The client decodes every snapshot, and acks some of them.
				h, err := dec.ReadHeader(got)
				require.NoError(t, err)
				dst := &Snapshot{}
				_, err = dec.Decode(dst, got, cl.decoded[h.Baseline])
				require.NoError(t, err, "tick %d", tick)
				require.True(t, cur.Equal(dst), "tick %d", tick)
				cl.decoded[tick] = dst
				delete(cl.decoded, tick-uint32(4*sizes.worlds))

				require.Equal(t, b.count, a.count)
				for k := range a.ring {
					require.Equal(t, b.ticks[k], a.ticks[k])
				}
				switch r := rng.IntN(20); {
				case r == 0:
					a.Reset()
					b.Reset()
				case r < 14:
					// Clients 0 and 1 ack the same ticks, as clients on
					// the same link do.
					ack := tick - uint32(rng.IntN(2*sizes.views))
					if c == 1 || (c > 1 && rng.IntN(2) == 0) {
						ack, _ = clients[0].a.AckedTick()
					}
					a.Ack(ack)
					b.Ack(ack)
				}
			}
		}
		t.Logf("worlds %d views %d: %d full, %d delta (%d against a world of the same layout, %d of them with its change set, %d merged from the view; %d changed entities written from the change set's cache), %d stale",
			sizes.worlds, sizes.views, fulls, deltas, sameLayout, encA.changeUses, encA.viewMerges, encA.keptCached, stales)
		assert.Positive(t, encA.keptCached, "changed entities written again from the cache of their pair of worlds")
		assert.Positive(t, encA.viewMerges, "deltas whose view only lost entities: merged from its bitset")
		assert.Less(t, encA.viewMerges, sameLayout, "deltas merged from two lists of indexes")
		assert.Positive(t, encA.changeUses, "deltas written with a change set")
		assert.Greater(t, deltas, ticks/10, "deltas against acked baselines")
		assert.Positive(t, fulls)
		assert.Positive(t, stales)
		assert.Positive(t, sameLayout, "deltas read by world index")
		assert.Less(t, sameLayout, deltas, "deltas read by id")
	}
}

// TestViewTrackerEncodeErrors: Encode reports what encoding the view's
// Select would, and records nothing then.
func TestViewTrackerEncodeErrors(t *testing.T) {
	enc, _ := newCodec(t, CodecConfig{Schema: Schema{Fields: []Field{{Name: "a", Bits: 8}, {Name: "b", Bits: 8}}}})
	worlds, err := NewHistory(8)
	require.NoError(t, err)
	tr, err := NewViewTracker(4)
	require.NoError(t, err)
	var v View
	dst := []byte("header")

	worlds.Put(worldOf(1, 1, 2, 3))
	v.Reset(3)
	v.Add(1)
	_, _, err = tr.Encode(enc, dst, worlds, 2, &v)
	assert.ErrorIs(t, err, ErrMissingBaseline, "no world of tick 2")

	v.Reset(5)
	out, _, err := tr.Encode(enc, dst, worlds, 1, &v)
	assert.ErrorIs(t, err, ErrInvalidSnapshot, "a view over another world")
	assert.Equal(t, "header", string(out))

	bad := worldOf(2, 1, 2, 30) // entity 30's a is 300: over 8 bits
	worlds.Put(bad)
	v.Reset(3)
	v.Add(0)
	v.Add(2)
	out, _, err = tr.Encode(enc, dst, worlds, 2, &v)
	require.ErrorIs(t, err, ErrInvalidSnapshot)
	var sel Snapshot
	cur, _ := v.Select(bad, &sel)
	_, want := enc.Encode(nil, cur, nil)
	assert.Equal(t, want.Error(), err.Error(), "Encode's own error")
	assert.Equal(t, "header", string(out))

	unsorted := worldOf(3, 1, 2, 3)
	unsorted.IDs[0], unsorted.IDs[1] = 2, 1
	worlds.Put(unsorted)
	v.Reset(3)
	v.Add(0)
	v.Add(1)
	_, _, err = tr.Encode(enc, dst, worlds, 3, &v)
	assert.ErrorIs(t, err, ErrInvalidSnapshot, "IDs out of order")
	assert.Zero(t, tr.count, "nothing recorded")

	out, full, err := tr.Encode(enc, dst, worlds, 1, &v)
	require.NoError(t, err)
	assert.True(t, full)
	assert.Greater(t, len(out), len(dst))
	assert.Equal(t, 1, tr.count)
}

// TestViewTrackerEncodePaddingError: a slot past an entity's kind's
// fields that is not 0 is reported as Encode reports it, also when the
// entity did not change since the baseline and the views before it let
// the encoder skip the unchanged entities (its change set).
func TestViewTrackerEncodePaddingError(t *testing.T) {
	enc, _ := newCodec(t, kindsCfg)
	worlds, err := NewHistory(8)
	require.NoError(t, err)
	mk := func(tick uint32, pad int32) *Snapshot {
		w := NewSnapshot(tick, kindsCfg.Stride(), 0)
		for id := range uint32(64) {
			f := w.AddKind(id, kPickup)
			f[0] = int32(id % 5)
		}
		w.Fields(40)[3] = pad // past the pickup's one field
		return w
	}
	worlds.Put(mk(1, 0))
	worlds.Put(mk(2, 0))
	var v View
	trackers := make([]*ViewTracker, 20)
	for c := range trackers {
		trackers[c], err = NewViewTracker(4)
		require.NoError(t, err)
		v.Reset(64)
		v.Add(c) // not entity 40
		_, _, err = trackers[c].Encode(enc, nil, worlds, 1, &v)
		require.NoError(t, err)
		trackers[c].Ack(1)
	}
	for c := range trackers[:10] { // the change set of (2, 1) gets built
		v.Reset(64)
		v.Add(c)
		_, full, err := trackers[c].Encode(enc, nil, worlds, 2, &v)
		require.NoError(t, err)
		require.False(t, full)
	}
	require.Positive(t, enc.changeUses)

	worlds.Put(mk(3, 0))
	worlds.Put(mk(4, 7)) // entity 40's field unchanged from 3 to 4, its padding bad
	v.Reset(64)
	v.Add(40)
	_, _, err = trackers[10].Encode(enc, nil, worlds, 4, &v)
	require.ErrorIs(t, err, ErrInvalidSnapshot, "full")
	tr := trackers[10]
	v.Reset(64)
	v.Add(10)
	v.Add(40)
	_, _, err = tr.Encode(enc, nil, worlds, 3, &v)
	require.NoError(t, err)
	tr.Ack(3)
	for c := range trackers[11:] {
		// Views of the pair (4, 3) until its change set is built.
		other := trackers[11+c]
		v.Reset(64)
		v.Add(11 + c)
		_, _, err = other.Encode(enc, nil, worlds, 3, &v)
		require.NoError(t, err)
		other.Ack(3)
		_, _, err = other.Encode(enc, nil, worlds, 4, &v)
		require.NoError(t, err)
	}
	uses := enc.changeUses
	v.Reset(64)
	v.Add(10)
	v.Add(40)
	_, _, err = tr.Encode(enc, nil, worlds, 4, &v)
	require.ErrorIs(t, err, ErrInvalidSnapshot)
	assert.Contains(t, err.Error(), "slot 3 is 7, want 0")
	assert.Equal(t, uses+1, enc.changeUses, "written with the change set")
}

// TestViewTrackerEncodeAllocs: once warmed up, Encode allocates nothing.
func TestViewTrackerEncodeAllocs(t *testing.T) {
	enc, _ := newCodec(t, CodecConfig{Schema: Schema{Fields: []Field{{Name: "a", Bits: 16}, {Name: "b", Bits: 16}}}})
	worlds, err := NewHistory(16)
	require.NoError(t, err)
	tr, err := NewViewTracker(8)
	require.NoError(t, err)
	ids := make([]uint32, 2000)
	for i := range ids {
		ids[i] = uint32(3*i + 1)
	}
	w := worldOf(0, ids...)
	var v View
	var buf []byte
	tick := uint32(0)
	step := func() {
		tick++
		w.Tick = tick
		worlds.Put(w)
		v.Reset(len(ids))
		for i := range 40 {
			v.Add(int(tick)%7 + 11*i)
		}
		buf, _, err = tr.Encode(enc, buf[:0], worlds, tick, &v)
		tr.Ack(tick - 1)
	}
	for range 40 {
		step()
	}
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(50, step))
}

// BenchmarkViewTrackerEncode measures one client's snapshot of a large
// world (6000 entities, 60 seen, a third of them moving) against its
// acked baseline: through Encode, and through Select, Baseline and the
// Encoder's Encode.
func BenchmarkViewTrackerEncode(b *testing.B) {
	cfg := CodecConfig{Schema: Schema{Fields: []Field{
		{Name: "x", Bits: 13}, {Name: "y", Bits: 13},
		{Name: "vx", Bits: 3, Signed: true}, {Name: "vy", Bits: 3, Signed: true},
	}}}
	const n, seen = 6000, 60
	setup := func(b *testing.B) (*Encoder, *History, *ViewTracker, *View, func(uint32)) {
		enc, _ := newCodec(b, cfg)
		worlds, err := NewHistory(64)
		require.NoError(b, err)
		tr, err := NewViewTracker(32)
		require.NoError(b, err)
		v := &View{}
		put := func(tick uint32) {
			w := NewSnapshot(tick, 4, n)
			for i := range n {
				f := w.Add(uint32(i))
				f[0], f[1] = int32(i%8000), int32(i/3)%8000
				if i%3 == 0 {
					f[0] = (f[0] + int32(tick)) % 8000
					f[2] = 1
				}
			}
			worlds.Put(w)
			v.Reset(n)
			for k := range seen {
				v.Add(1000 + 7*k)
			}
		}
		return enc, worlds, tr, v, put
	}
	b.Run("Encode", func(b *testing.B) {
		enc, worlds, tr, v, put := setup(b)
		var buf []byte
		for tick := uint32(1); tick <= 4; tick++ {
			put(tick)
			buf, _, _ = tr.Encode(enc, buf[:0], worlds, tick, v)
		}
		tr.Ack(3)
		next, count := tr.next, tr.count
		b.ReportAllocs()
		for b.Loop() {
			var full bool
			buf, full, _ = tr.Encode(enc, buf[:0], worlds, 4, v)
			if full {
				b.Fatal("full")
			}
			tr.next, tr.count = next, count // tick 4 not recorded: tick 3 stays
		}
	})
	b.Run("Select", func(b *testing.B) {
		enc, worlds, tr, v, put := setup(b)
		var buf []byte
		var cur, scratch Snapshot
		for tick := uint32(1); tick <= 4; tick++ {
			put(tick)
			tr.Sent(tick, v)
		}
		tr.Ack(3)
		next, count := tr.next, tr.count
		w, _ := worlds.Get(4)
		b.ReportAllocs()
		for b.Loop() {
			c, _ := v.Select(w, &cur)
			base := tr.Baseline(worlds, &scratch)
			if base == nil {
				b.Fatal("full")
			}
			buf, _ = enc.Encode(buf[:0], c, base)
			tr.Sent(4, v)
			tr.next, tr.count = next, count
		}
	})
}

// TestHistoryLayout: two stored worlds share a layout only when their IDs
// and kinds are equal (Encode then reads a world index as the same entity
// in both): a chain of Puts with the same entities keeps it, any change
// of the entities, a decoded snapshot and Clear start another.
func TestHistoryLayout(t *testing.T) {
	h, err := NewHistory(4)
	require.NoError(t, err)
	layout := func(tick uint32) uint64 {
		_, in, ok := h.getInfo(tick)
		require.True(t, ok, "tick %d", tick)
		return in.layout
	}
	h.Put(worldOf(1, 1, 2, 3))
	h.Put(worldOf(2, 1, 2, 3)) // other values, same entities
	assert.Equal(t, layout(1), layout(2))
	h.Put(worldOf(3, 1, 2, 4))
	assert.NotEqual(t, layout(2), layout(3), "another entity")
	h.Put(worldOf(4, 1, 2, 3))
	assert.NotEqual(t, layout(1), layout(4), "the entities of tick 1 again: not known to be the same")
	h.Put(worldOf(5, 1, 2, 3)) // replaces tick 1 (slot 1)
	assert.Equal(t, layout(4), layout(5))

	k := worldOf(6, 1, 2, 3)
	k.Kinds = []uint8{0, 1, 0}
	h.Put(k)
	assert.NotEqual(t, layout(5), layout(6), "another kind")
	h.Put(worldOf(6, 1, 2, 3)) // the same tick again, other kinds
	assert.NotEqual(t, layout(5), layout(6), "compared with the last Put, not its tick")

	h.Clear()
	h.Put(worldOf(7, 1, 2, 3))
	h.Put(worldOf(8, 1, 2, 3))
	assert.Equal(t, layout(7), layout(8))
	size1, err := NewHistory(1)
	require.NoError(t, err)
	size1.Put(worldOf(1, 1, 2))
	_, a, _ := size1.getInfo(1)
	size1.Put(worldOf(2, 1, 2)) // compared before its slot is overwritten
	_, b, _ := size1.getInfo(2)
	assert.Equal(t, a.layout, b.layout)
	size1.Put(worldOf(3, 1, 3))
	_, c, _ := size1.getInfo(3)
	assert.NotEqual(t, b.layout, c.layout)

	enc, dec := newCodec(t, CodecConfig{Schema: Schema{Fields: []Field{{Name: "a", Bits: 16}, {Name: "b", Bits: 16}}}})
	payload, err := enc.Encode(nil, worldOf(9, 1, 2, 3), nil)
	require.NoError(t, err)
	_, err = h.Decode(dec, payload)
	require.NoError(t, err)
	assert.NotEqual(t, layout(8), layout(9), "a decoded snapshot has a layout of its own")
	h.Put(worldOf(10, 1, 2, 3))
	assert.NotEqual(t, layout(9), layout(10))
	assert.Equal(t, layout(8), layout(10), "compared with the last Put")
}

// TestViewTrackerArenaKeepsRecords: the sparse views' indexes share one
// arena; every view of the last size sent, sparse (of varying sizes),
// dense or all, is still found with its indexes, through wraps, growth
// and Reset, and the arena settles (no growth once warmed up).
func TestViewTrackerArenaKeepsRecords(t *testing.T) {
	const world, size = 5000, 16
	rng := rand.New(rand.NewPCG(5, 6))
	tr, err := NewViewTracker(size)
	require.NoError(t, err)
	sent := map[uint32][]int32{}
	var v View
	grows := 0
	for tick := uint32(1); tick <= 5000; tick++ {
		switch r := rng.IntN(20); {
		case r == 0:
			v.SetAll(world)
		case r == 1:
			v.Reset(world)
			for i := range world / 16 {
				v.Add(i * 16) // dense: a bitset
			}
		default:
			v.Reset(world)
			for range rng.IntN(60) + rng.IntN(2)*rng.IntN(100) {
				v.Add(rng.IntN(world))
			}
		}
		arena := len(tr.arena)
		if rng.IntN(2) == 0 {
			tr.Sent(tick, &v)
		} else {
			tr.sentIndexes(tick, &v, v.appendIndexes(nil))
		}
		if len(tr.arena) != arena {
			grows++
		}
		sent[tick] = v.appendIndexes(nil)
		delete(sent, tick-size)
		if rng.IntN(500) == 0 {
			tr.Reset()
			clear(sent)
			continue
		}
		for old, want := range sent {
			s := tr.find(old)
			require.NotNil(t, s, "tick %d at tick %d", old, tick)
			var got []int32
			switch {
			case s.sparse:
				got = tr.idx(s)
			default:
				got = s.view.appendIndexes(nil)
			}
			require.Equal(t, len(want), len(got), "tick %d at tick %d", old, tick)
			if len(want) > 0 {
				require.Equal(t, want, got, "tick %d at tick %d", old, tick)
			}
		}
	}
	t.Logf("arena of %d indexes, grown %d times", len(tr.arena), grows)
	assert.Less(t, grows, 20, "the arena grows to what the views need, then stays")
	assert.Less(t, len(tr.arena), 3*size*160, "about what the live views hold")
}
