package state

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"

	"github.com/vmihailenco/msgpack/v5"
)

// DefaultMaxEntities is CodecConfig.MaxEntities when it is zero.
const DefaultMaxEntities = 4096

// MaxMaxEntities is the largest allowed CodecConfig.MaxEntities.
const MaxMaxEntities = 1 << 20

// CodecConfig configures an Encoder and a Decoder. Both ends must use the same
// config; it is not sent on the wire.
//
// A stream with one kind of entity sets Schema; one with several kinds
// (players, projectiles, pickups) sets Kinds instead, and each entity of a
// Snapshot names its kind (Snapshot.AddKind). A Schema is the same as
// Kinds: []Kind{{Fields: Schema.Fields}}, and encodes to the same bits.
type CodecConfig struct {
	// Schema lists the fields of every entity, when there is one kind.
	Schema Schema
	// Kinds lists the entity kinds (1..MaxKinds), when Schema is empty:
	// an entity of kind i has the fields Kinds[i].Fields. The kind is sent
	// only when an entity appears (ceil(log2 len(Kinds)) bits); an entity
	// whose kind changes is sent as removed and added again.
	Kinds []Kind
	// MaxEntities bounds the entities of one snapshot, and so the memory the
	// decoder may allocate for hostile input. 0 means DefaultMaxEntities;
	// at most MaxMaxEntities.
	MaxEntities int
}

// NumKinds returns the number of entity kinds: len(Kinds), or 1 with a
// Schema.
func (c CodecConfig) NumKinds() int {
	if len(c.Kinds) == 0 {
		return 1
	}
	return len(c.Kinds)
}

// Stride returns the number of int32 slots per entity in the config's
// snapshots: the largest kind's field count (Schema.NumFields() with a
// Schema). Build snapshots with NewSnapshot or Reset of this stride.
func (c CodecConfig) Stride() int {
	if len(c.Kinds) == 0 {
		return c.Schema.NumFields()
	}
	n := 0
	for _, k := range c.Kinds {
		n = max(n, len(k.Fields))
	}
	return n
}

// kindList returns the kinds, a Schema as one unnamed kind.
func (c CodecConfig) kindList() []Kind {
	if len(c.Kinds) == 0 {
		return []Kind{{Fields: c.Schema.Fields}}
	}
	return c.Kinds
}

func (c CodecConfig) withDefaults() CodecConfig {
	if c.MaxEntities == 0 {
		c.MaxEntities = DefaultMaxEntities
	}
	return c
}

// Validate checks the schema or kinds and MaxEntities (0 or
// 1..MaxMaxEntities): exactly one of Schema and Kinds set, 1..MaxKinds
// kinds, each with 1..MaxSchemaFields valid fields (see Field and its
// constructors).
func (c CodecConfig) Validate() error {
	switch {
	case len(c.Kinds) == 0:
		if err := c.Schema.Validate(); err != nil {
			if len(c.Schema.Fields) == 0 {
				return fmt.Errorf("%w (or set CodecConfig.Kinds)", err)
			}
			return err
		}
	case len(c.Schema.Fields) != 0:
		return fmt.Errorf("%w: CodecConfig has both Schema (%d fields) and Kinds (%d), want one of them", ErrInvalidConfig, len(c.Schema.Fields), len(c.Kinds))
	case len(c.Kinds) > MaxKinds:
		return fmt.Errorf("%w: CodecConfig.Kinds has %d kinds, want 1..%d", ErrInvalidConfig, len(c.Kinds), MaxKinds)
	default:
		for i, k := range c.Kinds {
			if err := validateFields(fmt.Sprintf("Kinds[%d] (%q)", i, k.Name), k.Fields); err != nil {
				return err
			}
		}
	}
	if c.MaxEntities < 0 || c.MaxEntities > MaxMaxEntities {
		return fmt.Errorf("%w: CodecConfig.MaxEntities is %d, want 0 (default %d) or 1..%d", ErrInvalidConfig, c.MaxEntities, DefaultMaxEntities, MaxMaxEntities)
	}
	return nil
}

// Header is the part of a snapshot payload read before its body: which tick
// it carries and, for a delta, which baseline tick it was encoded against.
type Header struct {
	Tick     uint32
	Baseline uint32 // meaningful only when Delta
	Delta    bool
}

// envelopeLen is the msgpack array length of a snapshot payload:
// [tick uint, baseline uint|nil, body bin].
const envelopeLen = 3

// appendWriter lets a msgpack.Encoder append to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *appendWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

