package state

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Three kinds of mixed field types; the stride is the player's 5 fields.
var (
	kindPlayer = Kind{Name: "player", Fields: []Field{
		FloatField("x", -1000, 1000, 0.01), // 18 bits
		FloatField("y", -1000, 1000, 0.01), // 18 bits
		BoolField("alive"),                 // 1 bit
		EnumField("team", 3),               // 2 bits
		IntField("hp", 7, false),           // 7 bits
	}}
	kindBullet = Kind{Name: "bullet", Fields: []Field{
		FloatField("x", -1000, 1000, 0.01),
		FloatField("y", -1000, 1000, 0.01),
		IntField("vx", 12, true),
		IntField("vy", 12, true),
	}}
	kindPickup = Kind{Name: "pickup", Fields: []Field{
		EnumField("item", 5), // 3 bits
	}}
	kindsCfg = CodecConfig{Kinds: []Kind{kindPlayer, kindBullet, kindPickup}}
)

const (
	kPlayer uint8 = iota
	kBullet
	kPickup
)

type kent struct {
	id   uint32
	kind uint8
	f    []int32
}

func ksnap(tick uint32, ents ...kent) *Snapshot {
	s := NewSnapshot(tick, kindsCfg.Stride(), len(ents))
	for _, e := range ents {
		copy(s.AddKind(e.id, e.kind), e.f)
	}
	return s
}

func player(id uint32, x, y float64, alive bool, team, hp int) kent {
	f := kindPlayer.Fields
	return kent{id, kPlayer, []int32{f[0].PutFloat(x), f[1].PutFloat(y), f[2].PutBool(alive), f[3].PutInt(team), f[4].PutInt(hp)}}
}

func bullet(id uint32, x, y float64, vx, vy int) kent {
	f := kindBullet.Fields
	return kent{id, kBullet, []int32{f[0].PutFloat(x), f[1].PutFloat(y), f[2].PutInt(vx), f[3].PutInt(vy)}}
}

func pickup(id uint32, item int) kent {
	return kent{id, kPickup, []int32{kindPickup.Fields[0].PutInt(item)}}
}

// bodyBits returns the length in bytes of a payload's bit-packed body.
func bodyLen(t *testing.T, d *Decoder, payload []byte) int {
	t.Helper()
	_, body, err := d.readEnvelope(payload)
	require.NoError(t, err)
	return len(body)
}

// envelope wraps a hand-written body (baseline < 0: a full snapshot).
func envelope(tick uint32, baseline int64, write func(w *bitWriter)) []byte {
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

func TestKindsRoundTrip(t *testing.T) {
	base := ksnap(10,
		player(1, 10.5, -20.25, true, 2, 100),
		player(2, -1000, 1000, false, 0, 0),
		bullet(10, 1, 2, -2048, 2047),
		pickup(20, 4),
		pickup(21, 0),
	)
	tests := []struct {
		name string
		cur  *Snapshot
	}{
		{"empty", ksnap(11)},
		{"unchanged", func() *Snapshot { s := base.Clone(); s.Tick = 11; return s }()},
		{"player moves and dies", ksnap(11,
			player(1, 10.6, -20.25, false, 2, 99),
			player(2, -1000, 1000, false, 0, 0),
			bullet(10, 1, 2, -2048, 2047),
			pickup(20, 4),
			pickup(21, 0),
		)},
		{"bullet gone, new bullet, pickup taken", ksnap(11,
			player(1, 10.5, -20.25, true, 2, 100),
			player(2, -1000, 1000, false, 0, 0),
			bullet(11, 3, 4, 5, 6),
			pickup(21, 0),
		)},
		{"kinds change", ksnap(11,
			player(1, 10.5, -20.25, true, 2, 100),
			pickup(2, 3),                 // was a player
			player(10, 1, 2, true, 1, 1), // was a bullet, same x and y
			bullet(20, 0, 0, 0, 0),       // was a pickup
			pickup(21, 0),
		)},
		{"all new", ksnap(11, pickup(0, 1), bullet(math.MaxUint32, 1000, -1000, 0, 0))},
	}
	enc, dec := newCodec(t, kindsCfg)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, b := range []*Snapshot{nil, base} {
				payload, err := enc.Encode(nil, tt.cur, b)
				require.NoError(t, err)
				got := &Snapshot{}
				h, err := dec.Decode(got, payload, base)
				require.NoError(t, err)
				assert.Equal(t, b != nil, h.Delta)
				assert.True(t, tt.cur.Equal(got), "delta=%v\nwant %+v\ngot  %+v", b != nil, tt.cur, got)
				for i := range got.Len() {
					assert.Equal(t, tt.cur.Kinds[i], got.Kinds[i], "entity %d", got.IDs[i])
				}
			}
		})
	}

	// What the client reads back, by meaning.
	payload, err := enc.Encode(nil, tests[2].cur, base)
	require.NoError(t, err)
	got := &Snapshot{}
	_, err = dec.Decode(got, payload, base)
	require.NoError(t, err)
	i, ok := got.Find(1)
	require.True(t, ok)
	f, pf := got.Fields(i), kindPlayer.Fields
	assert.Equal(t, kPlayer, got.Kind(i))
	assert.InDelta(t, 10.6, pf[0].Float(f[0]), 1e-9)
	assert.InDelta(t, -20.25, pf[1].Float(f[1]), 1e-9)
	assert.False(t, pf[2].Bool(f[2]))
	assert.Equal(t, 2, pf[3].Int(f[3]))
	assert.Equal(t, 99, pf[4].Int(f[4]))
}

