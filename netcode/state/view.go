package state

import (
	"fmt"
	"math/bits"
)

// View is the set of entities of a world snapshot that one viewer sees, by
// index into the world (entity i is world.IDs[i]): the server's interest
// management. A server that keeps one shared world per tick (History) and,
// per client, only the View it sent (ViewTracker) holds each entity's state
// once per tick however many clients see it, instead of a copy per client.
//
// A View is a bitset over the world's entities, or "all of them" (SetAll),
// which costs nothing to store. Build it with Reset(world.Len()) and Add,
// or SetAll; Select turns it into the viewer's snapshot.
//
// The zero View is empty over an empty world. A View is not safe for
// concurrent mutation.
type View struct {
	words []uint64
	n     int  // entities in the world
	all   bool // every entity, whatever words holds
}

// Reset empties v for a world of n entities, keeping its memory.
func (v *View) Reset(n int) {
	v.n, v.all = max(n, 0), false
	w := (v.n + 63) / 64
	if cap(v.words) < w {
		v.words = make([]uint64, w, w+w/4)
	} else {
		v.words = v.words[:w]
		clear(v.words)
	}
}

// SetAll makes v every entity of a world of n entities (an Interest's View
// that shows a viewer everything calls v.SetAll(world.Len())).
func (v *View) SetAll(n int) {
	v.n, v.all = max(n, 0), true
	v.words = v.words[:0]
}

// All reports whether v is every entity of its world (SetAll).
func (v *View) All() bool { return v.all }

// WorldLen returns the number of entities of the world v is over.
func (v *View) WorldLen() int { return v.n }

// Add adds world entity i (0 ≤ i < WorldLen; others are ignored).
func (v *View) Add(i int) {
	if v.all || i < 0 || i >= v.n {
		return
	}
	v.words[i>>6] |= 1 << (uint(i) & 63)
}

// Has reports whether world entity i is in v.
func (v *View) Has(i int) bool {
	if i < 0 || i >= v.n {
		return false
	}
	return v.all || v.words[i>>6]&(1<<(uint(i)&63)) != 0
}

// Len returns the number of entities in v.
func (v *View) Len() int {
	if v.all {
		return v.n
	}
	c := 0
	for _, w := range v.words {
		c += bits.OnesCount64(w)
	}
	return c
}

// CopyFrom makes v a copy of src, reusing v's memory.
func (v *View) CopyFrom(src *View) {
	v.n, v.all = src.n, src.all
	v.words = append(v.words[:0], src.words...)
}

// Select returns the viewer's snapshot: world itself when v is all of it,
// otherwise dst filled (reusing its memory) with the entities of world in
// v, in world's order. v must be over world (WorldLen == world.Len()).
// Select does not allocate once dst has grown.
func (v *View) Select(world, dst *Snapshot) (*Snapshot, error) {
	if v.n != world.Len() {
		return nil, fmt.Errorf("%w: View over %d entities, world of tick %d has %d", ErrInvalidSnapshot, v.n, world.Tick, world.Len())
	}
	if v.all {
		return world, nil
	}
	dst.Reset(world.Tick, world.Stride)
	n := v.Len()
	dst.IDs = growLen(dst.IDs, n)
	dst.Values = growLen(dst.Values, n*world.Stride)
	kinds := len(world.Kinds) == len(world.IDs) && len(world.IDs) > 0
	if kinds {
		dst.Kinds = growLen(dst.Kinds, n)
	}
	st, j := world.Stride, 0
	for wi, w := range v.words {
		for w != 0 {
			i := wi<<6 | bits.TrailingZeros64(w)
			w &= w - 1
			dst.IDs[j] = world.IDs[i]
			copy(dst.Values[j*st:(j+1)*st], world.Values[i*st:(i+1)*st])
			if kinds {
				dst.Kinds[j] = world.Kinds[i]
			}
			j++
		}
	}
	return dst, nil
}