// Encoder turns snapshots into payloads: full, or as a delta against a
// baseline snapshot the receiver already has. The body is bit-packed and
// wrapped in a small msgpack envelope [tick, baseline|nil, body].
//
// In a delta, an entity present in both snapshots costs 1 bit when none of
// its fields changed; in a changed entity each unchanged field costs 1 bit and
// each changed field 2 bits plus its change (see Field). Removed entities
// cost a small varint each, added ones their ID gap, their kind (with
// several kinds) and every field of their kind in full. Only an entity's own
// kind's fields are sent; its other slots must be 0.
//
// An Encoder reuses its buffers: after warm-up, Encode does not allocate
// when dst has room. The zero Encoder is not usable (NewEncoder); an Encoder
// is not safe for concurrent use — give each goroutine its own.
type Encoder struct {
	cfg CodecConfig
	layout
	bw   bitWriter
	body []byte
	out  appendWriter
	mp   *msgpack.Encoder

	removed []int32  // positions in the baseline's entity list
	added   []int32  // cur indices
	kept    []uint64 // (baseline index, cur index), by keep
	iota    []int32  // 0, 1, 2…: every entity of a snapshot, as indexes

	// What ViewTracker.Encode reuses: the indexes of a view's entities
	// (cur, base), and snapshots for its fallback through Select.
	curIdx, baseIdx []int32
	curSnap         Snapshot
	baseSnap        Snapshot
	// The change sets of the world pairs encoded last: a tick's world
	// and each acked world its clients' baselines are in (a few, more
	// when acks come late).
	changes     [16]changeSet
	changeClock uint64 // counts changesFor calls
	changeUses  int    // deltas written with a built changeSet
	viewMerges  int    // deltas ViewTracker.Encode merged with mergeView
	keptCached  int    // changed entities written from a changeSet's cache
}

// NewEncoder returns an Encoder for cfg.
func NewEncoder(cfg CodecConfig) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Encoder{cfg: cfg, layout: newLayout(cfg)}
	e.mp = msgpack.NewEncoder(&e.out)
	e.mp.UseCompactInts(true)
	return e, nil
}

// Encode appends the payload for cur to dst and returns the extended slice.
// With base nil the payload is a full snapshot; otherwise it is a delta
// against base, and the decoder must be given a snapshot equal to base (same
// tick and contents) to decode it. cur must be valid for the config (strictly
// increasing IDs, Stride fields each, at most MaxEntities, kinds that exist,
// values inside their fields and 0 past their kind's fields), and so must
// base, normally a snapshot encoded before.
// Values are range-checked as they are written, so in a delta a value equal
// to the baseline's is not checked again. An invalid cur or base returns an
// error wrapping ErrInvalidSnapshot and dst unchanged.
func (e *Encoder) Encode(dst []byte, cur, base *Snapshot) ([]byte, error) {
	// Values are range-checked where they are written: in a delta an
	// unchanged value is not written, and the decoder copies it from the
	// same baseline.
	if err := cur.check(e.stride, len(e.kinds), e.cfg.MaxEntities); err != nil {
		return dst, err
	}
	n := cur.Len()
	if base != nil {
		if err := base.check(e.stride, len(e.kinds), e.cfg.MaxEntities); err != nil {
			return dst, fmt.Errorf("baseline: %w", err)
		}
		n = max(n, base.Len())
	}
	for k := len(e.iota); k < n; k++ {
		e.iota = append(e.iota, int32(k))
	}
	if base == nil {
		return e.encode(dst, cur, e.iota[:cur.Len()], nil, nil, mergeByID, nil)
	}
	return e.encode(dst, cur, e.iota[:cur.Len()], base, e.iota[:base.Len()], mergeByID, nil)
}

// mergeMode is how writeDelta sorts a delta's entities into removed, added
// and kept.
type mergeMode uint8

const (
	mergeByID    mergeMode = iota // by ID and kind (mergeIDs)
	mergeByIndex                  // cur and base have the same IDs and kinds: by index (mergeIndexes)
	merged                        // already done (mergeView): removed, added and kept are filled
)

// encode appends the payload of the snapshot made of the entities ci
// (indexes into cur, increasing) of cur, as a delta against the entities bi
// of base when base is not nil. The caller has checked cur and base the way
// Encode does, for the entities it selects.
// With mode mergeByIndex or merged, cur and base have the same IDs and
// kinds; then cs, when not nil, is the pair's changeSet.
func (e *Encoder) encode(dst []byte, cur *Snapshot, ci []int32, base *Snapshot, bi []int32, mode mergeMode, cs *changeSet) ([]byte, error) {
	e.bw.reset(e.body[:0])
	var err error
	if base == nil {
		err = e.writeFull(cur, ci)
	} else {
		err = e.writeDelta(cur, ci, base, bi, mode, cs)
	}
	e.body = e.bw.finish()
	if err != nil {
		return dst, err
	}

	e.out.b = dst
	// Writes to appendWriter cannot fail, so neither can these.
	_ = e.mp.EncodeArrayLen(envelopeLen)
	_ = e.mp.EncodeUint(uint64(cur.Tick))
	if base == nil {
		_ = e.mp.EncodeNil()
	} else {
		_ = e.mp.EncodeUint(uint64(base.Tick))
	}
	_ = e.mp.EncodeBytes(e.body)
	dst = e.out.b
	e.out.b = nil
	return dst, nil
}

// fits reports whether s, which History found in the state in, can be
// read in place by encode: the checks of Encode for any of its entities.
func (e *Encoder) fits(s *Snapshot, in slotInfo) bool {
	return s.Stride == e.stride && len(s.Values) == len(s.IDs)*s.Stride &&
		(len(s.Kinds) == 0 || len(s.Kinds) == len(s.IDs)) &&
		in.sorted && int(in.maxKind) < len(e.kinds)
}