// TestKindBitsSpent checks the exact body size: a kind costs
// ceil(log2 kinds) bits when an entity appears, and only the entity's own
// kind's fields are sent.
func TestKindBitsSpent(t *testing.T) {
	enc, dec := newCodec(t, kindsCfg)
	base := ksnap(1, pickup(3, 2), player(5, 1, 1, true, 1, 50))
	tests := []struct {
		name string
		cur  *Snapshot
		base *Snapshot
		bits int
	}{
		// count 5 + id gap 5 + kind 2 + item 3.
		{"full pickup", ksnap(2, pickup(3, 4)), nil, 5 + 5 + 2 + 3},
		// count 5 + id gap 5 + kind 2 + 18 + 18 + 1 + 2 + 7.
		{"full player", ksnap(2, player(0, 1, 2, true, 2, 127)), nil, 5 + 5 + 2 + 46},
		{"full bullet", ksnap(2, bullet(0, 1, 2, 3, 4)), nil, 5 + 5 + 2 + 60},
		// removed count 5 + added count 5 + 1 bit per unchanged entity.
		{"delta unchanged", ksnap(2, pickup(3, 2), player(5, 1, 1, true, 1, 50)), base, 5 + 5 + 2},
		// The pickup's bit, then the changed player: 1, x 1, y 1, alive
		// changed 2 + its 1 bit absolute, team 1, hp 1.
		{"delta alive flips", ksnap(2, pickup(3, 2), player(5, 1, 1, false, 1, 50)), base, 5 + 5 + 1 + (1 + 1 + 1 + 3 + 1 + 1)},
		// The pickup becomes a bullet: removed count 5 + its index 5, added
		// count 5 + id gap 5 + kind 2 + bullet 60, and the player's bit.
		{"delta kind change", ksnap(2, bullet(3, 0, 0, 0, 0), player(5, 1, 1, true, 1, 50)), base, 10 + 10 + 2 + 60 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, err := enc.Encode(nil, tt.cur, tt.base)
			require.NoError(t, err)
			assert.Equal(t, (tt.bits+7)/8, bodyLen(t, dec, payload), "%d bits", tt.bits)
			got := &Snapshot{}
			_, err = dec.Decode(got, payload, base)
			require.NoError(t, err)
			assert.True(t, tt.cur.Equal(got))
		})
	}
}

