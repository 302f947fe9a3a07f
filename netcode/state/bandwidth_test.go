package state

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// The bandwidth scenario of issue 4: 100 moving and 900 resting entities,
// snapshots at 30 Hz, measured as the payload bytes one client receives per
// second. "Naive" is what a first version would send: the whole world every
// time, a reflection msgpack.Marshal of a struct slice with float64 fields.
// "Delta" is this package: positions, velocities and headings quantized,
// each snapshot a delta against the newest one the client acked, over a link
// with 100 ms RTT and 2% loss in both directions. "Naive as arrays" (msgpack
// without field names) and "quantized full" (this codec without a baseline)
// are reported too, to show what each step buys.
// Allocations reported by the benchmark are the naive Marshal's.

const (
	bwMoving       = 100
	bwResting      = 900
	bwSnapshotRate = 30
	bwAckDelay     = 3 // snapshot intervals: 100 ms RTT at 30 Hz
	bwLossPercent  = 2
)

// naiveEntity is the unoptimized wire form.
type naiveEntity struct {
	ID     uint32
	X, Y   float64
	VX, VY float64
	Angle  float64
}

type naiveSnapshot struct {
	Tick     uint32
	Entities []naiveEntity
}

var (
	bwPos   = Quantizer{Min: -512, Max: 512, Bits: 16} // 1/64 unit
	bwVel   = Quantizer{Min: -64, Max: 64, Bits: 12}   // 1/32 unit/s
	bwAngle = AngleQuantizer{Bits: 8}
)

var bwSchema = Schema{Fields: []Field{
	{Name: "x", Bits: 16},
	{Name: "y", Bits: 16},
	{Name: "vx", Bits: 12},
	{Name: "vy", Bits: 12},
	{Name: "angle", Bits: 8},
}}

type bwScenario struct {
	rng      *rand.Rand
	entities []naiveEntity
	tick     uint32

	enc     *Encoder
	dec     *Decoder
	tracker *BaselineTracker
	history *History
	snap    *Snapshot
	buf     []byte
	acks    []uint32 // acks in flight, delivered bwAckDelay snapshots later
	ackAt   []uint32
	naive   naiveSnapshot

	// The same structs encoded as msgpack arrays instead of maps (no field
	// names): a less naive baseline, reported for comparison.
	arrayBuf   bytes.Buffer
	arrayEnc   *msgpack.Encoder
	naiveArray int
}

func newBWScenario(tb testing.TB, seed uint64) *bwScenario {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &bwScenario{rng: rng}
	for i := range bwMoving + bwResting {
		e := naiveEntity{
			ID: uint32(i + 1),
			X:  rng.Float64()*900 - 450,
			Y:  rng.Float64()*900 - 450,
		}
		if i < bwMoving {
			e.Angle = rng.Float64() * 2 * math.Pi
			speed := 2 + rng.Float64()*8 // units per second
			e.VX, e.VY = speed*math.Cos(e.Angle), speed*math.Sin(e.Angle)
		}
		s.entities = append(s.entities, e)
	}
	cfg := CodecConfig{Schema: bwSchema}
	var err error
	s.enc, err = NewEncoder(cfg)
	require.NoError(tb, err)
	s.dec, err = NewDecoder(cfg)
	require.NoError(tb, err)
	s.tracker, err = NewBaselineTracker(32)
	require.NoError(tb, err)
	s.history, err = NewHistory(32)
	require.NoError(tb, err)
	s.snap = NewSnapshot(0, bwSchema.NumFields(), len(s.entities))
	s.arrayEnc = msgpack.NewEncoder(&s.arrayBuf)
	s.arrayEnc.UseArrayEncodedStructs(true)
	return s
}