// writeAdded writes entity i of s as it appears: its kind, then its kind's
// fields in full.
func (e *Encoder) writeAdded(s *Snapshot, i int) error {
	kc := &e.kinds[0]
	if e.kindBits > 0 {
		kind := s.Kind(i)
		e.bw.writeBits(uint64(kind), e.kindBits)
		kc = &e.kinds[kind]
	}
	f := s.Fields(i)
	// Both slices of the kind's length, so the loop has no bounds checks.
	ranges := kc.ranges[:len(f[:len(kc.ranges)])]
	for k, v := range f[:len(ranges)] {
		r := &ranges[k]
		if !r.fits(v) {
			return e.rangeError(s, i, k)
		}
		e.bw.writeBits(uint64(r.toRaw(v)-r.lo), r.bits)
	}
	if !isZero(f[len(ranges):]) {
		return e.paddingError(s, i)
	}
	return nil
}

func isZero(f []int32) bool {
	for _, v := range f {
		if v != 0 {
			return false
		}
	}
	return true
}

// paddingError reports the non-zero slot past the fields of entity i's kind.
func (e *Encoder) paddingError(s *Snapshot, i int) error {
	kind := s.Kind(i)
	kc := &e.kinds[kind]
	f := s.Fields(i)
	for k := len(kc.ranges); k < len(f); k++ {
		if f[k] != 0 {
			return fmt.Errorf("%w: tick %d entity %d (kind %d %q) slot %d is %d, want 0: the kind has %d fields and the slots past them are not sent",
				ErrInvalidSnapshot, s.Tick, s.IDs[i], kind, kc.name, k, f[k], len(kc.ranges))
		}
	}
	return nil
}

func (e *Encoder) rangeError(s *Snapshot, i, k int) error {
	kind := s.Kind(i)
	kc := &e.kinds[kind]
	r, f := kc.ranges[k], kc.fields[k]
	var where string
	if len(e.kinds) > 1 {
		where = fmt.Sprintf(" (kind %d %q)", kind, kc.name)
	}
	return fmt.Errorf("%w: tick %d entity %d%s field %d (%q) is %d, outside [%d, %d] for %s",
		ErrInvalidSnapshot, s.Tick, s.IDs[i], where, k, f.Name, s.Fields(i)[k], r.lo, r.hi, f.describe())
}

func (e *Encoder) writeFull(cur *Snapshot, ci []int32) error {
	e.bw.writeVarint(uint64(len(ci)))
	prev := int64(-1)
	for _, i := range ci {
		id := int64(cur.IDs[i])
		e.bw.writeVarint(uint64(id - prev - 1))
		prev = id
		if err := e.writeAdded(cur, int(i)); err != nil {
			return err
		}
	}
	return nil
}

// mergeIDs sorts the entities bi of base and ci of cur into removed
// (positions in bi), added (indexes of cur) and kept (a baseline index and
// a cur index, packed by keep) by ID and kind.
func (e *Encoder) mergeIDs(cur *Snapshot, ci []int32, base *Snapshot, bi []int32) {
	// Locals, not e's fields, in the loop: the appends stay in registers.
	removed, added, kept := e.removed[:0], e.added[:0], e.kept[:0]
	multi := len(e.kinds) > 1 // else every kind is 0 (checked)
	bIDs, cIDs := base.IDs, cur.IDs
	i, j := 0, 0
	for i < len(bi) && j < len(ci) {
		bid, cid := bIDs[bi[i]], cIDs[ci[j]]
		switch {
		case bid < cid:
			removed = append(removed, int32(i))
			i++
		case cid < bid:
			added = append(added, ci[j])
			j++
		case multi && base.Kind(int(bi[i])) != cur.Kind(int(ci[j])):
			// Same ID, another kind: a new entity.
			removed = append(removed, int32(i))
			added = append(added, ci[j])
			i++
			j++
		default:
			kept = append(kept, keep(bi[i], ci[j]))
			i++
			j++
		}
	}
	for ; i < len(bi); i++ {
		removed = append(removed, int32(i))
	}
	e.removed, e.added, e.kept = removed, append(added, ci[j:]...), kept
}

// mergeIndexes is mergeIDs for a cur and base of the same layout: a world
// index is the same entity (and kind) in both, so their IDs need not be
// read.
func (e *Encoder) mergeIndexes(bi, ci []int32) {
	removed, added, kept := e.removed[:0], e.added[:0], e.kept[:0]
	i, j := 0, 0
	for i < len(bi) && j < len(ci) {
		b, c := bi[i], ci[j]
		switch {
		case b < c:
			removed = append(removed, int32(i))
			i++
		case c < b:
			added = append(added, c)
			j++
		default:
			kept = append(kept, keep(b, c))
			i++
			j++
		}
	}
	for ; i < len(bi); i++ {
		removed = append(removed, int32(i))
	}
	e.removed, e.added, e.kept = removed, append(added, ci[j:]...), kept
}

