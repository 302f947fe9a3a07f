package game

// Fixed-point arithmetic. Every position is an int32 in 1/FixedOne world units
// and every velocity is in 1/FixedOne world units per tick, so the simulation
// uses only integer operations and gives bit-identical results on every
// platform.

// FixedShift is the number of fractional bits in a fixed-point value.
const FixedShift = 8

// FixedOne is one world unit in fixed point.
const FixedOne = 1 << FixedShift

// Fixed converts whole world units to fixed point.
func Fixed(units int32) int32 { return units << FixedShift }

// Units converts a fixed-point value to world units as a float64. It is meant
// for rendering and logging; the simulation never uses it.
func Units(v int32) float64 { return float64(v) / FixedOne }

// diagonal is 1/√2 in 1/256ths (181/256 ≈ 0.7070), used to keep diagonal
// movement at the same speed as straight movement.
const diagonal = 181

// isqrt returns ⌊√n⌋ for n ≥ 0 using integer Newton iteration.
func isqrt(n int64) int64 {
	if n < 2 {
		return n
	}
	x := n
	y := (x + 1) / 2
	for y < x {
		x = y
		y = (x + n/x) / 2
	}
	return x
}

// scaleTo returns the vector (ax, ay) scaled to length speed (truncated toward
// zero). A zero vector yields (speed, 0), i.e. facing right.
func scaleTo(ax, ay int8, speed int32) (int32, int32) {
	if ax == 0 && ay == 0 {
		return speed, 0
	}
	x, y := int64(ax), int64(ay)
	l := isqrt((x*x + y*y) << 16) // length in 1/256ths
	return int32(x * int64(speed) * 256 / l), int32(y * int64(speed) * 256 / l)
}

// dirVec returns a velocity of length speed along the 8-way direction
// (dx, dy), each in {-1, 0, 1}.
func dirVec(dx, dy int32, speed int32) (int32, int32) {
	if dx != 0 && dy != 0 {
		d := speed * diagonal >> 8
		return dx * d, dy * d
	}
	return dx * speed, dy * speed
}

// approach moves v toward target by at most step.
func approach(v, target, step int32) int32 {
	switch {
	case v < target:
		v += step
		if v > target {
			v = target
		}
	case v > target:
		v -= step
		if v < target {
			v = target
		}
	}
	return v
}

// rng is a xorshift64* generator; its whole state is one uint64 so a World
// copy copies it too.
type rng uint64

// newRNG derives a non-zero generator state from seed with splitmix64.
func newRNG(seed uint64) rng {
	z := seed + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	if z == 0 {
		z = 1
	}
	return rng(z)
}

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*r = rng(x)
	return x * 2685821657736338717
}

// intn returns a value in [0, n) for n > 0.
func (r *rng) intn(n uint32) uint32 {
	return uint32((r.next() >> 32) * uint64(n) >> 32)
}
