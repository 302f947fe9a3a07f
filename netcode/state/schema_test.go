package state

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFieldConstructorsBits(t *testing.T) {
	tests := []struct {
		name  string
		f     Field
		typ   FieldType
		bits  uint8
		lo    float64
		hi    float64
		step  float64
		level int32 // the top slot value
	}{
		{"int", IntField("hp", 7, false), FieldInt, 7, 0, 127, 1, 127},
		{"signed int", IntField("vx", 12, true), FieldInt, 12, -2048, 2047, 1, 2047},
		{"bool", BoolField("alive"), FieldBool, 1, 0, 1, 1, 1},
		{"enum 2", EnumField("e", 2), FieldEnum, 1, 0, 1, 1, 1},
		{"enum 3", EnumField("e", 3), FieldEnum, 2, 0, 2, 1, 2},
		{"enum 4", EnumField("e", 4), FieldEnum, 2, 0, 3, 1, 3},
		{"enum 5", EnumField("e", 5), FieldEnum, 3, 0, 4, 1, 4},
		{"enum 257", EnumField("e", 257), FieldEnum, 9, 0, 256, 1, 256},
		{"enum max", EnumField("e", math.MaxInt32), FieldEnum, 31, 0, math.MaxInt32 - 1, 1, math.MaxInt32 - 1},
		// 2000/0.01 is 200000.00000000003 in float64: the tolerance makes it
		// 200000 levels, not 200001.
		{"float", FloatField("x", -1000, 1000, 0.01), FieldFloat, 18, -1000, 1000, 0.01, 200000},
		// 1.1/0.1 is 11.000000000000002.
		{"float tolerance", FloatField("x", 0, 1.1, 0.1), FieldFloat, 4, 0, 1.1, 0.1, 11},
		// 1/0.3 is not an integer: 4 steps of 0.25, finer than asked.
		{"float finer", FloatField("x", 0, 1, 0.3), FieldFloat, 3, 0, 1, 0.25, 4},
		{"float coarse", FloatField("x", 0, 1, 5), FieldFloat, 1, 0, 1, 1, 1},
		{"float 31 bits", FloatField("x", 0, math.MaxInt32, 1), FieldFloat, 31, 0, math.MaxInt32, 1, math.MaxInt32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, Schema{Fields: []Field{tt.f}}.Validate())
			assert.Equal(t, tt.typ, tt.f.Type())
			assert.Equal(t, tt.bits, tt.f.Bits)
			lo, hi := tt.f.Range()
			assert.Equal(t, tt.lo, lo)
			assert.Equal(t, tt.hi, hi)
			assert.InDelta(t, tt.step, tt.f.Step(), 1e-12)
			assert.Equal(t, tt.level, tt.f.PutFloat(math.Inf(1)), "+Inf clamps to the top")
			assert.Equal(t, tt.hi, tt.f.Float(tt.level))
		})
	}
	assert.Equal(t, Field{Name: "x", Bits: 9, Signed: true}, IntField("x", 9, true), "IntField is the literal")
	assert.Equal(t, "float", FieldFloat.String())
	assert.Equal(t, "FieldType(9)", FieldType(9).String())
}

