package endpoint

import "time"

// The records of sent packets live in a ring that starts small and grows
// with the traffic, so that an idle connection costs little and a busy one
// still tracks up to sentPacketWindow packets. Only this endpoint's own
// sends make it grow: the peer's acks only look records up, and an ack of
// a packet never sent (or long forgotten) finds nothing.
//
// A packet's message references (which fragments of which messages it
// carried, for acks and loss detection) are kept in refLog, one ring
// shared by all records in the order the packets left, so that a record
// holds two integers instead of a slice of its own.

// recordSent returns the record for packet seq, about to leave at at,
// making room for it first.
func (e *Endpoint) recordSent(seq seqNum, at time.Duration) *sentPacket {
	old := e.sent.Occupant(seq)
	if old != nil && e.sent.Len() < sentPacketWindow && e.keepRecord(old, at) {
		e.growRecords(seq, at)
		old = e.sent.Occupant(seq)
	}
	if seq.Diff(e.lossFrom) >= e.sent.Len() {
		e.decideEvicted(seq)
	}
	if old != nil {
		e.sentRefs.release(old.refStart + uint32(old.refCount))
	}
	return e.sent.Insert(seq)
}

// keepRecord reports whether rec may still be acknowledged: its loss
// outcome is undecided, or it is unacknowledged and younger than keepFor.
func (e *Endpoint) keepRecord(rec *sentPacket, at time.Duration) bool {
	return !rec.decided || !rec.acked && at-rec.sentAt < e.keepFor
}

// growRecords grows the ring of sent records, up to sentPacketWindow,
// while the record that packet seq would overwrite may still be
// acknowledged (keepRecord): its loss outcome is undecided, or it is
// unacknowledged and younger than keepFor (twice the loss delay), so that
// a late ack still finds it. The ring starts at initialSentRecords (64),
// so the records of the last 63 packets are always kept whatever their
// age: a peer's ack header covers 33 packets. An older record is
// overwritten: a peer that acknowledges it now gains nothing (what it
// carried was declared lost and sent again), and keeping it would let a
// peer that never acknowledges anything hold a full ring.
func (e *Endpoint) growRecords(seq seqNum, at time.Duration) {
	for e.sent.Len() < sentPacketWindow {
		if old := e.sent.Occupant(seq); old == nil || !e.keepRecord(old, at) {
			return
		}
		e.sent.Grow()
	}
}

// refLog is a ring of the message references of sent packets, in the
// order the packets left. Positions are counters that wrap at 2^32; the
// references of live records are those in [tail, head).
type refLog struct {
	refs       []msgRef // length a power of two, or nil
	head, tail uint32
}

const initialRefLog = 16

// push appends refs and returns the position of the first. The ring
// doubles when it is full: the references it holds belong to live records.
func (l *refLog) push(refs []msgRef) uint32 {
	start := l.head
	if len(refs) == 0 {
		return start
	}
	if need := int(l.head-l.tail) + len(refs); need > len(l.refs) {
		l.grow(need)
	}
	mask := len(l.refs) - 1
	for _, r := range refs {
		l.refs[int(l.head)&mask] = r
		l.head++
	}
	return start
}

// grow makes the ring hold at least need references, keeping those it
// holds at their positions.
func (l *refLog) grow(need int) {
	n := max(len(l.refs), initialRefLog)
	for n < need {
		n <<= 1
	}
	grown := make([]msgRef, n)
	for i := l.tail; i != l.head; i++ {
		grown[int(i)&(n-1)] = l.refs[int(i)&(len(l.refs)-1)]
	}
	l.refs = grown
}

// at returns the reference at position i, which must be in [tail, head).
func (l *refLog) at(i uint32) msgRef { return l.refs[int(i)&(len(l.refs)-1)] }

// release frees the references before end, the end of a record being
// overwritten. Records are overwritten oldest first.
func (l *refLog) release(end uint32) {
	if d := int32(end - l.tail); d > 0 && int32(l.head-end) >= 0 {
		l.tail = end
	}
}