// TestSingleKindWireUnchanged pins the bytes of a single-kind stream to what
// the codec wrote before kinds existed, for a Schema and for the same fields
// as the only Kind.
func TestSingleKindWireUnchanged(t *testing.T) {
	base := snap(10, ent(1, 100, 200, -5, 5, 7, 1, -1, 1), ent(5, 1, 2, 3, 4, 5, 0, 6, 7), ent(9, 65535, 0, 2047, -2048, 255, 1, math.MinInt32, -1))
	cur := snap(11, ent(0, 1), ent(1, 101, 199, -5, 5, 7, 0, -1, 1), ent(9, 0, 65535, -2048, 2047, 0, 0, math.MaxInt32, 0), ent(77, 3, 4))
	// Written by the encoder of commit 21738a2.
	const (
		wantFull  = "930bc0c4450404000000002000020000000004000000006500c700fb578007feffffff020000000e00c0ff3f00fc3f80ffffff7f00000080490600080000100001000000000200000000"
		wantDelta = "930b0ac43a21081000000000800008000000001000000080930100020000044000000000800000000013058c0300fcff3f00fcff03ecffffffff0100000000"
	)
	for _, cfg := range []CodecConfig{{Schema: testSchema}, {Kinds: []Kind{{Name: "only", Fields: testSchema.Fields}}}} {
		enc, dec := newCodec(t, cfg)
		for _, tc := range []struct {
			base *Snapshot
			want string
		}{{nil, wantFull}, {base, wantDelta}} {
			p, err := enc.Encode(nil, cur, tc.base)
			require.NoError(t, err)
			assert.Equal(t, tc.want, hex.EncodeToString(p), "kinds=%d delta=%v", len(cfg.Kinds), tc.base != nil)
			got := &Snapshot{}
			_, err = dec.Decode(got, p, base)
			require.NoError(t, err)
			assert.True(t, cur.Equal(got))
		}
	}
}

func TestKindsEncodeErrors(t *testing.T) {
	enc, _ := newCodec(t, kindsCfg)
	withKinds := func(s *Snapshot, kinds ...uint8) *Snapshot { s.Kinds = kinds; return s }
	padded := ksnap(1, pickup(4, 1))
	padded.Fields(0)[1] = 7
	tests := []struct {
		name      string
		s         *Snapshot
		msg       string
		badAsBase bool
	}{
		{"unknown kind", withKinds(ksnap(1, pickup(4, 1)), 3), "tick 1 entity 4 has kind 3, want 0..2", true},
		{"kinds length", withKinds(ksnap(1, pickup(4, 1), pickup(5, 1)), 2), "has 1 kinds for 2 entities, want one per entity or none", true},
		{"padding", padded, `entity 4 (kind 2 "pickup") slot 1 is 7, want 0: the kind has 1 fields`, false},
		{"enum out of range", ksnap(1, player(1, 0, 0, true, 3, 1)), `tick 1 entity 1 (kind 0 "player") field 3 ("team") is 3, outside [0, 2] for an enum of 3 values`, false},
		{"float above its levels", ksnap(1, kent{7, kBullet, []int32{200001}}), `entity 7 (kind 1 "bullet") field 0 ("x") is 200001, outside [0, 200000] for a float in [-1000, 1000] step 0.01`, false},
		{"float negative", ksnap(1, kent{7, kBullet, []int32{-1}}), `field 0 ("x") is -1, outside [0, 200000]`, false},
		{"bool 2", ksnap(1, kent{7, kPlayer, []int32{0, 0, 2}}), `field 2 ("alive") is 2, outside [0, 1] for a bool`, false},
		{"signed int", ksnap(1, bullet(7, 0, 0, 2048, 0)), `field 2 ("vx") is 2048, outside [-2048, 2047] for 12 bits signed=true`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := enc.Encode([]byte("keep"), tt.s, nil)
			require.ErrorIs(t, err, ErrInvalidSnapshot)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, "keep", string(out))
			if tt.badAsBase {
				_, err = enc.Encode(nil, ksnap(2), tt.s)
				require.ErrorIs(t, err, ErrInvalidSnapshot, "as a baseline")
				assert.Contains(t, err.Error(), "baseline: ")
			}
		})
	}

	// In a delta, padding of a kept entity is caught too, even when its
	// fields did not change.
	base := ksnap(1, pickup(4, 1))
	cur := ksnap(2, pickup(4, 1))
	cur.Fields(0)[4] = -1
	_, err := enc.Encode(nil, cur, base)
	require.ErrorIs(t, err, ErrInvalidSnapshot)
	assert.Contains(t, err.Error(), "slot 4 is -1, want 0")
	// Padding in a baseline is not looked at: only the kind's fields are.
	base.Fields(0)[3] = 9
	cur.Fields(0)[4] = 0
	p, err := enc.Encode(nil, cur, base)
	require.NoError(t, err)
	_, dec := newCodec(t, kindsCfg)
	got := &Snapshot{}
	_, err = dec.Decode(got, p, base)
	require.NoError(t, err)
	assert.True(t, cur.Equal(got), "the decoder copies only the kind's fields")
}