func TestFloatFieldRoundTrip(t *testing.T) {
	f := FloatField("x", -1000, 1000, 0.01)
	n := int32(200000)
	tests := []struct {
		v     float64
		level int32
		back  float64
	}{
		{-1000, 0, -1000},
		{1000, n, 1000},
		{0, n / 2, 0}, // the grid starts at a multiple of the step: 0 is exact
		{-999.99, 1, -999.99},
		{999.99, n - 1, 999.99},
		{-999.9951, 0, -1000},    // just below halfway
		{-999.9949, 1, -999.99},  // just above halfway
		{999.9951, n, 1000},      // just above halfway below Max
		{1000.0001, n, 1000},     // clamped
		{-1e300, 0, -1000},       // clamped
		{math.Inf(1), n, 1000},   // clamped
		{math.Inf(-1), 0, -1000}, // clamped
		{math.NaN(), 0, -1000},   // NaN is Min
		{12.345678, 101235, 12.35},
		{12.3449, 101234, 12.34},
		{12.3451, 101235, 12.35},
		{-0.004, n / 2, 0},       // rounds to the nearest level, 0
		{-0.006, n/2 - 1, -0.01}, // and the one below
		{999.9949999, n - 1, 999.99},
	}
	for _, tt := range tests {
		q := f.PutFloat(tt.v)
		assert.Equal(t, tt.level, q, "PutFloat(%v)", tt.v)
		assert.InDelta(t, tt.back, f.Float(q), 1e-9, "Float(PutFloat(%v))", tt.v)
	}
	// Halfway between two levels rounds toward Max (exact halves need a
	// binary step).
	h := FloatField("h", -4, 4, 1)
	assert.Equal(t, int32(7), h.PutFloat(2.5))
	assert.Equal(t, int32(4), h.PutFloat(-0.5))
	assert.Equal(t, int32(0), h.PutFloat(-3.5000001))

	// The ends are exact, and out-of-range levels clamp.
	assert.Equal(t, -1000.0, f.Float(0))
	assert.Equal(t, 1000.0, f.Float(n))
	assert.Equal(t, -1000.0, f.Float(-5))
	assert.Equal(t, 1000.0, f.Float(n+1))
	assert.Equal(t, -1000.0, f.FloatF(-0.5))
	assert.Equal(t, 1000.0, f.FloatF(float64(n)+0.5))
	assert.InDelta(t, 0.005, f.FloatF(float64(n/2)+0.5), 1e-9, "FloatF of a fractional level")

	// Every level near the edges and at random comes back to itself, and a
	// value comes back within half a step.
	rng := rand.New(rand.NewPCG(7, 8))
	check := func(q int32) {
		require.Equal(t, q, f.PutFloat(f.Float(q)), "level %d", q)
	}
	for q := range int32(1000) {
		check(q)
		check(n - q)
	}
	for range 100000 {
		q := rng.Int32N(n + 1)
		check(q)
		// A grid value is the float64 nearest to its decimal.
		require.Equal(t, float64(q-100000)/100, f.Float(q), "level %d", q)
		v := -1000 + 2000*rng.Float64()
		require.InDelta(t, v, f.Float(f.PutFloat(v)), f.Step()/2+1e-9, "value %v", v)
	}
}

func TestFloatFieldHugeRange(t *testing.T) {
	// min·N overflows: Float falls back to min + (max-min)·(l/N).
	f := FloatField("h", -math.MaxFloat64/4, math.MaxFloat64/4, math.MaxFloat64/1e6)
	require.NoError(t, Schema{Fields: []Field{f}}.Validate())
	for _, q := range []int32{0, 1, 250000, 499999, 500000} {
		v := f.Float(q)
		require.False(t, math.IsInf(v, 0) || math.IsNaN(v), "level %d", q)
		assert.Equal(t, q, f.PutFloat(v), "level %d", q)
	}
	assert.Equal(t, 0.0, f.Float(250000))
}

func TestFloatFieldUnevenRange(t *testing.T) {
	// A range the precision does not divide, with inexact bounds: 7 steps.
	f := FloatField("a", -0.1, 0.2, 0.05)
	require.NoError(t, Schema{Fields: []Field{f}}.Validate())
	n := int32(6)
	assert.InDelta(t, 0.05, f.Step(), 1e-15)
	assert.Equal(t, uint8(3), f.Bits)
	assert.Equal(t, n, f.PutFloat(0.2))
	assert.Equal(t, 0.2, f.Float(n), "Max is exact")
	assert.Equal(t, -0.1, f.Float(0), "Min is exact")
	for q := range n + 1 {
		assert.Equal(t, q, f.PutFloat(f.Float(q)))
	}
}

