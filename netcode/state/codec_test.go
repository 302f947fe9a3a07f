package state

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSchema covers narrow and wide, signed and unsigned fields.
var testSchema = Schema{Fields: []Field{
	{Name: "x", Bits: 16},
	{Name: "y", Bits: 16},
	{Name: "vx", Bits: 12, Signed: true},
	{Name: "vy", Bits: 12, Signed: true},
	{Name: "angle", Bits: 8},
	{Name: "flag", Bits: 1},
	{Name: "s32", Bits: 32, Signed: true},
	{Name: "u32", Bits: 32},
}}

func newCodec(t testing.TB, cfg CodecConfig) (*Encoder, *Decoder) {
	t.Helper()
	enc, err := NewEncoder(cfg)
	require.NoError(t, err)
	dec, err := NewDecoder(cfg)
	require.NoError(t, err)
	return enc, dec
}

// snap builds a snapshot of testSchema from id → fields.
func snap(tick uint32, ents ...[]int32) *Snapshot {
	s := NewSnapshot(tick, testSchema.NumFields(), len(ents))
	for _, e := range ents {
		copy(s.Add(uint32(e[0])), e[1:])
	}
	return s
}

func ent(id int32, f ...int32) []int32 {
	out := append([]int32{id}, f...)
	for len(out) < 1+testSchema.NumFields() {
		out = append(out, 0)
	}
	return out
}

func TestCodecRoundTrip(t *testing.T) {
	base := snap(10, ent(1, 100, 200, -5, 5, 7, 1, -1, 1), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(9, 65535, 0, 2047, -2048, 255, 1, math.MinInt32, -1))
	tests := []struct {
		name string
		cur  *Snapshot
	}{
		{"empty", snap(11)},
		{"unchanged", func() *Snapshot { s := base.Clone(); s.Tick = 11; return s }()},
		{"small changes", snap(11, ent(1, 101, 199, -5, 5, 7, 1, -1, 1), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(9, 65534, 0, 2047, -2048, 255, 1, math.MinInt32, -1))},
		{"big changes", snap(11, ent(1, 65535, 0, 2047, -2048, 0, 0, math.MaxInt32, math.MinInt32), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(9, 0, 65535, -2048, 2047, 0, 0, math.MaxInt32, 0))},
		{"added and removed", snap(11, ent(0, 1), ent(2, 2), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(6, 3), ent(math.MaxUint32>>1, 4))},
		{"all removed, new ones", snap(11, ent(100), ent(200))},
		{"max id", snap(11, ent(-1, 9))}, // id 0xffffffff
	}
	enc, dec := newCodec(t, CodecConfig{Schema: testSchema})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, b := range []*Snapshot{nil, base} {
				payload, err := enc.Encode(nil, tt.cur, b)
				require.NoError(t, err)
				got := &Snapshot{}
				h, err := dec.Decode(got, payload, base)
				require.NoError(t, err)
				assert.Equal(t, tt.cur.Tick, h.Tick)
				assert.Equal(t, b != nil, h.Delta)
				if b != nil {
					assert.Equal(t, base.Tick, h.Baseline)
				}
				assert.True(t, tt.cur.Equal(got), "delta=%v\nwant %+v\ngot  %+v", b != nil, tt.cur, got)
			}
		})
	}
}

func TestCodecUnchangedCostsABit(t *testing.T) {
	const n = 1000
	rng := rand.New(rand.NewPCG(1, 1))
	base := NewSnapshot(1, testSchema.NumFields(), n)
	for i := range n {
		f := base.Add(uint32(i * 3))
		f[0], f[1] = rng.Int32N(65536), rng.Int32N(65536)
	}
	cur := base.Clone()
	cur.Tick = 2
	enc, _ := newCodec(t, CodecConfig{Schema: testSchema})
	payload, err := enc.Encode(nil, cur, base)
	require.NoError(t, err)
	// 1 bit per entity, two 5-bit counts, a few bytes of envelope.
	assert.LessOrEqual(t, len(payload), n/8+2+10, "an unchanged entity costs one bit")

	// Change one field of every entity by 1: 1 bit entity + 7 unchanged
	// fields at 1 bit + the changed one at 2+5 bits.
	for i := range n {
		cur.Fields(i)[0] ^= 1
	}
	payload, err = enc.Encode(nil, cur, base)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(payload), n*15/8+2+10)
}

