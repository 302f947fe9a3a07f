package endpoint

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flushed returns copies of the packets one Flush of e emits at now.
func flushed(e *Endpoint, now time.Time) [][]byte {
	var out [][]byte
	e.Flush(now, func(p []byte) { out = append(out, bytes.Clone(p)) })
	return out
}

func TestAckBitsAfterReorderAndLoss(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := NewEndpoint(Config{}, now)
	require.NoError(t, err)
	b, err := NewEndpoint(Config{AckDelay: NoAckDelay}, now)
	require.NoError(t, err)
	var packets [][]byte
	for range 70 {
		a.Ping()
		packets = append(packets, flushed(a, now)...)
	}
	require.Len(t, packets, 70)
	// b receives 60..69 in a scrambled order, and some older ones late;
	// 64 and 40 never arrive.
	order := []int{61, 60, 66, 65, 69, 67, 68, 63, 62, 50, 37, 36, 30}
	for _, i := range order {
		require.NoError(t, b.Receive(now, packets[i]))
	}
	reply := flushed(b, now)
	require.Len(t, reply, 1)
	h, _, err := parseHeader(reply[0])
	require.NoError(t, err)
	assert.True(t, h.HasAck)
	assert.Equal(t, seqNum(69), h.Ack)
	var want uint32
	for _, i := range order {
		if d := 69 - i; d >= 1 && d <= 32 {
			want |= 1 << (d - 1)
		}
	}
	assert.Equal(t, want, h.AckBits, "got %032b want %032b", h.AckBits, want)

	require.NoError(t, a.Receive(now, reply[0]))
	assert.Equal(t, uint64(11), a.Stats().PacketsAcked, "36 and 30 are too old for the ack bits")
}