func TestFieldAccessors(t *testing.T) {
	b := BoolField("alive")
	assert.Equal(t, int32(1), b.PutBool(true))
	assert.Equal(t, int32(0), b.PutBool(false))
	assert.True(t, b.Bool(1))
	assert.False(t, b.Bool(0))
	assert.Equal(t, int32(1), b.PutFloat(0.5), "a bool rounds")
	assert.Equal(t, int32(0), b.PutFloat(0.49))
	assert.Equal(t, int32(1), b.PutFloat(7), "and clamps")

	e := EnumField("team", 3)
	assert.Equal(t, int32(2), e.PutInt(2))
	assert.Equal(t, 2, e.Int(2))
	assert.Equal(t, int32(2), e.PutFloat(9), "PutFloat clamps an enum")
	assert.Equal(t, int32(7), e.PutInt(7), "PutInt does not clamp: the Encoder rejects it")

	u32 := IntField("u", 32, false)
	assert.Equal(t, int32(-1), u32.PutInt(math.MaxUint32))
	assert.Equal(t, math.MaxUint32, u32.Int(-1))
	assert.Equal(t, float64(math.MaxUint32), u32.Float(-1))
	assert.Equal(t, int32(-1), u32.PutFloat(1e20), "clamped to 2^32-1")
	assert.Equal(t, int32(0), u32.PutFloat(-3))

	s := IntField("vx", 12, true)
	assert.Equal(t, -5, s.Int(-5))
	assert.Equal(t, -5.0, s.Float(-5))
	assert.Equal(t, int32(-2048), s.PutFloat(-1e9))
	assert.Equal(t, int32(2047), s.PutFloat(1e9))
	assert.Equal(t, int32(-3), s.PutFloat(-2.5), "halfway away from zero")
	assert.Equal(t, int32(0), s.PutFloat(math.NaN()))
	assert.Equal(t, 2.5, s.FloatF(2.5), "FloatF of an int is the level itself")
}

func TestFieldValidate(t *testing.T) {
	bigEnum := EnumField("big", 4)
	bigEnum.Bits = 5
	signedFloat := FloatField("f", 0, 1, 0.1)
	signedFloat.Signed = true
	stretched := FloatField("f", 0, 1, 0.1)
	stretched.max = 2
	tests := []struct {
		name string
		f    Field
		msg  string
	}{
		{"int 0 bits", Field{Name: "x"}, `Schema.Fields[0] ("x").Bits is 0, want 1..32`},
		{"enum 1", EnumField("e", 1), `Schema.Fields[0] ("e"): EnumField has 1 values, want 2..2147483647`},
		{"enum 0", EnumField("e", 0), "EnumField has 0 values"},
		{"enum bits changed", bigEnum, `("big"): EnumField has Bits 5 Signed false, want Bits 2 unsigned (as EnumField makes it)`},
		{"float inf", FloatField("x", math.Inf(-1), 0, 1), `("x"): FloatField range [-Inf, 0], want finite bounds`},
		{"float nan", FloatField("x", 0, math.NaN(), 1), "want finite bounds"},
		{"float empty", FloatField("x", 1, 1, 0.1), "FloatField range [1, 1], want min < max"},
		{"float reversed", FloatField("x", 2, 1, 0.1), "FloatField range [2, 1], want min < max"},
		{"float precision 0", FloatField("x", 0, 1, 0), "FloatField precision 0, want a finite number > 0"},
		{"float precision negative", FloatField("x", 0, 1, -1), "precision -1"},
		{"float precision inf", FloatField("x", 0, 1, math.Inf(1)), "precision +Inf"},
		{"float too fine", FloatField("x", -1e6, 1e6, 1e-6), "range [-1e+06, 1e+06] at precision 1e-06 needs 2e+12 levels, more than 31 bits hold (2147483648)"},
		{"float 32 bits", FloatField("x", 0, 1<<31, 1), "needs 2.147e+09 levels"},
		{"float overflow", FloatField("x", -math.MaxFloat64, math.MaxFloat64, 1), "levels, more than 31 bits"},
		{"float signed", signedFloat, "FloatField has Bits 4 Signed true, want Bits 4 unsigned"},
		{"float changed", stretched, "FloatField has 10 levels, its range and precision give 20"},
		{"unknown type", Field{Name: "x", Bits: 3, typ: 9}, "field type 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Schema{Fields: []Field{tt.f}}.Validate()
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}