// mergeView is mergeIndexes for a cur given as v, a View over the world
// whose indexes bi are (the same layout), in the common case where v has
// no entity bi has not: it fills removed and kept, sets curIdx to v's
// indexes and reports true, without listing v's entities from its bitset
// or merging two lists. It reports false when v has an entity bi has not
// (or is not a bitset), and then removed, kept and curIdx are garbage.
func (e *Encoder) mergeView(v *View, bi []int32) bool {
	if v.all {
		return false
	}
	n := v.Len()
	if n > len(bi) {
		return false // something was added
	}
	words := v.words
	if len(bi) > 0 && uint(bi[len(bi)-1]>>6) >= uint(len(words)) {
		return false // not v's world (bi increases): cannot happen with the same layout
	}
	removed, kept, ci := e.removed[:0], e.kept[:0], e.curIdx[:0]
	for i, b := range bi {
		if words[b>>6]&(1<<(uint32(b)&63)) != 0 {
			kept = append(kept, keep(b, b))
			ci = append(ci, b)
		} else {
			removed = append(removed, int32(i))
		}
	}
	e.removed, e.kept, e.curIdx, e.added = removed, kept, ci, e.added[:0]
	return len(ci) == n // else v has entities bi has not
}

// keep packs a kept entity's baseline and cur indexes (in registers,
// where a [2]int32 went through memory).
func keep(b, c int32) uint64 { return uint64(uint32(b))<<32 | uint64(uint32(c)) }

// writeDelta writes the entities ci of cur as a delta against the entities
// bi of base (both lists of indexes, increasing).
// mode: how to sort them (mergeMode); with mergeByIndex or merged, cs,
// when not nil, is the pair's changeSet.
func (e *Encoder) writeDelta(cur *Snapshot, ci []int32, base *Snapshot, bi []int32, mode mergeMode, cs *changeSet) error {
	switch mode {
	case mergeByIndex:
		e.mergeIndexes(bi, ci)
	case mergeByID:
		e.mergeIDs(cur, ci, base, bi)
	}

	// Removed: count, then baseline index gaps.
	e.bw.writeVarint(uint64(len(e.removed)))
	prev := int32(-1)
	for _, bi := range e.removed {
		e.bw.writeVarint(uint64(bi - prev - 1))
		prev = bi
	}
	// Added: count, then ID gaps and full fields.
	e.bw.writeVarint(uint64(len(e.added)))
	prevID := int64(-1)
	for _, ci := range e.added {
		id := int64(cur.IDs[ci])
		e.bw.writeVarint(uint64(id - prevID - 1))
		prevID = id
		if err := e.writeAdded(cur, int(ci)); err != nil {
			return err
		}
	}
	// Kept, in baseline order: changed bit, then per field changed bit and
	// the change.
	if cs != nil && cs.words != nil {
		// The entities that did not change between the two worlds are
		// known without reading them: one bit each.
		words := cs.words
		e.changeUses++
		for _, kp := range e.kept {
			k := uint32(kp) // the same index in both worlds
			if words[k>>6]&(1<<(k&63)) == 0 {
				e.bw.writeBits(0, 1)
				continue
			}
			if err := e.writeChanged(cs, k); err != nil {
				return err
			}
		}
		return nil
	}
	for _, kp := range e.kept {
		if err := e.writeKept(cur, base, int(kp>>32), int(uint32(kp))); err != nil {
			return err
		}
	}
	if cs != nil {
		cs.compared += len(e.kept)
		if cs.compared >= cur.Len()/8 {
			e.buildChanges(cs)
		}
	}
	return nil
}

// writeKept writes kept entity cix of cur against entity bix of base: its
// changed bit, then per field a changed bit and the change.
func (e *Encoder) writeKept(cur, base *Snapshot, bix, cix int) error {
	kc := &e.kinds[0]
	if len(e.kinds) > 1 {
		kc = &e.kinds[cur.Kind(cix)]
	}
	n := len(kc.ranges)
	bf, cf := base.Fields(bix)[:n], cur.Fields(cix)
	if n < len(cf) {
		if !isZero(cf[n:]) {
			return e.paddingError(cur, cix)
		}
		cf = cf[:n]
	}
	if equalFields(bf, cf) {
		e.bw.writeBits(0, 1)
		return nil
	}
	e.bw.writeBits(1, 1)
	for k := range cf {
		if cf[k] == bf[k] {
			e.bw.writeBits(0, 1)
			continue
		}
		r := &kc.ranges[k]
		if !r.fits(cf[k]) {
			return e.rangeError(cur, cix, k)
		}
		craw := r.toRaw(cf[k])
		zz := zigzag(craw - r.toRaw(bf[k]))
		if varintBits(zz) < r.bits {
			e.bw.writeBits(0b01, 2) // changed, as a delta
			e.bw.writeVarint(zz)
		} else {
			e.bw.writeBits(0b11, 2) // changed, absolute
			e.bw.writeBits(uint64(craw-r.lo), r.bits)
		}
	}
	return nil
}

