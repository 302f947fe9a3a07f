package state

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuantizerRoundTripErrorBound(t *testing.T) {
	tests := []struct {
		name string
		q    Quantizer
	}{
		{"position 16 bits", Quantizer{Min: -512, Max: 512, Bits: 16}},
		{"unit 8 bits", Quantizer{Min: 0, Max: 1, Bits: 8}},
		{"one bit", Quantizer{Min: -1, Max: 1, Bits: 1}},
		{"31 bits", Quantizer{Min: -1e6, Max: 1e6, Bits: 31}},
		{"asymmetric", Quantizer{Min: 3.5, Max: 1000.25, Bits: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.q.Validate())
			rng := rand.New(rand.NewPCG(1, 2))
			bound := tt.q.MaxError() * (1 + 1e-9)
			for range 10000 {
				v := tt.q.Min + rng.Float64()*(tt.q.Max-tt.q.Min)
				l := tt.q.Quantize(v)
				got := tt.q.Dequantize(l)
				if l < 0 || l > tt.q.Levels() || math.Abs(got-v) > bound {
					t.Fatalf("Quantize(%v) = %d, Dequantize = %v: want a level in [0, %d] within %v", v, l, got, tt.q.Levels(), bound)
				}
			}
			// The ends are exact.
			assert.Equal(t, int32(0), tt.q.Quantize(tt.q.Min))
			assert.Equal(t, tt.q.Min, tt.q.Dequantize(0))
			assert.Equal(t, tt.q.Levels(), tt.q.Quantize(tt.q.Max))
			assert.Equal(t, tt.q.Max, tt.q.Dequantize(tt.q.Levels()))
		})
	}
}

func TestQuantizerClamps(t *testing.T) {
	q := Quantizer{Min: -10, Max: 10, Bits: 10}
	tests := []struct {
		in   float64
		want int32
	}{
		{-11, 0},
		{math.Inf(-1), 0},
		{math.NaN(), 0},
		{11, 1023},
		{math.Inf(1), 1023},
		{0, 512}, // 511.5 rounds up
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, q.Quantize(tt.in), "Quantize(%v)", tt.in)
	}
	assert.Equal(t, -10.0, q.Dequantize(-5))
	assert.Equal(t, 10.0, q.Dequantize(5000))
	assert.InDelta(t, 20.0/1023, q.Step(), 1e-15)
}

func TestQuantizerValidate(t *testing.T) {
	tests := []struct {
		name string
		q    Quantizer
		msg  string
	}{
		{"zero bits", Quantizer{Min: 0, Max: 1}, "Quantizer.Bits is 0"},
		{"too many bits", Quantizer{Min: 0, Max: 1, Bits: 32}, "Quantizer.Bits is 32, want 1..31"},
		{"empty range", Quantizer{Min: 1, Max: 1, Bits: 8}, "want Min < Max"},
		{"reversed", Quantizer{Min: 2, Max: 1, Bits: 8}, "want Min < Max"},
		{"nan", Quantizer{Min: math.NaN(), Max: 1, Bits: 8}, "finite"},
		{"inf", Quantizer{Min: 0, Max: math.Inf(1), Bits: 8}, "finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewQuantizer(tt.q.Min, tt.q.Max, tt.q.Bits)
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestAngleQuantizerRoundTrip(t *testing.T) {
	for _, bits := range []uint{1, 4, 8, 12, 16, 31} {
		a := AngleQuantizer{Bits: bits}
		require.NoError(t, a.Validate())
		rng := rand.New(rand.NewPCG(3, uint64(bits)))
		bound := a.MaxError() * (1 + 1e-9)
		for range 5000 {
			v := (rng.Float64() - 0.5) * 40 // several turns either way
			got := a.Dequantize(a.Quantize(v))
			if got < 0 || got >= 2*math.Pi || math.Abs(AngleDiff(got, v)) > bound {
				t.Fatalf("bits=%d: round trip of %v is %v, want in [0, 2π) within %v", bits, v, got, bound)
			}
		}
	}
}

func TestAngleQuantizerWraps(t *testing.T) {
	a := AngleQuantizer{Bits: 8}
	tests := []struct {
		rad  float64
		want int32
	}{
		{0, 0},
		{math.Pi, 128},
		{-math.Pi, 128},
		{math.Pi / 2, 64},
		{-math.Pi / 2, 192},
		{2*math.Pi - 1e-9, 0}, // rounds up to a full turn, which is level 0
		{4 * math.Pi, 0},
		{math.NaN(), 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, a.Quantize(tt.rad), "Quantize(%v)", tt.rad)
	}
	assert.Equal(t, math.Pi, a.Dequantize(128))
	assert.Equal(t, 0.0, a.Dequantize(256), "only the low Bits count")
	require.ErrorIs(t, AngleQuantizer{}.Validate(), ErrInvalidConfig)
}

func TestAngleDiff(t *testing.T) {
	tests := []struct{ a, b, want float64 }{
		{0.1, 0, 0.1},
		{0, 0.1, -0.1},
		{0.1, 2*math.Pi - 0.1, 0.2},
		{math.Pi, 0, math.Pi},
		{-math.Pi, 0, math.Pi},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, AngleDiff(tt.a, tt.b), 1e-12, "AngleDiff(%v, %v)", tt.a, tt.b)
	}
}

func BenchmarkQuantize(b *testing.B) {
	b.ReportAllocs()
	q := Quantizer{Min: -512, Max: 512, Bits: 16}
	v := 0.0
	var sink int32
	for b.Loop() {
		sink += q.Quantize(v)
		v += 0.37
		if v > 512 {
			v = -512
		}
	}
	_ = sink
}