// step advances the world one snapshot interval and returns the bytes of
// the naive, the quantized full and the delta payload of the new state.
func (s *bwScenario) step(tb testing.TB) (naive, full, delta int) {
	s.tick++
	const dt = 1.0 / bwSnapshotRate
	for i := range s.entities[:bwMoving] {
		e := &s.entities[i]
		if s.rng.IntN(60) == 0 { // turn now and then
			e.Angle = math.Mod(e.Angle+s.rng.Float64()-0.5+2*math.Pi, 2*math.Pi)
			speed := math.Hypot(e.VX, e.VY)
			e.VX, e.VY = speed*math.Cos(e.Angle), speed*math.Sin(e.Angle)
		}
		e.X += e.VX * dt
		e.Y += e.VY * dt
		if math.Abs(e.X) > 500 || math.Abs(e.Y) > 500 { // turn back at the walls
			e.VX, e.VY = -e.VX, -e.VY
			e.Angle = math.Mod(e.Angle+math.Pi, 2*math.Pi)
		}
	}

	s.naive.Tick = s.tick
	s.naive.Entities = s.entities
	b, err := msgpack.Marshal(&s.naive)
	require.NoError(tb, err)
	naive = len(b)
	s.arrayBuf.Reset()
	require.NoError(tb, s.arrayEnc.Encode(&s.naive))
	s.naiveArray += s.arrayBuf.Len()

	s.snap.Reset(s.tick, bwSchema.NumFields())
	for _, e := range s.entities {
		f := s.snap.Add(e.ID)
		f[0], f[1] = bwPos.Quantize(e.X), bwPos.Quantize(e.Y)
		f[2], f[3] = bwVel.Quantize(e.VX), bwVel.Quantize(e.VY)
		f[4] = bwAngle.Quantize(e.Angle)
	}
	s.buf, err = s.enc.Encode(s.buf[:0], s.snap, nil)
	require.NoError(tb, err)
	full = len(s.buf)
	s.buf, err = s.enc.Encode(s.buf[:0], s.snap, s.tracker.Baseline())
	require.NoError(tb, err)
	s.tracker.Sent(s.snap)
	delta = len(s.buf)

	// The client: receive (unless lost), decode, ack (unless lost).
	if s.rng.IntN(100) >= bwLossPercent {
		got, err := s.history.Decode(s.dec, s.buf)
		require.NoError(tb, err)
		if s.rng.IntN(100) >= bwLossPercent {
			s.acks = append(s.acks, got.Tick)
			s.ackAt = append(s.ackAt, s.tick+bwAckDelay)
		}
	}
	for len(s.acks) > 0 && s.ackAt[0] <= s.tick {
		s.tracker.Ack(s.acks[0])
		s.acks, s.ackAt = s.acks[1:], s.ackAt[1:]
	}
	return naive, full, delta
}

// bwRates are bytes per second for one client.
type bwRates struct{ naive, naiveArray, full, delta float64 }

// run simulates seconds of snapshots.
func (s *bwScenario) run(tb testing.TB, seconds int) bwRates {
	var r bwRates
	s.naiveArray = 0
	for range seconds * bwSnapshotRate {
		n, f, d := s.step(tb)
		r.naive += float64(n)
		r.full += float64(f)
		r.delta += float64(d)
	}
	r.naive /= float64(seconds)
	r.naiveArray = float64(s.naiveArray) / float64(seconds)
	r.full /= float64(seconds)
	r.delta /= float64(seconds)
	return r
}

func TestBandwidthDeltaIsTenTimesSmaller(t *testing.T) {
	s := newBWScenario(t, 1)
	s.run(t, 1) // warm-up: the first snapshot is full
	r := s.run(t, 3)
	ratio := r.naive / r.delta
	t.Logf("naive %.0f B/s (%.0f kbit/s), naive as arrays %.0f B/s, quantized full %.0f B/s, delta+quantized %.0f B/s (%.1f kbit/s), ratio %.1fx (%.1fx against arrays)",
		r.naive, r.naive*8/1000, r.naiveArray, r.full, r.delta, r.delta*8/1000, ratio, r.naiveArray/r.delta)
	assert.GreaterOrEqual(t, ratio, 10.0)
	assert.GreaterOrEqual(t, r.naiveArray/r.delta, 10.0, "even against field-name-free msgpack")
	assert.Less(t, r.delta, r.full/5, "deltas beat quantization alone")
}

// BenchmarkBandwidth reports, per simulated second, the bytes one client
// receives with naive full msgpack snapshots and with delta + quantized
// ones, and their ratio. Each iteration simulates one second (30 snapshots).
func BenchmarkBandwidth(b *testing.B) {
	s := newBWScenario(b, 1)
	s.run(b, 1)
	var sum bwRates
	n := 0.0
	b.ReportAllocs()
	for b.Loop() {
		r := s.run(b, 1)
		sum.naive += r.naive
		sum.naiveArray += r.naiveArray
		sum.full += r.full
		sum.delta += r.delta
		n++
	}
	b.ReportMetric(sum.naive/n, "naive-B/s")
	b.ReportMetric(sum.naiveArray/n, "naive-array-B/s")
	b.ReportMetric(sum.full/n, "quantized-full-B/s")
	b.ReportMetric(sum.delta/n, "delta-B/s")
	b.ReportMetric(sum.naive/sum.delta, "ratio")
}