// changeSet is, for two worlds of the same layout that many views are
// encoded between (a tick's world and an acked one), which entities
// changed from one to the other, so that each view's unchanged entities
// cost a bit each without reading either world. It is built once the
// views encoded without it compared an eighth of the world's entities:
// building it reads both worlds once, in order.
type changeSet struct {
	cur, base       *Snapshot // in a History, which does not change them
	curGen, baseGen uint64    // slotInfo.gen: which snapshots the slots held
	compared        int       // kept entities compared while words was nil
	words           []uint64  // bit k: entity k changed (or has non-zero padding)
	mem             []uint64  // words' memory, kept when the set is replaced
	used            uint64    // Encoder.changeClock when last used
	// What writeKept wrote for each changed entity, for the next views
	// that carry it: the same bits, whoever the viewer. By rank among the
	// changed entities (ranks[w]: those in words before w); buildChanges
	// sizes and clears them with words. 9 bytes per
	// changed entity: with the 16 sets, at most 144 bytes per world
	// entity per Encoder (a snapshot worker), whatever the clients.
	ranks []int32
	kept  []uint64 // the bits, least significant first
	lens  []uint8  // how many: 0 not known yet, notCached when over 64
}

// notCached marks a changed entity whose encoding is longer than 64 bits.
const notCached = 255

// changesFor returns the changeSet of the pair (cur, base), or a new one
// in place of the least recently used.
func (e *Encoder) changesFor(cur *Snapshot, curGen uint64, base *Snapshot, baseGen uint64) *changeSet {
	e.changeClock++
	lru := 0
	for i := range e.changes {
		cs := &e.changes[i]
		if cs.cur == cur && cs.curGen == curGen && cs.base == base && cs.baseGen == baseGen {
			cs.used = e.changeClock
			return cs
		}
		if cs.used < e.changes[lru].used {
			lru = i
		}
	}
	cs := &e.changes[lru]
	*cs = changeSet{cur: cur, curGen: curGen, base: base, baseGen: baseGen, used: e.changeClock,
		mem: cs.mem, ranks: cs.ranks, kept: cs.kept, lens: cs.lens} // memory for buildChanges
	return cs
}

// buildChanges fills cs.words: entity k is marked when its kind's fields
// differ between the two worlds, or when its slots past them are not 0
// (writeKept reports that).
func (e *Encoder) buildChanges(cs *changeSet) {
	cur, base := cs.cur, cs.base
	n := cur.Len()
	w := (n + 63) / 64
	if cap(cs.mem) < w {
		cs.mem = make([]uint64, w)
	}
	words := cs.mem[:w]
	clear(words)
	st := cur.Stride
	cv, bv := cur.Values[:n*st], base.Values[:n*st]
	if len(e.kinds) == 1 && len(e.kinds[0].ranges) == st {
		// One kind filling the stride: compare whole entities.
		for k := range n {
			if !equalFields(bv[k*st:(k+1)*st], cv[k*st:(k+1)*st]) {
				words[k>>6] |= 1 << (uint(k) & 63)
			}
		}
	} else {
		for k := range n {
			nf := len(e.kinds[cur.Kind(k)].ranges)
			cf := cv[k*st : (k+1)*st]
			if !equalFields(bv[k*st:k*st+nf], cf[:nf]) || !isZero(cf[nf:]) {
				words[k>>6] |= 1 << (uint(k) & 63)
			}
		}
	}
	cs.words = words
	cs.ranks = cs.ranks[:0]
	changed := int32(0)
	for _, x := range words {
		cs.ranks = append(cs.ranks, changed)
		changed += int32(bits.OnesCount64(x))
	}
	cs.kept = growLen(cs.kept, int(changed))
	cs.lens = growLen(cs.lens, int(changed))
	clear(cs.lens)
}

// writeChanged writes changed entity k (the same index in both worlds) of
// cs's pair as writeKept does, from cs's cache when a view encoded before
// carried it.
func (e *Encoder) writeChanged(cs *changeSet, k uint32) error {
	w := cs.words[k>>6]
	r := cs.ranks[k>>6] + int32(bits.OnesCount64(w&(1<<(k&63)-1)))
	n := cs.lens[r]
	if n != 0 && n != notCached {
		e.bw.writeLong(cs.kept[r], uint(n))
		e.keptCached++
		return nil
	}
	p := e.bw.pos()
	if err := e.writeKept(cs.cur, cs.base, int(k), int(k)); err != nil {
		return err
	}
	if m := e.bw.pos() - p; m <= 64 {
		cs.kept[r], cs.lens[r] = e.bw.since(p), uint8(m)
	} else {
		cs.lens[r] = notCached
	}
	return nil
}