func TestKindsDecodeMalformed(t *testing.T) {
	cfg := kindsCfg
	cfg.MaxEntities = 8
	enc, dec := newCodec(t, cfg)
	base := ksnap(1, player(1, 0, 0, true, 0, 10), pickup(2, 1))
	valid, err := enc.Encode(nil, ksnap(2, player(1, 1, 0, true, 0, 10), bullet(3, 0, 0, 1, 1)), base)
	require.NoError(t, err)

	tests := []struct {
		name    string
		payload []byte
		msg     string
	}{
		{"unknown kind", envelope(2, -1, func(w *bitWriter) {
			w.writeVarint(1)
			w.writeVarint(0)
			w.writeBits(3, 2) // kind 3 of 3
			w.writeBits(0, 64)
		}), "entity 0 has kind 3, want 0..2"},
		{"enum past its values", envelope(2, -1, func(w *bitWriter) {
			w.writeVarint(1)
			w.writeVarint(4)
			w.writeBits(uint64(kPickup), 2)
			w.writeBits(7, 3) // item 7 of 5
		}), `entity 4 field 0 ("item"): value 7 outside [0, 4]`},
		{"added float past its levels", envelope(2, 1, func(w *bitWriter) {
			w.writeVarint(0)
			w.writeVarint(1)
			w.writeVarint(5)
			w.writeBits(uint64(kBullet), 2)
			w.writeBits(1<<18-1, 18) // x level 262143 of 200000
			w.writeBits(0, 18+24)
			w.writeBits(0, 2) // kept entities unchanged
		}), `entity 5 field 0 ("x"): value 262143 outside [0, 200000]`},
		{"kept float absolute past its levels", envelope(2, 1, func(w *bitWriter) {
			w.writeVarint(0)
			w.writeVarint(0)
			w.writeBits(1, 1)    // player 1 changed
			w.writeBits(0b11, 2) // x changed, absolute
			w.writeBits(200001, 18)
			w.writeBits(0, 4) // the other four fields unchanged
			w.writeBits(0, 1) // pickup unchanged
		}), "entity 1 field 0: value 200001 outside [0, 200000]"},
		{"kept enum delta past its values", envelope(2, 1, func(w *bitWriter) {
			w.writeVarint(0)
			w.writeVarint(0)
			w.writeBits(0, 1)    // player unchanged
			w.writeBits(1, 1)    // pickup changed
			w.writeBits(0b01, 2) // item changed by delta
			w.writeVarint(zigzag(4))
		}), "entity 2 field 0: value 5 outside [0, 4]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dec.Decode(&Snapshot{}, tt.payload, base)
			require.ErrorIs(t, err, ErrMalformedSnapshot)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}

	// Every truncation of a valid multi-kind payload fails cleanly.
	for n := range len(valid) {
		_, err := dec.Decode(&Snapshot{}, valid[:n], base)
		require.ErrorIs(t, err, ErrMalformedSnapshot, "prefix of %d bytes", n)
	}

	// A baseline with kinds the config lacks is refused, not indexed.
	bad := base.Clone()
	bad.Kinds[1] = 5
	_, err = dec.Decode(&Snapshot{}, valid, bad)
	require.ErrorIs(t, err, ErrInvalidSnapshot)
	assert.Contains(t, err.Error(), "baseline: state: invalid snapshot: tick 1 entity 2 has kind 5, want 0..2")
	bad.Kinds = bad.Kinds[:1]
	_, err = dec.Decode(&Snapshot{}, valid, bad)
	require.ErrorIs(t, err, ErrInvalidSnapshot)
	assert.Contains(t, err.Error(), "1 kinds for 2 entities")
}

func TestCodecConfigKinds(t *testing.T) {
	many := make([]Kind, MaxKinds+1)
	for i := range many {
		many[i] = Kind{Fields: []Field{BoolField("b")}}
	}
	tests := []struct {
		name string
		cfg  CodecConfig
		msg  string
	}{
		{"both", CodecConfig{Schema: testSchema, Kinds: kindsCfg.Kinds}, "CodecConfig has both Schema (8 fields) and Kinds (3), want one of them"},
		{"none", CodecConfig{}, "Schema.Fields has 0 fields, want 1..256 (or set CodecConfig.Kinds)"},
		{"too many kinds", CodecConfig{Kinds: many}, "CodecConfig.Kinds has 257 kinds, want 1..256"},
		{"kind without fields", CodecConfig{Kinds: []Kind{kindPlayer, {Name: "ghost"}}}, `Kinds[1] ("ghost").Fields has 0 fields, want 1..256`},
		{"kind with bad field", CodecConfig{Kinds: []Kind{kindPlayer, {Name: "crate", Fields: []Field{BoolField("open"), EnumField("color", 1)}}}},
			`Kinds[1] ("crate").Fields[1] ("color"): EnumField has 1 values, want 2..2147483647`},
		{"kind with bad float", CodecConfig{Kinds: []Kind{{Name: "p", Fields: []Field{FloatField("x", 0, 1e12, 1e-3)}}}},
			`Kinds[0] ("p").Fields[0] ("x"): FloatField range [0, 1e+12] at precision 0.001 needs 1e+15 levels, more than 31 bits hold`},
		{"kind with 0-bit int", CodecConfig{Kinds: []Kind{{Name: "p", Fields: []Field{{Name: "hp"}}}}}, `Kinds[0] ("p").Fields[0] ("hp").Bits is 0, want 1..32`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.msg)
			_, err = NewEncoder(tt.cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
			_, err = NewDecoder(tt.cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}

	assert.Equal(t, 5, kindsCfg.Stride())
	assert.Equal(t, 3, kindsCfg.NumKinds())
	assert.Equal(t, 8, CodecConfig{Schema: testSchema}.Stride())
	assert.Equal(t, 1, CodecConfig{Schema: testSchema}.NumKinds())

	// 256 kinds: 8 bits of kind, and kind 255 round-trips.
	cfg := CodecConfig{Kinds: many[:MaxKinds]}
	cfg.Kinds[255] = Kind{Name: "last", Fields: []Field{EnumField("e", 3), BoolField("b")}}
	enc, dec := newCodec(t, cfg)
	s := NewSnapshot(1, cfg.Stride(), 2)
	s.AddKind(1, 0)[0] = 1
	f := s.AddKind(2, 255)
	f[0], f[1] = 2, 1
	p, err := enc.Encode(nil, s, nil)
	require.NoError(t, err)
	assert.Equal(t, (5+5+8+1+5+8+3+7)/8, bodyLen(t, dec, p))
	got := &Snapshot{}
	_, err = dec.Decode(got, p, nil)
	require.NoError(t, err)
	assert.True(t, s.Equal(got))
}

func TestSnapshotKinds(t *testing.T) {
	// A snapshot built without kinds is all kind 0; AddKind fills them in.
	s := &Snapshot{Tick: 1, Stride: 2, IDs: []uint32{1, 2}, Values: []int32{10, 11, 20, 21}}
	assert.Equal(t, uint8(0), s.Kind(1))
	plain := s.Clone()
	copy(s.AddKind(3, 2), []int32{30, 31})
	assert.Equal(t, []uint8{0, 0, 2}, s.Kinds)
	s.Add(4)
	assert.Equal(t, []uint8{0, 0, 2, 0}, s.Kinds)

	// Equal treats an empty Kinds as zeros.
	zeros := plain.Clone()
	zeros.Kinds = []uint8{0, 0}
	assert.True(t, plain.Equal(zeros))
	assert.True(t, zeros.Equal(plain))
	zeros.Kinds[1] = 1
	assert.False(t, plain.Equal(zeros))
	assert.False(t, zeros.Equal(plain))

	// Reset keeps no kinds; CopyFrom copies them.
	var c Snapshot
	c.CopyFrom(s)
	assert.True(t, c.Equal(s))
	assert.Equal(t, s.Kinds, c.Kinds)
	c.Reset(2, 2)
	assert.Empty(t, c.Kinds)
}

func TestSnapshotSortKeepsKinds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		stride int
	}{{"permSort", 50, 3}, {"stable", maxPermSort + 10, 3}, {"wide", 50, maxPermStride + 1}} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Snapshot{}
			s.Reset(1, tc.stride)
			for i := range tc.n {
				id := uint32((i * 7919) % tc.n) // a permutation
				f := s.AddKind(id, uint8(id%3))
				f[0] = int32(id) * 10
			}
			s.Sort()
			for i := range tc.n {
				require.Equal(t, uint32(i), s.IDs[i])
				require.Equal(t, int32(i)*10, s.Fields(i)[0])
				require.Equal(t, uint8(i%3), s.Kind(i), "index %d", i)
			}
		})
	}
	// A Kinds shorter than the entities is filled with zeros, then sorted.
	s := &Snapshot{Tick: 1, Stride: 1, IDs: []uint32{3, 1, 2}, Values: []int32{30, 10, 20}, Kinds: []uint8{2}}
	s.Sort()
	assert.Equal(t, []uint32{1, 2, 3}, s.IDs)
	assert.Equal(t, []uint8{0, 0, 2}, s.Kinds)
}

