package state

import (
	"fmt"
	"math"
)

// MaxQuantizerBits is the largest Quantizer.Bits: quantized values are
// non-negative int32s, so they have at most 31 bits.
const MaxQuantizerBits = 31

// Quantizer maps float64 values in [Min, Max] to integers in [0, 2^Bits-1]
// and back, spreading the levels evenly: the distance between two levels is
// Step() = (Max-Min)/(2^Bits-1), and a value inside the range comes back from
// Quantize then Dequantize within MaxError() = Step()/2 of itself. Values
// outside the range are clamped to it; NaN quantizes to 0 (Min).
//
// Min and Max are exact: Quantize(Min) is 0 and Dequantize of it is Min, and
// Quantize(Max) is 2^Bits-1 and Dequantize of it is Max. Pair a Quantizer
// with a snapshot Field of the same Bits (Signed false) so the field costs
// exactly Bits bits in a full snapshot.
//
// The zero Quantizer is invalid; a Quantizer is a plain value, safe to copy
// and to use from several goroutines.
type Quantizer struct {
	Min, Max float64
	Bits     uint
}

// NewQuantizer returns a validated Quantizer.
func NewQuantizer(minV, maxV float64, bits uint) (Quantizer, error) {
	q := Quantizer{Min: minV, Max: maxV, Bits: bits}
	return q, q.Validate()
}

// Validate reports whether q can be used: Bits in 1..31, Min and Max finite
// with Min < Max.
func (q Quantizer) Validate() error {
	if q.Bits < 1 || q.Bits > MaxQuantizerBits {
		return fmt.Errorf("%w: Quantizer.Bits is %d, want 1..%d", ErrInvalidConfig, q.Bits, MaxQuantizerBits)
	}
	if math.IsNaN(q.Min) || math.IsInf(q.Min, 0) || math.IsNaN(q.Max) || math.IsInf(q.Max, 0) {
		return fmt.Errorf("%w: Quantizer range is [%v, %v], want finite bounds", ErrInvalidConfig, q.Min, q.Max)
	}
	if !(q.Min < q.Max) {
		return fmt.Errorf("%w: Quantizer range is [%v, %v], want Min < Max", ErrInvalidConfig, q.Min, q.Max)
	}
	return nil
}

// Levels returns the largest quantized value, 2^Bits-1.
func (q Quantizer) Levels() int32 { return int32(uint32(1)<<q.Bits - 1) }

// Step returns the distance between two neighbouring levels (the precision).
func (q Quantizer) Step() float64 { return (q.Max - q.Min) / float64(q.Levels()) }

// MaxError returns the largest |Dequantize(Quantize(v)) - v| for v in
// [Min, Max]: half a Step (plus float rounding, far below it).
func (q Quantizer) MaxError() float64 { return q.Step() / 2 }

// Quantize returns the level nearest to v, clamping v to [Min, Max].
func (q Quantizer) Quantize(v float64) int32 {
	if !(v > q.Min) { // also catches NaN
		return 0
	}
	if v >= q.Max {
		return q.Levels()
	}
	l := math.Round((v - q.Min) / (q.Max - q.Min) * float64(q.Levels()))
	return int32(l)
}

// Dequantize returns the value of level i, clamping i to [0, 2^Bits-1].
func (q Quantizer) Dequantize(i int32) float64 {
	levels := q.Levels()
	switch {
	case i <= 0:
		return q.Min
	case i >= levels:
		return q.Max
	}
	return q.Min + (q.Max-q.Min)*float64(i)/float64(levels)
}

// AngleQuantizer maps angles in radians onto 2^Bits evenly spaced directions
// around the circle: level i is the angle 2π·i/2^Bits. Any finite angle is
// accepted and wrapped into [0, 2π) first, so π and -π are the same level and
// the largest level is next to level 0. The round-trip error, measured
// around the circle, is at most MaxError() = π/2^Bits. NaN and ±Inf quantize
// to 0.
//
// The zero AngleQuantizer is invalid (Bits 0). Use it with a snapshot Field of
// the same Bits, Signed false. A plain value, safe for concurrent use.
type AngleQuantizer struct {
	Bits uint
}

// Validate reports whether Bits is in 1..31.
func (a AngleQuantizer) Validate() error {
	if a.Bits < 1 || a.Bits > MaxQuantizerBits {
		return fmt.Errorf("%w: AngleQuantizer.Bits is %d, want 1..%d", ErrInvalidConfig, a.Bits, MaxQuantizerBits)
	}
	return nil
}

// MaxError returns the largest angular distance between an angle and its
// round trip: half a level, π/2^Bits radians.
func (a AngleQuantizer) MaxError() float64 { return math.Pi / float64(uint64(1)<<a.Bits) }

// Quantize returns the level nearest to rad, wrapping around the circle.
func (a AngleQuantizer) Quantize(rad float64) int32 {
	if math.IsNaN(rad) || math.IsInf(rad, 0) {
		return 0
	}
	n := float64(uint64(1) << a.Bits)
	turns := rad / (2 * math.Pi)
	turns -= math.Floor(turns) // [0, 1]
	l := uint64(math.Round(turns * n))
	return int32(l & (uint64(1)<<a.Bits - 1))
}

// Dequantize returns the angle of level i in [0, 2π); only the low Bits of i
// are used, so the levels wrap like the angles they stand for.
func (a AngleQuantizer) Dequantize(i int32) float64 {
	mask := uint64(1)<<a.Bits - 1
	return 2 * math.Pi * float64(uint64(uint32(i))&mask) / float64(mask+1)
}

// AngleDiff returns the signed shortest angular distance from b to a, in
// (-π, π]. Useful to measure angle errors and to interpolate angles.
func AngleDiff(a, b float64) float64 {
	d := math.Mod(a-b, 2*math.Pi)
	switch {
	case d > math.Pi:
		d -= 2 * math.Pi
	case d <= -math.Pi:
		d += 2 * math.Pi
	}
	return d
}

// DequantizeF is Dequantize for a fractional level, as interpolation
// produces; it clamps to [Min, Max] too.
func (q Quantizer) DequantizeF(l float64) float64 {
	levels := float64(q.Levels())
	switch {
	case !(l > 0):
		return q.Min
	case l >= levels:
		return q.Max
	}
	return q.Min + (q.Max-q.Min)*l/levels
}

// DequantizeF is Dequantize for a fractional level in [0, 2^Bits), as
// interpolation with InterpAngle produces.
func (a AngleQuantizer) DequantizeF(l float64) float64 {
	n := float64(uint64(1) << a.Bits)
	l = math.Mod(l, n)
	if l < 0 {
		l += n
	}
	return 2 * math.Pi * l / n
}
