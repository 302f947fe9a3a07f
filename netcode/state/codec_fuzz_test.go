package state

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeSnapshot feeds arbitrary payloads to a decoder, with and without
// a baseline: the single-kind testSchema one when kinds is false, the
// three-kind kindsCfg one when it is true. It must never panic, must return
// one of the package's sentinel errors, must hold no more than MaxEntities
// entities of memory, and whatever it accepts must be a valid snapshot that
// encodes back to an equal one.
func FuzzDecodeSnapshot(f *testing.F) {
	type codec struct {
		cfg  CodecConfig
		enc  *Encoder // re-encodes what the decoder accepted
		dec  *Decoder
		base *Snapshot
		dst  *Snapshot // reused, as a client reuses it
	}
	single := codec{cfg: CodecConfig{Schema: testSchema, MaxEntities: 64}}
	multi := codec{cfg: kindsCfg}
	multi.cfg.MaxEntities = 64
	for _, c := range []*codec{&single, &multi} {
		c.enc, c.dec = newCodec(f, c.cfg)
		c.dst = &Snapshot{}
	}
	single.base = snap(10, ent(1, 100, 200, -5, 5, 7, 1, -1, 1), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(9, 65535))
	multi.base = ksnap(10, player(1, 10, 20, true, 2, 100), bullet(5, -3, 4, 7, -7), pickup(9, 4), pickup(12, 0))

	seed := func(c *codec, kinds bool, seeds ...*Snapshot) {
		for _, s := range seeds {
			for _, b := range []*Snapshot{nil, c.base} {
				p, err := c.enc.Encode(nil, s, b)
				require.NoError(f, err)
				f.Add(kinds, p)
			}
		}
	}
	seed(&single, false,
		snap(11),
		snap(11, ent(1, 101, 199, -5, 5, 7, 1, -1, 1), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(9, 65535)),
		snap(11, ent(0, 1), ent(5, 9, 9, 9), ent(77, 65535, 0, 2047, -2048, 255, 1, -1, -1)),
		snap(12, ent(-1, 3)),
	)
	seed(&multi, true,
		ksnap(11),
		ksnap(11, player(1, 10.5, 20, false, 2, 99), bullet(5, -3, 4.5, 7, -7), pickup(9, 4), pickup(12, 0)),
		ksnap(11, player(1, 10, 20, true, 2, 100), pickup(5, 1), bullet(9, 1000, -1000, -2048, 2047), player(12, 0, 0, false, 1, 0)),
		ksnap(11, pickup(0, 3), bullet(6, 0, 0, 0, 0), player(1<<31, -1000, 1000, true, 0, 127)),
	)
	f.Add(false, []byte{0x93, 0x01, 0xc0, 0xc4, 0x00})
	f.Add(true, []byte{0x93, 0x01, 0xc0, 0xc4, 0x01, 0x01})

	f.Fuzz(func(t *testing.T, kinds bool, payload []byte) {
		c := &single
		if kinds {
			c = &multi
		}
		dst := c.dst
		h, err := c.dec.Decode(dst, payload, c.base)
		maxN := c.cfg.MaxEntities
		// Memory stays bounded whatever the input: slices grow by
		// doubling, so at most twice what MaxEntities entities need.
		require.LessOrEqual(t, cap(dst.IDs), 2*maxN)
		require.LessOrEqual(t, cap(dst.Values), 2*maxN*c.cfg.Stride())
		require.LessOrEqual(t, cap(c.dec.added.IDs), 2*maxN)
		if err != nil {
			if !errors.Is(err, ErrMalformedSnapshot) && !errors.Is(err, ErrMissingBaseline) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		require.LessOrEqual(t, dst.Len(), maxN)
		var b *Snapshot
		if h.Delta {
			b = c.base
		}
		p, err := c.enc.Encode(nil, dst, b)
		require.NoError(t, err, "a decoded snapshot is valid")
		again := &Snapshot{}
		_, err = c.dec.Decode(again, p, c.base)
		require.NoError(t, err)
		require.True(t, dst.Equal(again))
	})
}