// SelectStale is Select with some entities carrying older values: for
// each of stale (sorted by Index, each Index in v), the entity's values
// are those it had in the world of tick Src, found in worlds by id. It
// returns an error wrapping ErrMissingBaseline when such a world is no
// longer in worlds or no longer has the entity.
func (v *View) SelectStale(world *Snapshot, stale []Stale, worlds *History, dst *Snapshot) (*Snapshot, error) {
	if len(stale) == 0 {
		return v.Select(world, dst)
	}
	if v.all { // stale values need a copy of their own
		if v.n != world.Len() {
			return nil, fmt.Errorf("%w: View over %d entities, world of tick %d has %d", ErrInvalidSnapshot, v.n, world.Tick, world.Len())
		}
		dst.CopyFrom(world)
	} else if _, err := v.Select(world, dst); err != nil {
		return nil, err
	}
	st := world.Stride
	for _, sr := range stale {
		id := world.IDs[sr.Index]
		j, ok := dst.Find(id)
		if !ok {
			return nil, fmt.Errorf("%w: stale entity %d is not in the view", ErrInvalidSnapshot, id)
		}
		old, ok := worlds.Get(sr.Src)
		if !ok {
			return nil, fmt.Errorf("%w: the world of tick %d (entity %d's values) is gone", ErrMissingBaseline, sr.Src, id)
		}
		k, ok := old.Find(id)
		if !ok || old.Kind(k) != world.Kind(int(sr.Index)) {
			return nil, fmt.Errorf("%w: entity %d is not in the world of tick %d", ErrMissingBaseline, id, sr.Src)
		}
		copy(dst.Values[j*st:(j+1)*st], old.Values[k*st:(k+1)*st])
	}
	return dst, nil
}