func equalFields(a, b []int32) bool {
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// Decoder turns payloads back into snapshots. It never panics on hostile
// input: every count is checked against the remaining bits and against
// MaxEntities before anything is allocated, so a Decoder holds at most
// MaxEntities entities of scratch memory. After warm-up, decoding into a
// reused Snapshot does not allocate.
//
// The zero Decoder is not usable (NewDecoder); a Decoder is not safe for
// concurrent use.
type Decoder struct {
	cfg CodecConfig
	layout
	rd bytes.Reader
	mp *msgpack.Decoder
	br bitReader

	removed []int32
	added   Snapshot
}

// NewDecoder returns a Decoder for cfg.
func NewDecoder(cfg CodecConfig) (*Decoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	d := &Decoder{cfg: cfg, layout: newLayout(cfg)}
	d.mp = msgpack.NewDecoder(&d.rd)
	return d, nil
}

// ReadHeader parses the envelope of payload without decoding its body: the
// caller learns the tick and which baseline to look up.
func (d *Decoder) ReadHeader(payload []byte) (Header, error) {
	h, _, err := d.readEnvelope(payload)
	return h, err
}

func (d *Decoder) readEnvelope(payload []byte) (Header, []byte, error) {
	var h Header
	d.rd.Reset(payload)
	d.mp.Reset(&d.rd)
	n, err := d.mp.DecodeArrayLen()
	if err != nil {
		return h, nil, fmt.Errorf("%w: envelope: %v", ErrMalformedSnapshot, err)
	}
	if n != envelopeLen {
		return h, nil, fmt.Errorf("%w: envelope has %d elements, want %d", ErrMalformedSnapshot, n, envelopeLen)
	}
	tick, err := d.mp.DecodeUint64()
	if err != nil || tick > math.MaxUint32 {
		return h, nil, fmt.Errorf("%w: tick: %v", ErrMalformedSnapshot, errOr(err, "out of range"))
	}
	h.Tick = uint32(tick)
	c, err := d.mp.PeekCode()
	if err != nil {
		return h, nil, fmt.Errorf("%w: baseline: %v", ErrMalformedSnapshot, err)
	}
	if c == 0xc0 { // msgpack nil
		_ = d.mp.DecodeNil()
	} else {
		b, err := d.mp.DecodeUint64()
		if err != nil || b > math.MaxUint32 {
			return h, nil, fmt.Errorf("%w: baseline: %v", ErrMalformedSnapshot, errOr(err, "out of range"))
		}
		h.Baseline, h.Delta = uint32(b), true
	}
	bl, err := d.mp.DecodeBytesLen()
	if err != nil {
		return h, nil, fmt.Errorf("%w: body: %v", ErrMalformedSnapshot, err)
	}
	start := len(payload) - d.rd.Len()
	if bl < 0 || bl != d.rd.Len() {
		return h, nil, fmt.Errorf("%w: body of %d bytes with %d bytes left in the payload", ErrMalformedSnapshot, bl, d.rd.Len())
	}
	return h, payload[start : start+bl], nil
}

type errString string

func (e errString) Error() string { return string(e) }

func errOr(err error, s string) error {
	if err != nil {
		return err
	}
	return errString(s)
}

// Decode decodes payload into dst (reusing its memory) and returns its
// header. A full snapshot ignores base. A delta needs base to be the
// snapshot it was encoded against: when base is nil or base.Tick differs
// from the header's baseline, Decode returns an error wrapping
// ErrMissingBaseline. dst must not be base. Malformed input returns an error
// wrapping ErrMalformedSnapshot, with dst's contents unspecified.
func (d *Decoder) Decode(dst *Snapshot, payload []byte, base *Snapshot) (Header, error) {
	h, body, err := d.readEnvelope(payload)
	if err != nil {
		return h, err
	}
	if h.Delta {
		if base == nil || base.Tick != h.Baseline {
			have := "none"
			if base != nil {
				have = fmt.Sprint(base.Tick)
			}
			return h, fmt.Errorf("%w: tick %d is a delta against tick %d, have %s", ErrMissingBaseline, h.Tick, h.Baseline, have)
		}
		if base == dst {
			return h, fmt.Errorf("%w: Decode: dst and base are the same snapshot", ErrInvalidConfig)
		}
		if base.Stride != d.stride || len(base.Values) != base.Len()*base.Stride {
			return h, fmt.Errorf("%w: baseline tick %d has Stride %d and %d values for %d entities, schema has %d fields",
				ErrInvalidSnapshot, base.Tick, base.Stride, len(base.Values), base.Len(), d.stride)
		}
		if err := d.checkKinds(base); err != nil {
			return h, fmt.Errorf("baseline: %w", err)
		}
	}
	dst.Reset(h.Tick, d.stride)
	d.br.reset(body)
	if h.Delta {
		err = d.readDelta(dst, base)
	} else {
		err = d.readFull(dst)
	}
	if err != nil {
		return h, err
	}
	if !d.br.done() {
		return h, fmt.Errorf("%w: tick %d: %s", ErrMalformedSnapshot, h.Tick, d.trailer())
	}
	return h, nil
}

func (d *Decoder) trailer() string {
	if !d.br.ok() {
		return "truncated body"
	}
	return "trailing data after the body"
}

// readCount reads an entity count and checks it against limit and against
// the bits left (each entity costs at least minBits).
func (d *Decoder) readCount(what string, limit int, minBits uint) (int, error) {
	limit = max(limit, 0)
	n := d.br.readVarint()
	if !d.br.ok() {
		return 0, fmt.Errorf("%w: %s count: truncated body", ErrMalformedSnapshot, what)
	}
	if n > uint64(limit) {
		return 0, fmt.Errorf("%w: %s count %d, limit %d", ErrMalformedSnapshot, what, n, limit)
	}
	if n*uint64(minBits) > uint64(d.br.remaining()) {
		return 0, fmt.Errorf("%w: %s count %d needs more than the %d bits left", ErrMalformedSnapshot, what, n, d.br.remaining())
	}
	return int(n), nil
}

// checkKinds reports a baseline whose kinds do not fit the config.
func (d *Decoder) checkKinds(s *Snapshot) error {
	if len(s.Kinds) != 0 && len(s.Kinds) != len(s.IDs) {
		return fmt.Errorf("%w: tick %d has %d kinds for %d entities, want one per entity or none", ErrInvalidSnapshot, s.Tick, len(s.Kinds), len(s.IDs))
	}
	return checkKinds(s, len(d.kinds))
}

// readAdded reads the kind and fields of an entity that appears into fields
// (its Stride slots, the ones past its kind's fields zeroed) and returns its
// kind.
func (d *Decoder) readAdded(fields []int32, id uint32) (uint8, error) {
	var kind uint64
	if d.kindBits > 0 {
		kind = d.br.readBits(d.kindBits)
	}
	if kind >= uint64(len(d.kinds)) {
		return 0, fmt.Errorf("%w: entity %d has kind %d, want 0..%d", ErrMalformedSnapshot, id, kind, len(d.kinds)-1)
	}
	kc := &d.kinds[kind]
	// Both slices of the kind's length, so the loop has no bounds checks.
	ranges := kc.ranges[:len(fields[:len(kc.ranges)])]
	for k := range ranges {
		r := &ranges[k]
		raw := int64(d.br.readBits(r.bits)) + r.lo
		if raw > r.hi {
			return 0, fmt.Errorf("%w: entity %d field %d (%q): value %d outside [%d, %d]", ErrMalformedSnapshot, id, k, kc.fields[k].Name, raw, r.lo, r.hi)
		}
		fields[k] = r.fromRaw(raw)
	}
	clear(fields[len(ranges):])
	return uint8(kind), nil
}

// readID reads an ID gap after prev (-1 before the first ID).
func (d *Decoder) readID(prev int64) (int64, error) {
	gap := d.br.readVarint()
	if !d.br.ok() {
		return 0, fmt.Errorf("%w: entity id: truncated body", ErrMalformedSnapshot)
	}
	if gap > math.MaxUint32 || prev+1+int64(gap) > math.MaxUint32 {
		return 0, fmt.Errorf("%w: entity id after %d overflows uint32", ErrMalformedSnapshot, prev)
	}
	return prev + 1 + int64(gap), nil
}

func (d *Decoder) readFull(dst *Snapshot) error {
	n, err := d.readCount("entity", d.cfg.MaxEntities, varintChunk+1+d.minAddedBits)
	if err != nil {
		return err
	}
	dst.resize(n)
	prev := int64(-1)
	for i := range n {
		id, err := d.readID(prev)
		if err != nil {
			return err
		}
		prev = id
		dst.IDs[i] = uint32(id)
		if dst.Kinds[i], err = d.readAdded(dst.Fields(i), uint32(id)); err != nil {
			return err
		}
	}
	if !d.br.ok() {
		return fmt.Errorf("%w: tick %d: truncated body", ErrMalformedSnapshot, dst.Tick)
	}
	return nil
}

func (d *Decoder) readDelta(dst, base *Snapshot) error {
	// Removed baseline indices.
	nr, err := d.readCount("removed", base.Len(), varintChunk+1)
	if err != nil {
		return err
	}
	d.removed = d.removed[:0]
	prev := int64(-1)
	for range nr {
		gap := d.br.readVarint()
		idx := prev + 1 + int64(gap)
		if !d.br.ok() || gap >= uint64(base.Len()) || idx >= int64(base.Len()) {
			return fmt.Errorf("%w: removed index after %d out of range (baseline has %d entities)", ErrMalformedSnapshot, prev, base.Len())
		}
		d.removed = append(d.removed, int32(idx))
		prev = idx
	}
	// Added entities.
	keptN := base.Len() - nr
	na, err := d.readCount("added", d.cfg.MaxEntities-keptN, varintChunk+1+d.minAddedBits)
	if err != nil {
		return err
	}
	added := &d.added
	added.Reset(dst.Tick, dst.Stride)
	added.resize(na)
	prevID := int64(-1)
	for i := range na {
		id, err := d.readID(prevID)
		if err != nil {
			return err
		}
		prevID = id
		added.IDs[i] = uint32(id)
		if added.Kinds[i], err = d.readAdded(added.Fields(i), uint32(id)); err != nil {
			return err
		}
	}
	// Kept entities in baseline order, merged with the added ones by ID.
	dst.resize(keptN + na)
	o, ri, ai := 0, 0, 0
	for bi := 0; bi < base.Len(); bi++ {
		if ri < len(d.removed) && int(d.removed[ri]) == bi {
			ri++
			continue
		}
		id := base.IDs[bi]
		for ai < na && added.IDs[ai] < id {
			dst.IDs[o], dst.Kinds[o] = added.IDs[ai], added.Kinds[ai]
			copy(dst.Fields(o), added.Fields(ai))
			o++
			ai++
		}
		if ai < na && added.IDs[ai] == id {
			return fmt.Errorf("%w: added entity %d is already in the baseline", ErrMalformedSnapshot, id)
		}
		kind := base.Kind(bi)
		dst.IDs[o], dst.Kinds[o] = id, kind
		if err := d.readKept(dst.Fields(o), base.Fields(bi), &d.kinds[kind], id); err != nil {
			return err
		}
		o++
	}
	for ; ai < na; ai++ {
		dst.IDs[o], dst.Kinds[o] = added.IDs[ai], added.Kinds[ai]
		copy(dst.Fields(o), added.Fields(ai))
		o++
	}
	if !d.br.ok() {
		return fmt.Errorf("%w: tick %d: truncated body", ErrMalformedSnapshot, dst.Tick)
	}
	if dst.Len() > 1 && !isStrictlySorted(dst.IDs) {
		return fmt.Errorf("%w: tick %d: baseline tick %d IDs are not strictly increasing", ErrInvalidSnapshot, dst.Tick, base.Tick)
	}
	return nil
}

func isStrictlySorted(ids []uint32) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return false
		}
	}
	return true
}

