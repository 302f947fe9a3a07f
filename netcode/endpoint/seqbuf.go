package endpoint

// seqBuffer is a ring of T indexed by sequence number. It holds entries for
// the newest Len sequence numbers inserted; older ones fall out as newer
// ones arrive, unless the owner Grows the ring first (see Occupant). The
// endpoint uses it for its records of sent packets.
//
// The zero value is not usable; create one with newSeqBuffer. A seqBuffer is
// not safe for concurrent use.
type seqBuffer[T any] struct {
	entries []T
	seqs    []uint32 // sequence number held by each slot, or emptySlot
	mask    int
	newest  seqNum
	started bool
}

const emptySlot = ^uint32(0)

// newSeqBuffer returns a buffer tracking the newest size sequence
// numbers. size is rounded up to a power of two so that indexing stays
// consistent across the 65535 → 0 wrap; it must be in [1, 32768].
func newSeqBuffer[T any](size int) *seqBuffer[T] {
	if size < 1 || size > 1<<15 {
		panic("endpoint: seqBuffer size must be in [1, 32768]")
	}
	n := 1
	for n < size {
		n <<= 1
	}
	b := &seqBuffer[T]{entries: make([]T, n), seqs: make([]uint32, n), mask: n - 1}
	b.Reset()
	return b
}

// Grow doubles the buffer, keeping every entry it holds; Len must be below
// 32768. It allocates; the endpoint calls it only while its traffic grows,
// up to a bound of its own.
func (b *seqBuffer[T]) Grow() {
	n := 2 * len(b.entries)
	if n > 1<<15 {
		panic("endpoint: seqBuffer cannot grow beyond 32768")
	}
	entries, seqs := make([]T, n), make([]uint32, n)
	for i := range seqs {
		seqs[i] = emptySlot
	}
	for i, s := range b.seqs {
		if s != emptySlot {
			j := int(s) & (n - 1)
			entries[j], seqs[j] = b.entries[i], s
		}
	}
	b.entries, b.seqs, b.mask = entries, seqs, n-1
}

// Occupant returns the entry that inserting seq would overwrite: the one
// in seq's slot under another sequence number, or nil.
func (b *seqBuffer[T]) Occupant(seq seqNum) *T {
	i := int(seq) & b.mask
	if b.seqs[i] == emptySlot || b.seqs[i] == uint32(seq) {
		return nil
	}
	return &b.entries[i]
}

// Len returns how many sequence numbers the buffer tracks.
func (b *seqBuffer[T]) Len() int { return len(b.entries) }

// Newest returns the newest sequence number inserted, and false if none was.
func (b *seqBuffer[T]) Newest() (seqNum, bool) { return b.newest, b.started }

// Reset forgets every entry.
func (b *seqBuffer[T]) Reset() {
	for i := range b.seqs {
		b.seqs[i] = emptySlot
	}
	b.started = false
	b.newest = 0
}

// Insert claims the slot for seq and returns a pointer to it, or nil when seq
// is too old to be tracked (Len or more before the newest). Inserting a newer
// seq forgets the entries it pushes out of the window.
//
// The slot keeps whatever value its previous occupant left, so that a T which
// owns slices can reuse them without allocating: set every field you read.
func (b *seqBuffer[T]) Insert(seq seqNum) *T {
	switch {
	case !b.started:
		b.started = true
		b.newest = seq
	case seq.Newer(b.newest):
		gap := uint16(seq - b.newest)
		if int(gap) >= len(b.seqs) {
			for i := range b.seqs {
				b.seqs[i] = emptySlot
			}
		} else {
			for s := b.newest + 1; s != seq; s++ {
				b.seqs[int(s)&b.mask] = emptySlot
			}
		}
		b.newest = seq
	case int(uint16(b.newest-seq)) >= len(b.seqs):
		return nil
	}
	i := int(seq) & b.mask
	b.seqs[i] = uint32(seq)
	return &b.entries[i]
}

// Find returns the entry for seq, or nil if seq is not in the buffer.
func (b *seqBuffer[T]) Find(seq seqNum) *T {
	i := int(seq) & b.mask
	if b.seqs[i] != uint32(seq) {
		return nil
	}
	return &b.entries[i]
}

// Exists reports whether seq is in the buffer.
func (b *seqBuffer[T]) Exists(seq seqNum) bool { return b.seqs[int(seq)&b.mask] == uint32(seq) }

// Remove forgets seq. The entry's value stays in place for reuse.
func (b *seqBuffer[T]) Remove(seq seqNum) {
	i := int(seq) & b.mask
	if b.seqs[i] == uint32(seq) {
		b.seqs[i] = emptySlot
	}
}

// seqWindowSize is how many sequence numbers a seqWindow tracks.
const seqWindowSize = 256

// seqWindow remembers which of the newest seqWindowSize sequence numbers
// were seen: the endpoint's record of received packets, to drop duplicates.
// It is a bitmap of fixed size (32 bytes) whatever the peer sends: a
// sequence number far ahead only moves the window.
//
// The zero value is an empty window. A seqWindow is not safe for concurrent
// use.
type seqWindow struct {
	bits    [seqWindowSize / 64]uint64 // bit s%seqWindowSize: s was seen
	newest  seqNum
	started bool
}

// Exists reports whether seq was seen and is still in the window.
func (w *seqWindow) Exists(seq seqNum) bool {
	if !w.started || seq.Newer(w.newest) || int(uint16(w.newest-seq)) >= seqWindowSize {
		return false
	}
	return w.bits[windowWord(seq)]&windowBit(seq) != 0
}

// windowWord and windowBit locate seq's bit in a seqWindow.
func windowWord(seq seqNum) uint  { return uint(seq) % seqWindowSize / 64 }
func windowBit(seq seqNum) uint64 { return 1 << (uint(seq) % 64) }

// Insert records seq as seen and reports true, or reports false when seq
// is too old to be tracked (seqWindowSize or more before the newest).
// Inserting a newer seq forgets the ones it pushes out of the window.
func (w *seqWindow) Insert(seq seqNum) bool {
	switch {
	case !w.started:
		w.started, w.newest = true, seq
		w.bits = [seqWindowSize / 64]uint64{}
	case seq.Newer(w.newest):
		if gap := int(uint16(seq - w.newest)); gap >= seqWindowSize {
			w.bits = [seqWindowSize / 64]uint64{}
		} else {
			for s := w.newest + 1; s != seq; s++ {
				w.bits[windowWord(s)] &^= windowBit(s)
			}
		}
		w.newest = seq
	case int(uint16(w.newest-seq)) >= seqWindowSize:
		return false
	}
	w.bits[windowWord(seq)] |= windowBit(seq)
	return true
}
