package state

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// InterpMode says how an entity field is interpolated.
type InterpMode uint8

const (
	// InterpLinear blends the two snapshots linearly and extrapolates along
	// the last change (positions, velocities).
	InterpLinear InterpMode = iota
	// InterpStep takes the older snapshot's value until the newer one is
	// reached (health, flags, kinds: anything discrete).
	InterpStep
	// InterpAngle blends levels of an AngleQuantizer of FieldInterp.Bits the
	// short way around the circle; the result is in [0, 2^Bits).
	InterpAngle
)

// FieldInterp configures the interpolation of one field.
type FieldInterp struct {
	Mode InterpMode
	Bits uint8 // InterpAngle only: the AngleQuantizer's Bits, 1..31
}

// InterpolatorConfig configures an Interpolator. Zero fields take the
// defaults listed.
type InterpolatorConfig struct {
	// TickInterval is the server tick; snapshot tick n is at server time
	// n × TickInterval. Required.
	TickInterval time.Duration
	// Stride is the number of fields per entity (CodecConfig.Stride()).
	// Required.
	Stride int
	// Fields gives each field's mode; nil means all InterpLinear. When set
	// it must have Stride entries.
	Fields []FieldInterp
	// KindFields gives, for snapshots with several entity kinds, the modes
	// of kind k's fields in KindFields[k] (Kind.Interp derives them from the
	// field types). A kind without an entry, or with a nil one, uses Fields.
	// An entry has at most Stride entries; slots past it are blended
	// linearly (they are 0 for a kind with fewer fields). At most MaxKinds
	// entries.
	KindFields [][]FieldInterp
	// Delay is the base interpolation delay: how far behind the newest
	// snapshot time entities are drawn. Default 100 ms; keep it at two or
	// three snapshot intervals or more.
	Delay time.Duration
	// JitterFactor adds JitterFactor × measured snapshot jitter to Delay.
	// Default 2; negative disables (treated as 0).
	JitterFactor float64
	// MinDelay and MaxDelay bound the adaptive delay. Defaults: Delay and
	// 300 ms (raised to Delay if below it).
	MinDelay, MaxDelay time.Duration
	// MaxExtrapolation bounds how far past the newest snapshot entities are
	// extrapolated when snapshots are late; past it they freeze (a stall).
	// Default 250 ms.
	MaxExtrapolation time.Duration
	// BufferSize is the number of snapshots kept. Default 32; at most 1024.
	BufferSize int
}

func (c InterpolatorConfig) withDefaults() InterpolatorConfig {
	if c.Delay == 0 {
		c.Delay = 100 * time.Millisecond
	}
	if c.JitterFactor == 0 {
		c.JitterFactor = 2
	}
	if c.JitterFactor < 0 {
		c.JitterFactor = 0
	}
	if c.MinDelay == 0 {
		c.MinDelay = c.Delay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = max(300*time.Millisecond, c.Delay)
	}
	if c.MaxExtrapolation == 0 {
		c.MaxExtrapolation = 250 * time.Millisecond
	}
	if c.BufferSize == 0 {
		c.BufferSize = 32
	}
	return c
}

