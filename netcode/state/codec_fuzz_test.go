package state

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeSnapshot feeds arbitrary payloads to the decoder, with and
// without a baseline. It must never panic, must return one of the package's
// sentinel errors, and whatever it accepts must be a valid snapshot that
// encodes back to an equal one.
func FuzzDecodeSnapshot(f *testing.F) {
	cfg := CodecConfig{Schema: testSchema, MaxEntities: 64}
	enc, dec := newCodec(f, cfg)
	base := snap(10, ent(1, 100, 200, -5, 5, 7, 1, -1, 1), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(9, 65535))
	seeds := []*Snapshot{
		snap(11),
		snap(11, ent(1, 101, 199, -5, 5, 7, 1, -1, 1), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(9, 65535)),
		snap(11, ent(0, 1), ent(5, 9, 9, 9), ent(77, 65535, 0, 2047, -2048, 255, 1, -1, -1)),
		snap(12, ent(-1, 3)),
	}
	for _, s := range seeds {
		for _, b := range []*Snapshot{nil, base} {
			p, err := enc.Encode(nil, s, b)
			require.NoError(f, err)
			f.Add(p)
		}
	}
	f.Add([]byte{0x93, 0x01, 0xc0, 0xc4, 0x00})
	re, err := NewEncoder(cfg)
	require.NoError(f, err)
	dst := &Snapshot{}
	f.Fuzz(func(t *testing.T, payload []byte) {
		h, err := dec.Decode(dst, payload, base)
		if err != nil {
			if !errors.Is(err, ErrMalformedSnapshot) && !errors.Is(err, ErrMissingBaseline) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		require.LessOrEqual(t, dst.Len(), cfg.MaxEntities)
		var b *Snapshot
		if h.Delta {
			b = base
		}
		p, err := re.Encode(nil, dst, b)
		require.NoError(t, err, "a decoded snapshot is valid")
		again := &Snapshot{}
		_, err = dec.Decode(again, p, base)
		require.NoError(t, err)
		require.True(t, dst.Equal(again))
	})
}