// growLen returns s with length n, reusing its memory when it can.
func growLen[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// appendIndexes appends the world indexes of v's entities to dst, in
// increasing order.
func (v *View) appendIndexes(dst []int32) []int32 {
	if v.all {
		for i := range v.n {
			dst = append(dst, int32(i))
		}
		return dst
	}
	for wi, w := range v.words {
		for w != 0 {
			dst = append(dst, int32(wi<<6|bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return dst
}

// ViewTracker is the server's per-client record of the snapshots it sent as
// Views of a shared world History: call Sent with each snapshot's tick and
// View, Ack when the client received one, and encode the next snapshot
// against Baseline, which rebuilds the acked snapshot from the world
// history (nil: send a full snapshot) — or let Encode do all three without
// copying any entity. It holds one View per sent snapshot (a bitset, or
// nothing for SetAll, or the entities' indexes when they are few), not a
// copy of the entities: memory is size × min(world entities/8, 4 × visible
// entities) bytes per client.
//
// The zero ViewTracker is not usable (NewViewTracker); it is not safe for
// concurrent use.
type ViewTracker struct {
	ring    []sentView
	ticks   []uint32 // ring[k].tick, compact for find
	count   int      // the records in use: the count slots before next
	next    int      // the ring slot the next Sent uses
	acked   uint32
	hasAck  bool
	scratch View // a sparse view, expanded
	// arena holds the sparse views' indexes one after the other, in the
	// order they were sent, wrapping around: a new view's go at head
	// (or at 0 when they do not fit before the end), where the oldest
	// records' were. It grows when a record still in use is in the way.
	arena []int32
	head  int
}

// sentView is one sent snapshot's view: a bitset (view), or, when it holds
// fewer than one entity in 32 of its world, the list of their indexes
// (sparse: arena[off:off+n]), which is smaller.
type sentView struct {
	tick   uint32
	sparse bool
	off, n int32
	view   View
	stale  []Stale
}

// idx returns a sparse record's indexes.
func (t *ViewTracker) idx(s *sentView) []int32 { return t.arena[s.off : s.off+s.n : s.off+s.n] }

// Stale is an entity a snapshot carried with older values than its tick's
// world (a server that refreshes only the most important entities when
// its budget is short): world entity Index of the snapshot's tick, with
// the values it had at tick Src (an earlier tick still in the world
// history).
type Stale struct {
	Index int32
	Src   uint32
}

// NewViewTracker returns a tracker remembering the last size snapshots
// sent (1..65536): at least the world history's ticks divided by the ticks
// between two snapshots of this client, so that every baseline the world
// history still holds is found.
func NewViewTracker(size int) (*ViewTracker, error) {
	if size < 1 || size > 1<<16 {
		return nil, fmt.Errorf("%w: ViewTracker size is %d, want 1..65536", ErrInvalidConfig, size)
	}
	return &ViewTracker{ring: make([]sentView, size), ticks: make([]uint32, size)}, nil
}

// Sent records that the snapshot of tick, v of that tick's world, was sent.
// Ticks must increase from one call to the next (a tick sent again
// replaces nothing: it is recorded anew).
func (t *ViewTracker) Sent(tick uint32, v *View) { t.SentStale(tick, v, nil) }

// push returns the ring slot of a new record of tick, to fill.
func (t *ViewTracker) push(tick uint32) *sentView {
	k := t.next
	s := &t.ring[k]
	s.tick, t.ticks[k] = tick, tick
	t.count = min(t.count+1, len(t.ring))
	t.next++
	if t.next == len(t.ring) {
		t.next = 0
	}
	return s
}

// sparseRoom makes s, the newest record, a sparse one of n indexes and
// returns where they go in the arena, to fill.
func (t *ViewTracker) sparseRoom(s *sentView, n int) []int32 {
	start := t.head
	if start+n > len(t.arena) {
		start = 0
	}
	if t.inTheWay(start, n) {
		t.growArena(n)
		start = t.head
	}
	t.head = start + n
	s.sparse, s.off, s.n = true, int32(start), int32(n)
	return t.arena[start : start+n]
}

// inTheWay reports whether writing n indexes at start (the head, or 0 after
// it) would overwrite a record in use other than the newest: the oldest
// sparse ones, the only ones ahead of the head.
func (t *ViewTracker) inTheWay(start, n int) bool {
	if start+n > len(t.arena) {
		return true
	}
	wrapped := start != t.head
	k := t.next - t.count
	if k < 0 {
		k += len(t.ring)
	}
	for range t.count - 1 { // oldest first, not the newest (being written)
		o := &t.ring[k]
		if k++; k == len(t.ring) {
			k = 0
		}
		if !o.sparse || o.n == 0 {
			continue
		}
		off := int(o.off)
		if off < start+n && start < off+int(o.n) {
			return true
		}
		if !wrapped || off < t.head {
			// Records after this one lie behind it in the arena.
			return false
		}
		// Between the old head and the end, skipped by the wrap: it
		// stays, and the next one may be at the arena's start.
	}
	return false
}

// growArena makes the arena room enough for the records in use and n more
// indexes, twice over, moving those records to its start in order.
func (t *ViewTracker) growArena(n int) {
	used := n
	k := t.next - t.count
	if k < 0 {
		k += len(t.ring)
	}
	first := k
	for range t.count - 1 {
		if o := &t.ring[k]; o.sparse {
			used += int(o.n)
		}
		if k++; k == len(t.ring) {
			k = 0
		}
	}
	// Twice what is needed, and at least half as much again as before:
	// views vary, and an arena should grow a few times, not each time the
	// views are a little larger.
	arena := make([]int32, max(2*used+16, len(t.arena)+len(t.arena)/2))
	pos := 0
	k = first
	for range t.count - 1 {
		if o := &t.ring[k]; o.sparse {
			copy(arena[pos:], t.idx(o))
			o.off = int32(pos)
			pos += int(o.n)
		}
		if k++; k == len(t.ring) {
			k = 0
		}
	}
	t.arena, t.head = arena, pos
}

// SentStale is Sent for a snapshot some of whose entities carried older
// values (stale, sorted by Index, every Index in v): see SelectStale.
func (t *ViewTracker) SentStale(tick uint32, v *View, stale []Stale) {
	s := t.push(tick)
	n := 0
	if !v.all {
		n = v.Len()
	}
	if !v.all && n*32 < v.n {
		v.appendIndexes(t.sparseRoom(s, n)[:0])
		s.view.n, s.view.all, s.view.words = v.n, false, s.view.words[:0]
	} else {
		s.sparse = false
		s.view.CopyFrom(v)
	}
	s.stale = append(s.stale[:0], stale...)
}

// sentIndexes is Sent for a view whose entities' indexes are idx.
func (t *ViewTracker) sentIndexes(tick uint32, v *View, idx []int32) {
	s := t.push(tick)
	if !v.all && len(idx)*32 < v.n {
		copy(t.sparseRoom(s, len(idx)), idx)
		s.view.n, s.view.all, s.view.words = v.n, false, s.view.words[:0]
	} else {
		s.sparse = false
		s.view.CopyFrom(v)
	}
	s.stale = s.stale[:0]
}

// Ack records that the client received the snapshot of tick. Acks older
// than the newest one so far are ignored.
func (t *ViewTracker) Ack(tick uint32) {
	if !t.hasAck || tick > t.acked {
		t.acked, t.hasAck = tick, true
	}
}

// AckedTick returns the newest acked tick.
func (t *ViewTracker) AckedTick() (uint32, bool) { return t.acked, t.hasAck }

// find returns the record of the snapshot sent with tick, or nil.
func (t *ViewTracker) find(tick uint32) *sentView {
	// Newest first: the acked snapshot is usually a recent one.
	k := t.next
	for range t.count {
		if k--; k < 0 {
			k = len(t.ring) - 1
		}
		if t.ticks[k] < tick {
			break
		}
		if t.ticks[k] == tick {
			return &t.ring[k]
		}
	}
	return nil
}

// viewOf returns s's View (a sparse one expanded into t's scratch).
func (t *ViewTracker) viewOf(s *sentView) *View {
	if !s.sparse {
		return &s.view
	}
	t.scratch.Reset(s.view.n)
	for _, i := range t.idx(s) {
		t.scratch.Add(int(i))
	}
	return &t.scratch
}

// Baseline returns the newest acked snapshot, rebuilt from world (the
// shared history) into scratch or, when it was sent as all of its world,
// the world's own snapshot (do not modify it). It returns nil when there is
// none: no ack yet, or the acked tick is no longer in world or in t.
func (t *ViewTracker) Baseline(world *History, scratch *Snapshot) *Snapshot {
	if !t.hasAck {
		return nil
	}
	sent := t.find(t.acked)
	if sent == nil {
		return nil
	}
	w, ok := world.Get(t.acked)
	if !ok {
		return nil
	}
	s, err := t.viewOf(sent).SelectStale(w, sent.stale, world, scratch)
	if err != nil {
		return nil // a world evicted or replaced since: send a full snapshot
	}
	return s
}

// Encode appends to dst the payload of the snapshot of tick that v shows of
// that tick's world in worlds, delta-encoded with enc against the newest
// acked snapshot (Baseline) or full when there is none, records it as sent
// (Sent) and reports whether it is full. The payload is the one enc.Encode
// makes of v.Select(world) and Baseline(worlds), byte for byte, but no
// entity is copied: both snapshots are read from worlds through the views'
// indexes, and the worlds are not checked again for each view (History
// learns what it needs when it stores them). On an error, which wraps
// ErrMissingBaseline when worlds has no world of tick and is otherwise
// what Select or enc.Encode would return, nothing is recorded and dst is
// returned unchanged. After warm-up it does not allocate.
func (t *ViewTracker) Encode(enc *Encoder, dst []byte, worlds *History, tick uint32, v *View) ([]byte, bool, error) {
	world, in, ok := worlds.getInfo(tick)
	if !ok {
		return dst, false, fmt.Errorf("%w: the world of tick %d is not in the history", ErrMissingBaseline, tick)
	}
	if v.n != world.Len() || !enc.fits(world, in) {
		return t.encodeSelected(enc, dst, worlds, world, v)
	}
	var base *Snapshot
	var bi []int32
	var bin slotInfo
	if t.hasAck {
		sent := t.find(t.acked)
		var bw *Snapshot
		var ok bool
		bw, bin, ok = worlds.getInfo(t.acked)
		switch {
		case sent == nil || !ok:
			// no baseline: a full snapshot
		case len(sent.stale) != 0 || !enc.fits(bw, bin):
			return t.encodeSelected(enc, dst, worlds, world, v)
		case sent.view.n == bw.Len(): // else a world replaced since: full
			if sent.sparse {
				bi = t.idx(sent)
			} else {
				bi = sent.view.appendIndexes(enc.baseIdx[:0])
				enc.baseIdx = bi
			}
			if len(bi) > enc.cfg.MaxEntities {
				return t.encodeSelected(enc, dst, worlds, world, v)
			}
			base = bw
		}
	}
	same := base != nil && bin.layout == in.layout
	mode := mergeByID
	var ci []int32
	switch {
	case same && enc.mergeView(v, bi):
		// The view lost entities of the baseline's or none, the usual
		// case: merged without listing v's entities.
		mode, ci = merged, enc.curIdx
		enc.viewMerges++
	default:
		if same {
			mode = mergeByIndex
		}
		ci = v.appendIndexes(enc.curIdx[:0])
		enc.curIdx = ci
		if len(ci) > enc.cfg.MaxEntities {
			return t.encodeSelected(enc, dst, worlds, world, v)
		}
	}
	var cs *changeSet
	if same {
		cs = enc.changesFor(world, in.gen, base, bin.gen)
	}
	out, err := enc.encode(dst, world, ci, base, bi, mode, cs)
	if err != nil {
		return dst, false, err
	}
	t.sentIndexes(tick, v, ci)
	return out, base == nil, nil
}

// encodeSelected is Encode through copies of the snapshots (Select and
// Baseline): for baselines with stale entities, and for worlds or views
// Encode cannot read in place, whose errors it reports as Encode does.
func (t *ViewTracker) encodeSelected(enc *Encoder, dst []byte, worlds *History, world *Snapshot, v *View) ([]byte, bool, error) {
	cur, err := v.Select(world, &enc.curSnap)
	if err != nil {
		return dst, false, err
	}
	base := t.Baseline(worlds, &enc.baseSnap)
	out, err := enc.Encode(dst, cur, base)
	if err != nil {
		return dst, false, err
	}
	t.Sent(world.Tick, v)
	return out, base == nil, nil
}

// Reset forgets everything (for example after the client reconnects or
// asks for a full snapshot), keeping the memory.
func (t *ViewTracker) Reset() {
	t.count, t.next, t.head = 0, 0, 0
	t.acked, t.hasAck = 0, false
}