// Validate checks the config (after defaults).
func (c InterpolatorConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.TickInterval <= 0:
		return fmt.Errorf("%w: InterpolatorConfig.TickInterval is %v, want > 0", ErrInvalidConfig, c.TickInterval)
	case c.Stride < 1 || c.Stride > MaxSchemaFields:
		return fmt.Errorf("%w: InterpolatorConfig.Stride is %d, want 1..%d", ErrInvalidConfig, c.Stride, MaxSchemaFields)
	case c.Fields != nil && len(c.Fields) != c.Stride:
		return fmt.Errorf("%w: InterpolatorConfig.Fields has %d entries, want Stride (%d) or none", ErrInvalidConfig, len(c.Fields), c.Stride)
	case c.Delay < 0:
		return fmt.Errorf("%w: InterpolatorConfig.Delay is %v, want >= 0", ErrInvalidConfig, c.Delay)
	case c.MinDelay < 0 || c.MaxDelay < c.MinDelay:
		return fmt.Errorf("%w: InterpolatorConfig.MinDelay/MaxDelay are %v/%v, want 0 <= MinDelay <= MaxDelay", ErrInvalidConfig, c.MinDelay, c.MaxDelay)
	case c.MaxExtrapolation < 0:
		return fmt.Errorf("%w: InterpolatorConfig.MaxExtrapolation is %v, want >= 0", ErrInvalidConfig, c.MaxExtrapolation)
	case c.BufferSize < 2 || c.BufferSize > 1024:
		return fmt.Errorf("%w: InterpolatorConfig.BufferSize is %d, want 2..1024", ErrInvalidConfig, c.BufferSize)
	case math.IsNaN(c.JitterFactor) || math.IsInf(c.JitterFactor, 0):
		return fmt.Errorf("%w: InterpolatorConfig.JitterFactor is %v, want a finite number", ErrInvalidConfig, c.JitterFactor)
	}
	if err := validateInterp("Fields", c.Fields); err != nil {
		return err
	}
	if len(c.KindFields) > MaxKinds {
		return fmt.Errorf("%w: InterpolatorConfig.KindFields has %d entries, want at most %d", ErrInvalidConfig, len(c.KindFields), MaxKinds)
	}
	for k, fields := range c.KindFields {
		if len(fields) > c.Stride {
			return fmt.Errorf("%w: InterpolatorConfig.KindFields[%d] has %d entries, want at most Stride (%d)", ErrInvalidConfig, k, len(fields), c.Stride)
		}
		if err := validateInterp(fmt.Sprintf("KindFields[%d]", k), fields); err != nil {
			return err
		}
	}
	return nil
}

func validateInterp(where string, fields []FieldInterp) error {
	for i, f := range fields {
		switch f.Mode {
		case InterpLinear, InterpStep:
		case InterpAngle:
			if f.Bits < 1 || f.Bits > MaxQuantizerBits {
				return fmt.Errorf("%w: InterpolatorConfig.%s[%d].Bits is %d, want 1..%d for InterpAngle", ErrInvalidConfig, where, i, f.Bits, MaxQuantizerBits)
			}
		default:
			return fmt.Errorf("%w: InterpolatorConfig.%s[%d].Mode is %d, want InterpLinear, InterpStep or InterpAngle", ErrInvalidConfig, where, i, f.Mode)
		}
	}
	return nil
}

// Interp returns the interpolation modes for the kind's fields, for
// InterpolatorConfig.KindFields: InterpStep for bools and enums, which have
// no values in between, InterpLinear for ints and floats.
func (k Kind) Interp() []FieldInterp {
	modes := make([]FieldInterp, len(k.Fields))
	for i, f := range k.Fields {
		if f.typ == FieldBool || f.typ == FieldEnum {
			modes[i].Mode = InterpStep
		}
	}
	return modes
}

// Frame is the interpolated state of the remote entities at one render
// time: entity i has ID IDs[i], kind Kind(i) and field values
// Values[i*Stride:(i+1)*Stride] in quantized units, fractional (dequantize
// with Field.FloatF or Quantizer.DequantizeF). Reuse one Frame across calls
// to avoid allocation.
type Frame struct {
	RenderTime time.Duration // server time drawn
	Stride     int
	IDs        []uint32
	Values     []float64
	// Kinds holds each entity's kind, as the newer snapshot has it: empty
	// when that snapshot's Kinds is (every entity of kind 0).
	Kinds []uint8
	// From and To are the ticks blended (equal when holding one snapshot).
	From, To uint32
	// Alpha is the blend position: 0 at From, 1 at To, above 1 when
	// extrapolating past To.
	Alpha float64
	// Extrapolated: the render time was past the newest snapshot.
	Extrapolated bool
	// Stalled: it was past the newest snapshot by more than
	// MaxExtrapolation, so the entities froze there.
	Stalled bool
}

// Len returns the number of entities.
func (f *Frame) Len() int { return len(f.IDs) }

// Fields returns entity i's values.
func (f *Frame) Fields(i int) []float64 { return f.Values[i*f.Stride : (i+1)*f.Stride] }