// TestInterpolatorKinds: each kind uses its own modes, an entity whose kind
// changed is drawn at its new values, and the Frame carries the kinds.
func TestInterpolatorKinds(t *testing.T) {
	ip, err := NewInterpolator(InterpolatorConfig{
		TickInterval: tick60,
		Stride:       kindsCfg.Stride(),
		KindFields:   [][]FieldInterp{kindPlayer.Interp(), nil, kindPickup.Interp()},
		Delay:        2 * tick60,
		JitterFactor: -1,
	})
	require.NoError(t, err)
	assert.Equal(t, []FieldInterp{{}, {}, {Mode: InterpStep}, {Mode: InterpStep}, {}}, kindPlayer.Interp())

	now := time.Unix(0, 0)
	a := ksnap(10, kent{1, kPlayer, []int32{100, 200, 1, 0, 50}}, kent{2, kBullet, []int32{0, 0, 10}}, kent{3, kPickup, []int32{4}})
	b := ksnap(12, kent{1, kPlayer, []int32{200, 400, 0, 2, 40}}, kent{2, kPickup, []int32{1}}, kent{3, kPickup, []int32{2}})
	require.True(t, ip.Add(now, a))
	require.True(t, ip.Add(now, b))
	var f Frame
	ip.Sample(13*tick60, &f) // render tick 11: halfway
	require.Equal(t, []uint32{1, 2, 3}, f.IDs)
	assert.Equal(t, []uint8{kPlayer, kPickup, kPickup}, f.Kinds)
	assert.Equal(t, kPickup, f.Kind(1))
	assert.InDelta(t, 0.5, f.Alpha, 1e-9)
	assert.Equal(t, []float64{150, 300, 1, 0, 45}, f.Fields(0), "x, y, hp linear; alive, team step")
	assert.Equal(t, []float64{1, 0, 0, 0, 0}, f.Fields(1), "kind changed: the new values")
	assert.Equal(t, []float64{4, 0, 0, 0, 0}, f.Fields(2), "the pickup's enum steps")

	// A snapshot whose Kinds has the wrong length is refused.
	bad := ksnap(14, pickup(1, 1))
	bad.Kinds = append(bad.Kinds, 0)
	assert.False(t, ip.Add(now, bad))
	assert.Equal(t, uint64(1), ip.Stats().Invalid)

	tooLong := make([]FieldInterp, kindsCfg.Stride()+1)
	_, err = NewInterpolator(InterpolatorConfig{TickInterval: tick60, Stride: kindsCfg.Stride(), KindFields: [][]FieldInterp{tooLong}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), "InterpolatorConfig.KindFields[0] has 6 entries, want at most Stride (5)")
	_, err = NewInterpolator(InterpolatorConfig{TickInterval: tick60, Stride: 5, KindFields: [][]FieldInterp{nil, {{Mode: InterpAngle}}}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), "InterpolatorConfig.KindFields[1][0].Bits is 0, want 1..31 for InterpAngle")
	_, err = NewInterpolator(InterpolatorConfig{TickInterval: tick60, Stride: 5, KindFields: make([][]FieldInterp, MaxKinds+1)})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.True(t, strings.Contains(err.Error(), "KindFields has 257 entries"), err.Error())
}

