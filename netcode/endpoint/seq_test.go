package endpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSeqNewer(t *testing.T) {
	tests := []struct {
		s, than seqNum
		want    bool
	}{
		{1, 0, true},
		{0, 1, false},
		{5, 5, false},
		{0, 65535, true}, // across the wrap
		{65535, 0, false},
		{10, 65530, true},
		{65530, 10, false},
		{32767, 0, true},
		{32768, 0, true}, // exactly half: the larger value is newer
		{0, 32768, false},
		{32769, 0, false}, // more than half ahead reads as behind
		{0, 32769, true},
		{65535, 32767, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.s.Newer(tt.than), "seqNum(%d).Newer(%d)", tt.s, tt.than)
		assert.Equal(t, tt.want, MessageID(tt.s).Newer(MessageID(tt.than)), "MessageID(%d).Newer(%d)", tt.s, tt.than)
	}
}

func TestSeqDiff(t *testing.T) {
	tests := []struct {
		s, o seqNum
		want int
	}{
		{0, 0, 0},
		{1, 0, 1},
		{0, 1, -1},
		{1, 65535, 2},
		{65535, 1, -2},
		{0, 65535, 1},
		{100, 65000, 636},
		{32767, 0, 32767},
		{32768, 0, -32768},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.s.Diff(tt.o), "seqNum(%d).Diff(%d)", tt.s, tt.o)
		assert.Equal(t, tt.want, MessageID(tt.s).Diff(MessageID(tt.o)), "MessageID(%d).Diff(%d)", tt.s, tt.o)
	}
}

// TestSeqNewerIsStrictOrder checks that for every pair of distinct values
// exactly one is newer, around the whole circle.
func TestSeqNewerIsStrictOrder(t *testing.T) {
	for _, base := range []seqNum{0, 1, 32767, 32768, 65534, 65535} {
		for d := 1; d < 1<<16; d += 97 {
			a, b := base, base+seqNum(d)
			if a.Newer(b) == b.Newer(a) {
				t.Fatalf("seqNum(%d) and seqNum(%d): Newer is %v both ways", a, b, a.Newer(b))
			}
		}
	}
}