// Kind returns entity i's kind: Kinds[i], or 0 when Kinds is empty.
func (f *Frame) Kind(i int) uint8 {
	if i < len(f.Kinds) {
		return f.Kinds[i]
	}
	return 0
}

// Find returns the index of the entity with id.
func (f *Frame) Find(id uint32) (int, bool) {
	lo, hi := 0, len(f.IDs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f.IDs[m] < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(f.IDs) && f.IDs[lo] == id
}

// InterpolatorStats counts what an Interpolator saw.
type InterpolatorStats struct {
	Snapshots    uint64 // snapshots added
	Duplicates   uint64 // snapshots already held
	TooOld       uint64 // snapshots too old to use (before the render time and every held snapshot)
	Frames       uint64 // Sample calls with at least one snapshot
	Extrapolated uint64 // frames past the newest snapshot
	Stalls       uint64 // frames past it by more than MaxExtrapolation
	Empty        uint64 // Sample calls before any snapshot
	Invalid      uint64 // snapshots rejected for their Stride or length
}

// Interpolator draws remote entities in the past, between buffered
// snapshots, so they move smoothly despite 30 Hz snapshots, jitter and loss.
//
// Add each received snapshot (with the local arrival time, to measure
// jitter); each frame call Sample with the server time of the snapshots
// arriving now (Clock.SnapshotTime). Sample renders at that time minus the
// interpolation delay, which is Delay plus JitterFactor × jitter, bounded by
// MinDelay and MaxDelay and changed gradually so render time never goes
// backwards. Entities are blended linearly between the two snapshots around
// the render time; when the newest snapshot is older than the render time
// they are extrapolated along their last change for at most
// MaxExtrapolation, then frozen.
//
// Entities present in the newer snapshot only, or whose kind changed
// between the two, are drawn at their newer values; entities gone from it
// are not drawn.
//
// The zero Interpolator is not usable (NewInterpolator); it is not safe for
// concurrent use.
type Interpolator struct {
	cfg  InterpolatorConfig
	buf  []*Snapshot // sorted by tick, oldest first
	free []*Snapshot

	// Jitter, RFC 3550 style: smoothed |change of transit time|.
	haveTransit bool
	lastTransit time.Duration
	jitter      time.Duration

	delay      time.Duration // applied delay
	lastServer time.Duration // server time of the last Sample
	sampled    bool
	lastRender time.Duration
	stats      InterpolatorStats
}

// NewInterpolator returns an empty Interpolator.
func NewInterpolator(cfg InterpolatorConfig) (*Interpolator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ip := &Interpolator{cfg: cfg, delay: min(max(cfg.Delay, cfg.MinDelay), cfg.MaxDelay)}
	ip.buf = make([]*Snapshot, 0, cfg.BufferSize)
	return ip, nil
}

func (ip *Interpolator) timeOf(tick uint32) time.Duration {
	return time.Duration(tick) * ip.cfg.TickInterval
}

// Add stores a copy of s, received at local time now. Snapshots may arrive
// out of order; duplicates and snapshots older than the last render time
// are ignored and counted (returns false), and so are snapshots of another
// Stride or with a Kinds of the wrong length. IDs must be sorted, as decoded
// snapshots are.
func (ip *Interpolator) Add(now time.Time, s *Snapshot) bool {
	if s.Stride != ip.cfg.Stride || len(s.Values) != len(s.IDs)*s.Stride ||
		(len(s.Kinds) != 0 && len(s.Kinds) != len(s.IDs)) {
		ip.stats.Invalid++
		return false
	}
	if ip.sampled && len(ip.buf) > 0 && s.Tick < ip.buf[0].Tick && ip.timeOf(s.Tick) <= ip.lastRender {
		ip.stats.TooOld++
		return false
	}
	// Position: after every snapshot with a smaller tick.
	i := len(ip.buf)
	for i > 0 && ip.buf[i-1].Tick >= s.Tick {
		i--
	}
	if i < len(ip.buf) && ip.buf[i].Tick == s.Tick {
		ip.stats.Duplicates++
		return false
	}
	if len(ip.buf) == cap(ip.buf) {
		if i == 0 {
			ip.stats.TooOld++
			return false
		}
		ip.free = append(ip.free, ip.buf[0])
		copy(ip.buf, ip.buf[1:])
		ip.buf = ip.buf[:len(ip.buf)-1]
		i--
	}
	var slot *Snapshot
	if n := len(ip.free); n > 0 {
		slot, ip.free = ip.free[n-1], ip.free[:n-1]
	} else {
		slot = &Snapshot{}
	}
	slot.CopyFrom(s)
	ip.buf = append(ip.buf, nil)
	copy(ip.buf[i+1:], ip.buf[i:])
	ip.buf[i] = slot
	ip.stats.Snapshots++

	// Jitter from the transit time (arrival minus server time; the constant
	// clock offset cancels in the differences). Only in-order snapshots.
	if i == len(ip.buf)-1 {
		transit := time.Duration(now.UnixNano()) - ip.timeOf(s.Tick)
		if ip.haveTransit {
			d := absDur(transit - ip.lastTransit)
			ip.jitter += (d - ip.jitter) / 16
		}
		ip.lastTransit, ip.haveTransit = transit, true
	}
	return true
}

// Jitter returns the measured snapshot jitter.
func (ip *Interpolator) Jitter() time.Duration { return ip.jitter }

// Delay returns the interpolation delay in use.
func (ip *Interpolator) Delay() time.Duration { return ip.delay }

// TargetDelay returns the delay the Interpolator is moving toward:
// Delay + JitterFactor × Jitter, bounded by MinDelay and MaxDelay.
func (ip *Interpolator) TargetDelay() time.Duration {
	t := ip.cfg.Delay + time.Duration(ip.cfg.JitterFactor*float64(ip.jitter))
	return min(max(t, ip.cfg.MinDelay), ip.cfg.MaxDelay)
}

// delaySlew is how fast the delay may change, relative to elapsed server
// time: at 10% the render time runs between 0.9 and 1.1 times real speed.
const delaySlew = 0.1

// Sample fills dst with the entities at serverNow − delay and returns
// false only when no snapshot has been added yet. serverNow is the server
// time of snapshots arriving now (Clock.SnapshotTime).
func (ip *Interpolator) Sample(serverNow time.Duration, dst *Frame) bool {
	// Move the delay toward its target, gradually.
	target := ip.TargetDelay()
	if ip.sampled {
		step := time.Duration(delaySlew * float64(max(serverNow-ip.lastServer, 0)))
		ip.delay += min(max(target-ip.delay, -step), step)
	} else {
		ip.delay = target
	}
	ip.lastServer = serverNow
	rt := serverNow - ip.delay
	if ip.sampled && rt < ip.lastRender {
		rt = ip.lastRender // never backwards (a clock snap, a delay jump)
	}

	dst.RenderTime, dst.Stride = rt, ip.cfg.Stride
	dst.IDs, dst.Values, dst.Kinds = dst.IDs[:0], dst.Values[:0], dst.Kinds[:0]
	dst.Extrapolated, dst.Stalled, dst.Alpha = false, false, 0
	if len(ip.buf) == 0 {
		ip.stats.Empty++
		return false
	}
	ip.sampled = true
	ip.lastRender = rt
	ip.stats.Frames++

	// Drop snapshots no longer needed: keep the newest one at or before rt,
	// and at least two to extrapolate from.
	k := 0
	for k+2 < len(ip.buf) && ip.timeOf(ip.buf[k+1].Tick) <= rt {
		k++
	}
	if k > 0 {
		ip.free = append(ip.free, ip.buf[:k]...)
		n := copy(ip.buf, ip.buf[k:])
		clear(ip.buf[n:])
		ip.buf = ip.buf[:n]
	}

	newest := ip.buf[len(ip.buf)-1]
	switch {
	case len(ip.buf) == 1:
		// One snapshot: before it (startup) or past it with nothing to
		// extrapolate from. Hold it.
		dst.From, dst.To = newest.Tick, newest.Tick
		if rt > ip.timeOf(newest.Tick) {
			dst.Extrapolated = true
			ip.stats.Extrapolated++
			if rt-ip.timeOf(newest.Tick) > ip.cfg.MaxExtrapolation {
				dst.Stalled = true
				ip.stats.Stalls++
			}
		}
		ip.blend(dst, newest, newest, 0)
	case ip.timeOf(ip.buf[0].Tick) > rt:
		// Render time before every snapshot (startup): hold the oldest.
		dst.From, dst.To = ip.buf[0].Tick, ip.buf[0].Tick
		ip.blend(dst, ip.buf[0], ip.buf[0], 0)
	case rt <= ip.timeOf(newest.Tick):
		a, b := ip.buf[0], ip.buf[1]
		ta, tb := ip.timeOf(a.Tick), ip.timeOf(b.Tick)
		dst.From, dst.To = a.Tick, b.Tick
		dst.Alpha = float64(rt-ta) / float64(tb-ta)
		ip.blend(dst, a, b, dst.Alpha)
	default:
		// Late: extrapolate along the last two snapshots, bounded.
		a := ip.buf[len(ip.buf)-2]
		ta, tb := ip.timeOf(a.Tick), ip.timeOf(newest.Tick)
		over := rt - tb
		dst.Extrapolated = true
		ip.stats.Extrapolated++
		if over > ip.cfg.MaxExtrapolation {
			over = ip.cfg.MaxExtrapolation
			dst.Stalled = true
			ip.stats.Stalls++
		}
		dst.From, dst.To = a.Tick, newest.Tick
		dst.Alpha = 1 + float64(over)/float64(tb-ta)
		ip.blend(dst, a, newest, dst.Alpha)
	}
	return true
}

// blend writes the entities of b, blended from a at alpha (0 = a, 1 = b).
func (ip *Interpolator) blend(dst *Frame, a, b *Snapshot, alpha float64) {
	stride := ip.cfg.Stride
	dst.IDs = append(dst.IDs[:0], b.IDs...)
	dst.Kinds = append(dst.Kinds[:0], b.Kinds...)
	dst.Values = slices.Grow(dst.Values[:0], len(b.Values))[:len(b.Values)]
	out := dst.Values
	j := 0
	for i, id := range b.IDs {
		for j < len(a.IDs) && a.IDs[j] < id {
			j++
		}
		bf := b.Values[i*stride : (i+1)*stride : (i+1)*stride]
		of := out[i*stride : (i+1)*stride : (i+1)*stride]
		kind := b.Kind(i)
		if j >= len(a.IDs) || a.IDs[j] != id || a == b || a.Kind(j) != kind {
			for k, v := range bf {
				of[k] = float64(v)
			}
			continue
		}
		af := a.Values[j*stride : (j+1)*stride : (j+1)*stride]
		modes := ip.cfg.Fields
		if int(kind) < len(ip.cfg.KindFields) && ip.cfg.KindFields[kind] != nil {
			modes = ip.cfg.KindFields[kind]
		}
		if modes == nil {
			for k, v := range bf {
				av := float64(af[k])
				of[k] = av + (float64(v)-av)*alpha
			}
			continue
		}
		for k := range bf {
			if k < len(modes) {
				of[k] = blendField(modes[k], af[k], bf[k], alpha)
			} else {
				av := float64(af[k])
				of[k] = av + (float64(bf[k])-av)*alpha
			}
		}
	}
}

func blendField(f FieldInterp, av, bv int32, alpha float64) float64 {
	switch f.Mode {
	case InterpStep:
		if alpha >= 1 {
			return float64(bv)
		}
		return float64(av)
	case InterpAngle:
		if av == bv {
			return float64(av)
		}
		n := float64(uint64(1) << f.Bits)
		mask := uint32(1)<<f.Bits - 1
		fa, fb := float64(uint32(av)&mask), float64(uint32(bv)&mask)
		d := fb - fa
		switch {
		case d > n/2:
			d -= n
		case d < -n/2:
			d += n
		}
		v := fa + d*alpha
		if v < 0 || v >= n {
			v = math.Mod(v, n)
			if v < 0 {
				v += n
			}
		}
		return v
	}
	return float64(av) + (float64(bv)-float64(av))*alpha
}

// Buffered returns the number of snapshots held.
func (ip *Interpolator) Buffered() int { return len(ip.buf) }

// Stats returns the counters.
func (ip *Interpolator) Stats() InterpolatorStats { return ip.stats }