// benchKindsSnapshots returns a baseline and a current snapshot of n
// entities of kindsCfg (a tenth players, six tenths bullets, the rest
// pickups); in cur, moving of them moved and one in fifty changed kind.
func benchKindsSnapshots(n, moving int) (base, cur *Snapshot) {
	rng := rand.New(rand.NewPCG(5, 6))
	base = NewSnapshot(100, kindsCfg.Stride(), n)
	entity := func(s *Snapshot, id uint32, kind uint8) {
		f := s.AddKind(id, kind)
		for k, fd := range kindsCfg.Kinds[kind].Fields {
			f[k] = randomValue(rng, fd)
		}
	}
	for i := range n {
		kind := kBullet
		switch {
		case i%10 == 0:
			kind = kPlayer
		case i%10 >= 7:
			kind = kPickup
		}
		entity(base, uint32(i+1), kind)
	}
	cur = NewSnapshot(103, kindsCfg.Stride(), n)
	for i := range n {
		if i%50 == 49 {
			entity(cur, base.IDs[i], (base.Kind(i)+1)%3)
			continue
		}
		copy(cur.AddKind(base.IDs[i], base.Kind(i)), base.Fields(i))
	}
	x := kindPlayer.Fields[0]
	for i := range moving {
		j := i * (n / moving)
		if k := cur.Kind(j); k == kPlayer || k == kBullet {
			f := cur.Fields(j)
			f[0] = x.PutFloat(x.Float(f[0]) + 0.07)
			f[1] = x.PutFloat(x.Float(f[1]) - 0.03)
		}
	}
	return base, cur
}

