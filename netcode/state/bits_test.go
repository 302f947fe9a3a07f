package state

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBitWriterReaderRoundTrip(t *testing.T) {
	type item struct {
		varint bool
		v      uint64
		bits   uint
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var items []item
	for range 2000 {
		if rng.IntN(3) == 0 {
			v := rng.Uint64() >> rng.UintN(64)
			items = append(items, item{varint: true, v: v})
			continue
		}
		bits := 1 + rng.UintN(32)
		items = append(items, item{v: rng.Uint64() & (1<<bits - 1), bits: bits})
	}
	var w bitWriter
	total := uint(0)
	for _, it := range items {
		if it.varint {
			w.writeVarint(it.v)
			total += varintBits(it.v)
		} else {
			w.writeBits(it.v, it.bits)
			total += it.bits
		}
	}
	buf := w.finish()
	require.Len(t, buf, int((total+7)/8))
	var r bitReader
	r.reset(buf)
	for i, it := range items {
		var got uint64
		if it.varint {
			got = r.readVarint()
		} else {
			got = r.readBits(it.bits)
		}
		require.Equal(t, it.v, got, "item %d", i)
	}
	assert.True(t, r.done())
	r.readBits(8)
	assert.False(t, r.ok(), "reading past the end fails")
}

func TestVarintBits(t *testing.T) {
	tests := []struct {
		v    uint64
		want uint
	}{
		{0, 5}, {15, 5}, {16, 10}, {255, 10}, {256, 15}, {math.MaxUint64, 80},
	}
	for _, tt := range tests {
		var w bitWriter
		w.writeVarint(tt.v)
		assert.Equal(t, tt.want, varintBits(tt.v), "varintBits(%d)", tt.v)
		assert.Equal(t, tt.want, uint(len(w.buf))*8+w.n, "written bits for %d", tt.v)
	}
}

func TestBitReaderRejectsOverlongVarint(t *testing.T) {
	var r bitReader
	r.reset([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	r.readVarint()
	assert.False(t, r.ok())
}

func TestBitReaderDoneRejectsNonZeroPadding(t *testing.T) {
	var r bitReader
	r.reset([]byte{0b1000_0001})
	assert.Equal(t, uint64(1), r.readBits(1))
	assert.False(t, r.done(), "a set padding bit is trailing data")
	r.reset([]byte{0b0000_0001})
	r.readBits(1)
	assert.True(t, r.done())
}

func TestZigzag(t *testing.T) {
	tests := []struct {
		v    int64
		want uint64
	}{
		{0, 0}, {-1, 1}, {1, 2}, {-2, 3}, {math.MaxInt64, math.MaxUint64 - 1}, {math.MinInt64, math.MaxUint64},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, zigzag(tt.v), "zigzag(%d)", tt.v)
		assert.Equal(t, tt.v, unzigzag(tt.want), "unzigzag(%d)", tt.want)
	}
}

// TestBitWriterSince: since returns the bits written after a position, as
// writeLong writes them back, across flushed and pending bits alike.
func TestBitWriterSince(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var w, copied bitWriter
	for i := range 5000 {
		p := w.pos()
		// A run of writes of at most 64 bits in all, from any alignment.
		n := uint(0)
		for n < 64 && rng.IntN(4) != 0 {
			bits := 1 + rng.UintN(min(32, 64-n))
			w.writeBits(rng.Uint64(), bits)
			n += bits
		}
		require.Equal(t, p+n, w.pos(), "write %d", i)
		got := w.since(p)
		if n < 64 {
			require.Zero(t, got>>n, "write %d: bits above the %d written", i, n)
		}
		copied.writeLong(got, n)
		require.Equal(t, w.pos(), copied.pos())
	}
	assert.Equal(t, w.finish(), copied.finish(), "the bits since each position, written again, are the same stream")
}