func TestEncodeRejectsInvalidSnapshots(t *testing.T) {
	enc, _ := newCodec(t, CodecConfig{Schema: testSchema, MaxEntities: 2})
	tests := []struct {
		name      string
		s         *Snapshot
		msg       string
		badAsBase bool // only the shape of a baseline is checked
	}{
		{"unsorted", snap(1, ent(2), ent(1)), "IDs not strictly increasing at index 1 (1 after 2)", true},
		{"duplicate", snap(1, ent(2), ent(2)), "not strictly increasing", true},
		{"too many", snap(1, ent(1), ent(2), ent(3)), "3 entities, MaxEntities is 2", true},
		{"x too big", snap(1, ent(1, 65536)), `field 0 ("x") is 65536, outside [0, 65535]`, false},
		{"x negative", snap(1, ent(1, -1)), `field 0 ("x") is -1`, false},
		{"vx too small", snap(1, ent(1, 0, 0, -2049)), `field 2 ("vx") is -2049, outside [-2048, 2047]`, false},
		{"flag 2", snap(1, ent(1, 0, 0, 0, 0, 0, 2)), `("flag") is 2`, false},
		{"wrong stride", &Snapshot{Tick: 1, Stride: 3}, "Stride 3, schema has 8 fields", true},
		{"short values", &Snapshot{Tick: 1, Stride: 8, IDs: []uint32{1}}, "0 values for 1 entities", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := enc.Encode(dst, tt.s, nil)
			require.ErrorIs(t, err, ErrInvalidSnapshot)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, "keep", string(out))
			if tt.badAsBase {
				_, err = enc.Encode(nil, snap(2), tt.s)
				require.ErrorIs(t, err, ErrInvalidSnapshot, "as a baseline")
			}
		})
	}
}