// maxDelta bounds a decoded change: any real change of a field of at most
// 32 bits is smaller.
const maxDelta = 1 << 33

// readKept reads an entity present in the baseline into dst, from its
// baseline fields.
func (d *Decoder) readKept(dst, base []int32, kc *kindCodec, id uint32) error {
	n := len(kc.ranges)
	clear(dst[n:])
	dst, base = dst[:n], base[:n]
	copy(dst, base)
	if !d.br.readBool() {
		return nil
	}
	for k := range dst {
		if !d.br.readBool() {
			continue
		}
		r := &kc.ranges[k]
		var raw int64
		if d.br.readBool() {
			raw = int64(d.br.readBits(r.bits)) + r.lo
			if raw > r.hi {
				return fmt.Errorf("%w: entity %d field %d: value %d outside [%d, %d]", ErrMalformedSnapshot, id, k, raw, r.lo, r.hi)
			}
		} else {
			delta := unzigzag(d.br.readVarint())
			if delta > maxDelta || delta < -maxDelta {
				return fmt.Errorf("%w: entity %d field %d: change %d out of range", ErrMalformedSnapshot, id, k, delta)
			}
			raw = r.toRaw(base[k]) + delta
			if raw < r.lo || raw > r.hi {
				return fmt.Errorf("%w: entity %d field %d: value %d outside [%d, %d]", ErrMalformedSnapshot, id, k, raw, r.lo, r.hi)
			}
		}
		dst[k] = r.fromRaw(raw)
	}
	if !d.br.ok() {
		return fmt.Errorf("%w: entity %d: truncated body", ErrMalformedSnapshot, id)
	}
	return nil
}

