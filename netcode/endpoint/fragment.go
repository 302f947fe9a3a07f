package endpoint

import "time"

// reassembly collects the fragments of one message.
type reassembly struct {
	total    int
	count    int
	fragSize int
	got      int
	have     []uint64 // bit i: fragment i arrived
	buf      []byte   // the message, total bytes
	started  time.Duration
}

// start prepares r for a message described by its first-arriving fragment.
// buf is allocated here: fragmented messages are large and rare, and the
// caller has already charged total bytes against the reassembly budget.
func (r *reassembly) start(f *frame, at time.Duration) {
	r.total, r.count, r.fragSize, r.got = f.total, f.count, fragmentSize(f.total, f.count), 0
	words := (f.count + 63) / 64
	if cap(r.have) < words {
		r.have = make([]uint64, words)
	} else {
		r.have = r.have[:words]
		clear(r.have)
	}
	r.buf = make([]byte, f.total)
	r.started = at
}

// matches reports whether f describes the same message geometry as r.
func (r *reassembly) matches(f *frame) bool { return f.total == r.total && f.count == r.count }

// add copies f into place; it reports false when f arrived before.
func (r *reassembly) add(f *frame) bool {
	word, bit := f.index/64, uint64(1)<<(f.index%64)
	if r.have[word]&bit != 0 {
		return false
	}
	r.have[word] |= bit
	copy(r.buf[f.index*r.fragSize:], f.payload)
	r.got++
	return true
}

func (r *reassembly) complete() bool { return r.count > 0 && r.got == r.count }

// take hands the assembled message to the caller and resets r.
func (r *reassembly) take() []byte {
	b := r.buf
	r.reset()
	return b
}

func (r *reassembly) reset() {
	r.buf = nil
	r.total, r.count, r.got = 0, 0, 0
}

// partial is a fragmented message of an unreliable channel being reassembled.
type partial struct {
	active  bool
	channel int
	id      MessageID
	reassembly
}
