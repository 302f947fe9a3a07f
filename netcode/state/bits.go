package state

import "encoding/binary"

// bitWriter appends bits, least significant first, to a byte slice. The zero
// value writes into a nil slice; reset it to reuse a buffer.
type bitWriter struct {
	buf []byte
	acc uint64 // pending bits, fewer than 32 between calls
	n   uint   // number of pending bits
}

func (w *bitWriter) reset(buf []byte) {
	w.buf, w.acc, w.n = buf, 0, 0
}

// writeBits writes the low bits of v; bits must be at most 32.
func (w *bitWriter) writeBits(v uint64, bits uint) {
	if bits == 0 {
		return
	}
	w.acc |= (v & (1<<bits - 1)) << w.n
	w.n += bits
	if w.n >= 32 {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// pos returns the number of bits written since reset.
func (w *bitWriter) pos() uint { return uint(len(w.buf))*8 + w.n }

// since returns the bits written from position p on (pos() - p of them,
// at most 64), least significant first; the bits above them are 0.
func (w *bitWriter) since(p uint) uint64 {
	flushed := uint(len(w.buf)) * 8
	if p >= flushed {
		return w.acc >> (p - flushed)
	}
	// At most 64 flushed bits from p: 9 bytes at most.
	var b [16]byte
	copy(b[:], w.buf[p>>3:])
	off := p & 7
	v := binary.LittleEndian.Uint64(b[:8]) >> off
	if off > 0 {
		v |= uint64(b[8]) << (64 - off)
	}
	if got := flushed - p; got < 64 {
		v |= w.acc << got
	}
	return v
}

// writeLong writes the low bits of v; bits may be up to 64.
func (w *bitWriter) writeLong(v uint64, bits uint) {
	if bits > 32 {
		w.writeBits(v, 32)
		v, bits = v>>32, bits-32
	}
	w.writeBits(v, bits)
}

func (w *bitWriter) writeBool(b bool) {
	if b {
		w.writeBits(1, 1)
	} else {
		w.writeBits(0, 1)
	}
}

// varintChunk is the number of value bits in each group of a bit varint;
// every group is followed by one "more groups follow" bit.
const varintChunk = 4

// writeVarint writes v as groups of varintChunk bits, low group first, each
// followed by a continuation bit: values below 16 cost 5 bits.
func (w *bitWriter) writeVarint(v uint64) {
	for {
		w.writeBits(v, varintChunk)
		v >>= varintChunk
		if v == 0 {
			w.writeBits(0, 1)
			return
		}
		w.writeBits(1, 1)
	}
}

// varintBits returns how many bits writeVarint spends on v.
func varintBits(v uint64) uint {
	n := uint(varintChunk + 1)
	for v >>= varintChunk; v != 0; v >>= varintChunk {
		n += varintChunk + 1
	}
	return n
}

// finish flushes the last partial byte (zero padded) and returns the buffer.
func (w *bitWriter) finish() []byte {
	for w.n > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= min(w.n, 8)
	}
	return w.buf
}

// bitReader reads what bitWriter wrote. Reading past the end sets a sticky
// failure flag and returns zeros, so decoders check ok() once in a while
// instead of after every read; it never panics.
type bitReader struct {
	buf  []byte
	pos  uint // in bits
	fail bool
}

func (r *bitReader) reset(buf []byte) {
	r.buf, r.pos, r.fail = buf, 0, false
}

func (r *bitReader) ok() bool { return !r.fail }

func (r *bitReader) remaining() uint {
	return uint(len(r.buf))*8 - r.pos
}

// readBits reads bits (at most 32) bits.
func (r *bitReader) readBits(bits uint) uint64 {
	if r.fail || bits > r.remaining() {
		r.fail = true
		return 0
	}
	if i := r.pos >> 3; i+8 <= uint(len(r.buf)) {
		v := binary.LittleEndian.Uint64(r.buf[i:]) >> (r.pos & 7)
		r.pos += bits
		return v & (1<<bits - 1)
	}
	var v uint64
	got := uint(0)
	for got < bits {
		off := r.pos & 7
		take := min(8-off, bits-got)
		b := (uint64(r.buf[r.pos>>3]) >> off) & (1<<take - 1)
		v |= b << got
		got += take
		r.pos += take
	}
	return v
}

func (r *bitReader) readBool() bool { return r.readBits(1) == 1 }

// readVarint reads a writeVarint value; more than 64 value bits is a failure.
func (r *bitReader) readVarint() uint64 {
	var v uint64
	for shift := uint(0); ; shift += varintChunk {
		if shift >= 64 {
			r.fail = true
			return 0
		}
		v |= r.readBits(varintChunk) << shift
		if r.fail || !r.readBool() {
			return v
		}
	}
}

// done reports whether the whole buffer was consumed, up to zero padding in
// the last byte.
func (r *bitReader) done() bool {
	if r.fail || r.remaining() >= 8 {
		return false
	}
	if rem := r.remaining(); rem > 0 {
		return r.buf[len(r.buf)-1]>>(8-rem) == 0
	}
	return true
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