// layout is a CodecConfig prepared for the codec's inner loops.
type layout struct {
	kinds    []kindCodec
	kindBits uint // bits of a kind index: ceil(log2 len(kinds))
	stride   int
	// minAddedBits is the fewest bits an added entity's kind and fields take.
	minAddedBits uint
}

// kindCodec is a Kind prepared for the codec.
type kindCodec struct {
	name   string
	fields []Field
	ranges []fieldRange
}

func newLayout(cfg CodecConfig) layout {
	kinds := cfg.kindList()
	l := layout{
		kinds:    make([]kindCodec, len(kinds)),
		kindBits: uint(bits.Len(uint(len(kinds) - 1))),
		stride:   cfg.Stride(),
	}
	l.minAddedBits = math.MaxUint32
	for i, k := range kinds {
		kc := kindCodec{name: k.Name, fields: k.Fields, ranges: make([]fieldRange, len(k.Fields))}
		full := l.kindBits
		for j, f := range k.Fields {
			lo, hi := f.rawRange()
			kc.ranges[j] = fieldRange{lo: lo, hi: hi, bits: uint(f.Bits), signed: f.Signed}
			full += uint(f.Bits)
		}
		l.kinds[i] = kc
		l.minAddedBits = min(l.minAddedBits, full)
	}
	return l
}

// fieldRange is a Field prepared for the codec's inner loops.
type fieldRange struct {
	lo, hi int64
	bits   uint
	signed bool
}

// fits reports whether v is inside the field's range: a signed field has
// only copies of its sign bit above its bits, an unsigned one is at most hi
// as a uint32.
func (r *fieldRange) fits(v int32) bool {
	if r.signed {
		return uint32(v>>(r.bits-1))+1 <= 1
	}
	return uint32(v) <= uint32(r.hi)
}

func (r fieldRange) toRaw(v int32) int64 {
	if r.signed {
		return int64(v)
	}
	return int64(uint32(v))
}

func (r fieldRange) fromRaw(raw int64) int32 {
	if r.signed {
		return int32(raw)
	}
	return int32(uint32(raw))
}