func TestEncodeDeltaChecksWrittenValues(t *testing.T) {
	enc, _ := newCodec(t, CodecConfig{Schema: testSchema})
	base := snap(1, ent(1, 10), ent(2, 20))
	tests := []struct {
		name string
		cur  *Snapshot
		msg  string
	}{
		{"changed field", snap(2, ent(1, 65536), ent(2, 20)), `tick 2 entity 1 field 0 ("x") is 65536`},
		{"added entity", snap(2, ent(1, 10), ent(2, 20), ent(3, 0, 0, 0, 0, 0, 5)), `entity 3 field 5 ("flag") is 5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := enc.Encode(nil, tt.cur, base)
			require.ErrorIs(t, err, ErrInvalidSnapshot)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Empty(t, out)
		})
	}
	// The encoder is still usable after an error.
	cur := snap(2, ent(1, 11), ent(2, 20))
	p, err := enc.Encode(nil, cur, base)
	require.NoError(t, err)
	got := &Snapshot{}
	_, dec := newCodec(t, CodecConfig{Schema: testSchema})
	_, err = dec.Decode(got, p, base)
	require.NoError(t, err)
	assert.True(t, cur.Equal(got))
}

func TestSnapshotSort(t *testing.T) {
	s := snap(1, ent(5, 50), ent(1, 10), ent(3, 30))
	s.Sort()
	assert.Equal(t, []uint32{1, 3, 5}, s.IDs)
	for i, want := range []int32{10, 30, 50} {
		assert.Equal(t, want, s.Fields(i)[0])
	}
	i, ok := s.Find(3)
	assert.True(t, ok)
	assert.Equal(t, 1, i)
	_, ok = s.Find(4)
	assert.False(t, ok)
}

func TestDecodeMissingBaseline(t *testing.T) {
	enc, dec := newCodec(t, CodecConfig{Schema: testSchema})
	base := snap(7, ent(1, 1))
	cur := snap(8, ent(1, 2))
	payload, err := enc.Encode(nil, cur, base)
	require.NoError(t, err)

	_, err = dec.Decode(&Snapshot{}, payload, nil)
	require.ErrorIs(t, err, ErrMissingBaseline)
	assert.EqualError(t, err, "state: missing baseline snapshot: tick 8 is a delta against tick 7, have none")

	_, err = dec.Decode(&Snapshot{}, payload, snap(6, ent(1, 1)))
	require.ErrorIs(t, err, ErrMissingBaseline)
	assert.Contains(t, err.Error(), "have 6")

	h, err := dec.ReadHeader(payload)
	require.NoError(t, err)
	assert.Equal(t, Header{Tick: 8, Baseline: 7, Delta: true}, h)

	// History: a client that never received tick 7 gets the same error.
	hist, err := NewHistory(8)
	require.NoError(t, err)
	_, err = hist.Decode(dec, payload)
	require.ErrorIs(t, err, ErrMissingBaseline)
	require.True(t, hist.Put(base))
	got, err := hist.Decode(dec, payload)
	require.NoError(t, err)
	assert.True(t, cur.Equal(got))
}

func TestDecodeMalformed(t *testing.T) {
	enc, dec := newCodec(t, CodecConfig{Schema: testSchema, MaxEntities: 4})
	base := snap(1, ent(1, 10), ent(2, 20))
	full, err := enc.Encode(nil, snap(2, ent(1, 11), ent(3, 30)), nil)
	require.NoError(t, err)
	delta, err := enc.Encode(nil, snap(2, ent(1, 11), ent(3, 30)), base)
	require.NoError(t, err)

	// body builds an envelope around a hand-written body.
	body := func(tick uint32, baseline int64, write func(w *bitWriter)) []byte {
		var w bitWriter
		write(&w)
		b := w.finish()
		out := []byte{0x93, 0xce, byte(tick >> 24), byte(tick >> 16), byte(tick >> 8), byte(tick)}
		if baseline < 0 {
			out = append(out, 0xc0)
		} else {
			out = append(out, 0xce, byte(baseline>>24), byte(baseline>>16), byte(baseline>>8), byte(baseline))
		}
		out = append(out, 0xc4, byte(len(b)))
		return append(out, b...)
	}
	tests := []struct {
		name    string
		payload []byte
		msg     string
	}{
		{"empty", nil, "envelope"},
		{"not an array", []byte{0x01}, "envelope"},
		{"wrong length", []byte{0x92, 0x01, 0xc0}, "envelope has 2 elements"},
		{"tick not a number", []byte{0x93, 0xa1, 'x', 0xc0, 0xc4, 0x00}, "tick"},
		{"tick too big", []byte{0x93, 0xcf, 1, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xc4, 0x00}, "tick: out of range"},
		{"baseline string", []byte{0x93, 0x01, 0xa1, 'x', 0xc4, 0x00}, "baseline"},
		{"body missing", []byte{0x93, 0x01, 0xc0}, "body"},
		{"body too long", []byte{0x93, 0x01, 0xc0, 0xc4, 0x05, 0x00}, "body of 5 bytes with 1 bytes left"},
		{"trailing bytes", append(append([]byte{}, full...), 0), "body of"},
		{"truncated full", full[:len(full)-1], "body of"},
		{"empty body", []byte{0x93, 0x01, 0xc0, 0xc4, 0x00}, "truncated"},
		{"too many entities", body(1, -1, func(w *bitWriter) { w.writeVarint(5) }), "entity count 5, limit 4"},
		{"count beyond bits", body(1, -1, func(w *bitWriter) { w.writeVarint(3) }), "needs more than"},
		{"id overflow", body(1, -1, func(w *bitWriter) {
			w.writeVarint(2)
			w.writeVarint(math.MaxUint32)
			w.writeBits(0, 64)
			w.writeBits(0, 64)
			w.writeVarint(0)
			w.writeBits(0, 64)
			w.writeBits(0, 64)
		}), "overflows uint32"},
		{"trailing bits", body(1, -1, func(w *bitWriter) { w.writeVarint(0); w.writeBits(1, 1) }), "trailing data"},
		{"trailing byte", body(1, -1, func(w *bitWriter) { w.writeVarint(0); w.writeBits(0, 8) }), "trailing data"},
		{"too many removed", body(2, 1, func(w *bitWriter) { w.writeVarint(3) }), "removed count 3, limit 2"},
		{"removed index out of range", body(2, 1, func(w *bitWriter) { w.writeVarint(1); w.writeVarint(2) }), "removed index"},
		{"added beyond max", body(2, 1, func(w *bitWriter) { w.writeVarint(0); w.writeVarint(3) }), "added count 3, limit 2"},
		{"added already in baseline", body(2, 1, func(w *bitWriter) {
			w.writeVarint(0)
			w.writeVarint(1)
			w.writeVarint(1) // id 1
			w.writeBits(0, 64)
			w.writeBits(0, 64)
			w.writeBits(0, 2)
		}), "already in the baseline"},
		{"delta out of range", body(2, 1, func(w *bitWriter) {
			w.writeVarint(0)
			w.writeVarint(0)
			w.writeBits(1, 1)          // entity 1 changed
			w.writeBits(0b01, 2)       // x changed by delta
			w.writeVarint(zigzag(-11)) // 10 - 11 < 0
			w.writeBits(0, 7)
			w.writeBits(0, 1)
		}), "value -1 outside [0, 65535]"},
		{"truncated delta", delta[:len(delta)-1], "body of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dec.Decode(&Snapshot{}, tt.payload, base)
			require.ErrorIs(t, err, ErrMalformedSnapshot)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestCodecConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  CodecConfig
		msg  string
	}{
		{"no fields", CodecConfig{}, "Schema.Fields has 0 fields, want 1..256"},
		{"zero bits", CodecConfig{Schema: Schema{Fields: []Field{{Name: "x"}}}}, `Schema.Fields[0] ("x").Bits is 0, want 1..32`},
		{"33 bits", CodecConfig{Schema: Schema{Fields: []Field{{Name: "x", Bits: 33}}}}, "Bits is 33"},
		{"negative max", CodecConfig{Schema: testSchema, MaxEntities: -1}, "CodecConfig.MaxEntities is -1"},
		{"huge max", CodecConfig{Schema: testSchema, MaxEntities: MaxMaxEntities + 1}, "CodecConfig.MaxEntities is 1048577"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEncoder(tt.cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.msg)
			_, err = NewDecoder(tt.cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
}

// benchSnapshots returns a baseline and a current snapshot of n entities, of
// which moving changed position since the baseline.
func benchSnapshots(n, moving int) (base, cur *Snapshot) {
	rng := rand.New(rand.NewPCG(5, 6))
	base = NewSnapshot(100, testSchema.NumFields(), n)
	for i := range n {
		f := base.Add(uint32(i + 1))
		f[0], f[1], f[4] = rng.Int32N(65536), rng.Int32N(65536), rng.Int32N(256)
	}
	cur = base.Clone()
	cur.Tick = 103
	for i := range moving {
		f := cur.Fields(i * (n / moving))
		f[0] = min(f[0]+7, 65535)
		f[1] = max(f[1]-3, 0)
	}
	return base, cur
}

func BenchmarkEncode(b *testing.B) {
	base, cur := benchSnapshots(1000, 100)
	benchEncode(b, CodecConfig{Schema: testSchema}, base, cur)
}

// benchEncode measures encoding cur in full and as a delta against base.
func benchEncode(b *testing.B, cfg CodecConfig, base, cur *Snapshot) {
	enc, err := NewEncoder(cfg)
	require.NoError(b, err)
	for _, bc := range []struct {
		name string
		base *Snapshot
	}{{"full", nil}, {"delta", base}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64<<10)
			var n int
			for b.Loop() {
				out, err := enc.Encode(buf[:0], cur, bc.base)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "bytes/snapshot")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	base, cur := benchSnapshots(1000, 100)
	benchDecode(b, CodecConfig{Schema: testSchema}, base, cur)
}

// benchDecode measures decoding cur's full and delta (against base)
// payloads into a reused snapshot.
func benchDecode(b *testing.B, cfg CodecConfig, base, cur *Snapshot) {
	enc, dec := newCodec(b, cfg)
	for _, bc := range []struct {
		name string
		base *Snapshot
	}{{"full", nil}, {"delta", base}} {
		b.Run(bc.name, func(b *testing.B) {
			payload, err := enc.Encode(nil, cur, bc.base)
			require.NoError(b, err)
			dst := &Snapshot{}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dec.Decode(dst, payload, base); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHotPathsDoNotAllocate locks in zero allocations after warm-up for the
// per-snapshot and per-frame calls.
func TestHotPathsDoNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	base, cur := benchSnapshots(200, 20)
	enc, dec := newCodec(t, CodecConfig{Schema: testSchema})
	buf := make([]byte, 0, 16<<10)
	full, err := enc.Encode(nil, base, nil)
	require.NoError(t, err)
	delta, err := enc.Encode(nil, cur, base)
	require.NoError(t, err)
	hist, err := NewHistory(8)
	require.NoError(t, err)
	dst := &Snapshot{}
	tracker, err := NewBaselineTracker(8)
	require.NoError(t, err)
	ip, err := NewInterpolator(InterpolatorConfig{TickInterval: tick60, Stride: testSchema.NumFields()})
	require.NoError(t, err)
	var f Frame
	now := time.Unix(0, 0)

	tests := []struct {
		name string
		fn   func()
	}{
		{"Encode full", func() { buf, _ = enc.Encode(buf[:0], cur, nil) }},
		{"Encode delta", func() { buf, _ = enc.Encode(buf[:0], cur, base) }},
		{"Decode full", func() { _, _ = dec.Decode(dst, full, nil) }},
		{"Decode delta", func() { _, _ = dec.Decode(dst, delta, base) }},
		{"History.Decode", func() {
			hist.Clear()
			_, _ = hist.Decode(dec, full)
			_, _ = hist.Decode(dec, delta)
		}},
		{"BaselineTracker", func() {
			tracker.Sent(cur)
			tracker.Ack(cur.Tick)
			_ = tracker.Baseline()
		}},
		{"Interpolator", func() {
			now = now.Add(tick60 * 2)
			cur.Tick += 2
			ip.Add(now, cur)
			ip.Sample(time.Duration(cur.Tick)*tick60, &f)
		}},
	}
	for _, tt := range tests {
		tt.fn() // warm-up
		tt.fn()
		assert.Zero(t, testing.AllocsPerRun(20, tt.fn), tt.name)
	}
}

// TestSnapshotSortRandom checks Sort against a reference order on random
// snapshots of every size around the fast path's bound, with repeated IDs
// (which keep their order) and several strides.
func TestSnapshotSortRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 3, 17, 100, maxPermSort, maxPermSort + 1, 2000} {
		for _, stride := range []int{0, 1, 4, maxPermStride + 1} {
			s := &Snapshot{}
			s.Reset(1, stride)
			type ent struct {
				id     uint32
				fields []int32
			}
			var want []ent
			for i := range n {
				id := rng.Uint32N(uint32(n + 1))
				f := s.Add(id)
				for k := range f {
					f[k] = int32(i*100 + k) // identifies the entity
				}
				want = append(want, ent{id, slices.Clone(f)})
			}
			slices.SortStableFunc(want, func(a, b ent) int { return cmp.Compare(a.id, b.id) })
			s.Sort()
			require.Len(t, s.IDs, n)
			for i, w := range want {
				require.Equal(t, w.id, s.IDs[i], "n=%d stride=%d index %d", n, stride, i)
				require.Equal(t, w.fields, s.Fields(i), "n=%d stride=%d index %d", n, stride, i)
			}
		}
	}
}

func BenchmarkSnapshotSort(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := &Snapshot{}
	src.Reset(1, 4)
	for range 30 {
		f := src.Add(rng.Uint32())
		f[0] = 1
	}
	var s Snapshot
	b.ReportAllocs()
	for b.Loop() {
		s.CopyFrom(src)
		s.Sort()
	}
}
