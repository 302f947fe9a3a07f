package endpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSequenceBufferSizeRoundsUp(t *testing.T) {
	assert.Equal(t, 1, newSeqBuffer[int](1).Len())
	assert.Equal(t, 64, newSeqBuffer[int](33).Len())
	assert.Equal(t, 1<<15, newSeqBuffer[int](1<<15).Len())
	assert.Panics(t, func() { newSeqBuffer[int](0) })
	assert.Panics(t, func() { newSeqBuffer[int](1<<15 + 1) })
}

func TestSequenceBufferInsertFind(t *testing.T) {
	b := newSeqBuffer[string](8)
	_, ok := b.Newest()
	assert.False(t, ok)
	assert.Nil(t, b.Find(0))

	*b.Insert(65534) = "a"
	*b.Insert(65535) = "b"
	*b.Insert(1) = "d" // skips 0 across the wrap
	newest, ok := b.Newest()
	require.True(t, ok)
	assert.Equal(t, seqNum(1), newest)
	assert.Equal(t, "a", *b.Find(65534))
	assert.Equal(t, "b", *b.Find(65535))
	assert.Nil(t, b.Find(0))
	assert.Equal(t, "d", *b.Find(1))

	*b.Insert(0) = "c" // late arrival, still in the window
	assert.Equal(t, "c", *b.Find(0))
	newest, _ = b.Newest()
	assert.Equal(t, seqNum(1), newest, "an older insert leaves Newest alone")

	// Moving the window forward by 7 pushes 65534 and 65535 out.
	*b.Insert(8) = "j"
	assert.Nil(t, b.Find(65534))
	assert.Nil(t, b.Find(65535))
	assert.True(t, b.Exists(1))
	assert.Nil(t, b.Insert(0), "0 is now 8 behind the newest: too old")
	assert.Nil(t, b.Find(6), "the slot of 65534 does not answer for 6")

	b.Remove(1)
	assert.False(t, b.Exists(1))
	b.Remove(1) // removing twice is harmless
}

func TestSequenceBufferJumpClearsAll(t *testing.T) {
	b := newSeqBuffer[int](4)
	for s := seqNum(10); s < 14; s++ {
		*b.Insert(s) = int(s)
	}
	*b.Insert(100) = 100
	for s := seqNum(10); s < 14; s++ {
		assert.False(t, b.Exists(s), "seq %d survived a jump of the window", s)
	}
	assert.Equal(t, 100, *b.Find(100))
	b.Reset()
	assert.False(t, b.Exists(100))
}

func TestSequenceBufferLongRunAcrossWrap(t *testing.T) {
	b := newSeqBuffer[seqNum](32)
	for i := range 70_000 {
		s := seqNum(i)
		p := b.Insert(s)
		require.NotNil(t, p)
		*p = s
		if old := s - 31; i >= 31 {
			require.Equal(t, old, *b.Find(old))
		}
		require.False(t, b.Exists(s-32))
	}
}
