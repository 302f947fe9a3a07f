package state

import (
	"fmt"
	"slices"
)

// History keeps the most recent snapshots by tick in a fixed ring of Size
// slots (tick mod Size), reusing their memory: the client keeps the
// snapshots it received (the baselines a delta may refer to), the server the
// ones it sent (the baselines a client may ack). A snapshot older than Size
// ticks before a stored one is evicted when that slot is reused.
//
// The zero History is not usable (NewHistory); a History is not safe for
// concurrent use.
type History struct {
	slots   []Snapshot
	used    []bool
	info    []slotInfo
	scratch Snapshot

	// The slot of the last Put and its layout, and the last layout
	// number given out.
	lastSlot   int
	lastLayout uint64
	layouts    uint64
	gens       uint64 // the snapshots stored so far
}

// slotInfo is what History learns of a snapshot once, when it stores it,
// so that encoding many views of it does not check the whole snapshot
// again for each view (ViewTracker.Encode).
type slotInfo struct {
	sorted  bool  // IDs strictly increasing
	maxKind uint8 // the largest of Kinds (0 when empty)
	// layout is the same in two slots only when their IDs and Kinds are
	// equal: a world index is then the same entity in both.
	layout uint64
	// gen tells apart the snapshots a slot held: it is new at every Put
	// and Decode.
	gen uint64
}

func infoOf(s *Snapshot) slotInfo {
	in := slotInfo{sorted: isStrictlySorted(s.IDs)}
	for _, k := range s.Kinds {
		in.maxKind = max(in.maxKind, k)
	}
	return in
}

// NewHistory returns a History of size slots (1..65536).
func NewHistory(size int) (*History, error) {
	if size < 1 || size > 1<<16 {
		return nil, fmt.Errorf("%w: History size is %d, want 1..65536", ErrInvalidConfig, size)
	}
	return &History{slots: make([]Snapshot, size), used: make([]bool, size), info: make([]slotInfo, size)}, nil
}

// Size returns the number of slots.
func (h *History) Size() int { return len(h.slots) }

func (h *History) slot(tick uint32) int { return int(tick % uint32(len(h.slots))) }

// Put stores a copy of s, evicting what its slot held. It does nothing and
// returns false when the slot holds a newer tick (s is too old to keep).
func (h *History) Put(s *Snapshot) bool {
	i := h.slot(s.Tick)
	if h.used[i] && h.slots[i].Tick > s.Tick {
		return false
	}
	// Same IDs and kinds as the last Put (still in its slot): same layout.
	last := &h.slots[h.lastSlot]
	same := h.lastLayout != 0 && h.used[h.lastSlot] && h.info[h.lastSlot].layout == h.lastLayout &&
		slices.Equal(last.IDs, s.IDs) && slices.Equal(last.Kinds, s.Kinds)
	h.slots[i].CopyFrom(s)
	h.used[i] = true
	h.info[i] = infoOf(&h.slots[i])
	if !same {
		h.layouts++
		h.lastLayout = h.layouts
	}
	h.info[i].layout = h.lastLayout
	h.gens++
	h.info[i].gen = h.gens
	h.lastSlot = i
	return true
}

// Get returns the stored snapshot of tick, which stays valid until its slot
// is reused. Do not modify it.
func (h *History) Get(tick uint32) (*Snapshot, bool) {
	i := h.slot(tick)
	if !h.used[i] || h.slots[i].Tick != tick {
		return nil, false
	}
	return &h.slots[i], true
}

// getInfo is Get with what Put learnt of the snapshot.
func (h *History) getInfo(tick uint32) (*Snapshot, slotInfo, bool) {
	i := h.slot(tick)
	if !h.used[i] || h.slots[i].Tick != tick {
		return nil, slotInfo{}, false
	}
	return &h.slots[i], h.info[i], true
}

// Clear forgets every snapshot, keeping the memory.
func (h *History) Clear() {
	clear(h.used)
	h.lastLayout = 0
}

// Decode decodes payload with d against the baseline it names (looked up in
// h), stores the result in h and returns it (valid until its slot is reused;
// do not modify it). A delta whose baseline is not in h returns an error
// wrapping ErrMissingBaseline, a payload older than what its slot holds one
// wrapping ErrStaleSnapshot; neither changes h. After warm-up it does not
// allocate.
func (h *History) Decode(d *Decoder, payload []byte) (*Snapshot, error) {
	hdr, err := d.ReadHeader(payload)
	if err != nil {
		return nil, err
	}
	i := h.slot(hdr.Tick)
	if h.used[i] && h.slots[i].Tick >= hdr.Tick {
		if h.slots[i].Tick == hdr.Tick {
			return &h.slots[i], nil // duplicate: already decoded
		}
		return nil, fmt.Errorf("%w: tick %d, history holds tick %d in its slot", ErrStaleSnapshot, hdr.Tick, h.slots[i].Tick)
	}
	var base *Snapshot
	if hdr.Delta {
		base, _ = h.Get(hdr.Baseline)
	}
	if _, err := d.Decode(&h.scratch, payload, base); err != nil {
		return nil, err
	}
	h.slots[i], h.scratch = h.scratch, h.slots[i]
	h.used[i] = true
	h.info[i] = infoOf(&h.slots[i])
	h.layouts++ // a layout of its own
	h.info[i].layout = h.layouts
	h.gens++
	h.info[i].gen = h.gens
	return &h.slots[i], nil
}

// BaselineTracker is the server's per-client record of sent and acknowledged
// snapshots: call Sent with every snapshot sent to the client, Ack when the
// transport reports the packet carrying a snapshot was received, and encode
// the next snapshot against Baseline (nil means send a full snapshot). The
// baseline is the newest acked snapshot still in the sent history, so a
// client that keeps a History at least as large as the server's always has
// it.
//
// The zero BaselineTracker is not usable (NewBaselineTracker); it is not safe
// for concurrent use.
type BaselineTracker struct {
	sent   *History
	acked  uint32
	hasAck bool
}

// NewBaselineTracker returns a tracker remembering the last size sent ticks.
func NewBaselineTracker(size int) (*BaselineTracker, error) {
	h, err := NewHistory(size)
	if err != nil {
		return nil, err
	}
	return &BaselineTracker{sent: h}, nil
}

// Sent records a copy of s as sent.
func (t *BaselineTracker) Sent(s *Snapshot) { t.sent.Put(s) }

// Ack records that the client received the snapshot of tick. Acks older
// than the newest one so far are ignored.
func (t *BaselineTracker) Ack(tick uint32) {
	if !t.hasAck || tick > t.acked {
		t.acked, t.hasAck = tick, true
	}
}

// Baseline returns the newest acked snapshot still remembered, or nil when
// there is none (no ack yet, or it was evicted): encode a full snapshot then.
func (t *BaselineTracker) Baseline() *Snapshot {
	if !t.hasAck {
		return nil
	}
	s, _ := t.sent.Get(t.acked)
	return s
}

// AckedTick returns the newest acked tick.
func (t *BaselineTracker) AckedTick() (uint32, bool) { return t.acked, t.hasAck }

// Reset forgets everything (for example after the client reconnects).
func (t *BaselineTracker) Reset() {
	t.sent.Clear()
	t.acked, t.hasAck = 0, false
}