func BenchmarkEncodeKinds(b *testing.B) {
	base, cur := benchKindsSnapshots(1000, 100)
	benchEncode(b, kindsCfg, base, cur)
}

func BenchmarkDecodeKinds(b *testing.B) {
	base, cur := benchKindsSnapshots(1000, 100)
	benchDecode(b, kindsCfg, base, cur)
}

// TestKindsHotPathsDoNotAllocate locks in zero allocations after warm-up
// for multi-kind encoding, decoding and interpolation.
func TestKindsHotPathsDoNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	base, cur := benchKindsSnapshots(300, 30)
	enc, dec := newCodec(t, kindsCfg)
	buf := make([]byte, 0, 16<<10)
	full, err := enc.Encode(nil, base, nil)
	require.NoError(t, err)
	delta, err := enc.Encode(nil, cur, base)
	require.NoError(t, err)
	got := &Snapshot{}
	_, err = dec.Decode(got, delta, base)
	require.NoError(t, err)
	require.True(t, cur.Equal(got))
	ip, err := NewInterpolator(InterpolatorConfig{
		TickInterval: tick60, Stride: kindsCfg.Stride(),
		KindFields: [][]FieldInterp{kindPlayer.Interp(), kindBullet.Interp(), kindPickup.Interp()},
	})
	require.NoError(t, err)
	var f Frame
	now := time.Unix(0, 0)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Encode full", func() { buf, _ = enc.Encode(buf[:0], cur, nil) }},
		{"Encode delta", func() { buf, _ = enc.Encode(buf[:0], cur, base) }},
		{"Decode full", func() { _, _ = dec.Decode(got, full, nil) }},
		{"Decode delta", func() { _, _ = dec.Decode(got, delta, base) }},
		{"Interpolator", func() {
			now = now.Add(tick60 * 2)
			base.Tick += 2
			ip.Add(now, base)
			cur.Tick = base.Tick + 1
			ip.Add(now, cur)
			ip.Sample(time.Duration(cur.Tick)*tick60, &f)
		}},
	}
	for _, tt := range tests {
		for range 20 { // warm-up: the Interpolator fills its buffer
			tt.fn()
		}
		assert.Zero(t, testing.AllocsPerRun(20, tt.fn), tt.name)
	}
}
