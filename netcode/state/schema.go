package state

import (
	"fmt"
	"math"
	"math/bits"
)

// MaxFieldBits is the largest Field.Bits.
const MaxFieldBits = 32

// MaxSchemaFields is the largest number of fields in a Schema or a Kind.
const MaxSchemaFields = 256

// MaxKinds is the largest number of entity kinds in a CodecConfig: a kind is
// a uint8 index.
const MaxKinds = 256

// FieldType says what a Field's int32 slot stands for. It decides how the
// typed accessors (PutFloat, Float, PutInt, Int, PutBool, Bool) convert, and
// what range of slot values the codec accepts; the wire format is the same
// bit-packed integer for every type.
type FieldType uint8

const (
	// FieldInt is an integer of Bits bits, Signed or not: the zero Field
	// type, and what a Field literal {Name, Bits, Signed} declares.
	FieldInt FieldType = iota
	// FieldBool is 0 (false) or 1 (true), in 1 bit (BoolField).
	FieldBool
	// FieldEnum is one of n values 0..n-1, in ceil(log2 n) bits (EnumField).
	FieldEnum
	// FieldFloat is a float64 quantized to a level 0..N (FloatField).
	FieldFloat
)

// String returns the type's name: "int", "bool", "enum" or "float".
func (t FieldType) String() string {
	switch t {
	case FieldInt:
		return "int"
	case FieldBool:
		return "bool"
	case FieldEnum:
		return "enum"
	case FieldFloat:
		return "float"
	}
	return fmt.Sprintf("FieldType(%d)", uint8(t))
}

// Field describes one field of an entity: a quantized value kept in an
// int32 slot of a Snapshot and bit-packed by the codec.
//
// A literal Field{Name, Bits, Signed} is an integer (FieldInt): Signed with
// Bits b it holds [-2^(b-1), 2^(b-1)-1], unsigned [0, 2^b-1] (at Bits 32 any
// int32, read as its uint32 bit pattern). The constructors IntField,
// BoolField, EnumField and FloatField declare a field by meaning and compute
// Bits; use them, not literals, for the other types (they keep their
// parameters in unexported fields).
//
// A full snapshot spends exactly Bits bits on the field; a delta spends 1 bit
// when it did not change, otherwise 2 bits plus the smaller of a small zigzag
// varint of the change (5 bits per 4 bits of magnitude) and Bits.
//
// A Field is a plain comparable value, safe to copy and to use from several
// goroutines. The zero Field is an int field of 0 bits, which Validate
// rejects.
type Field struct {
	Name   string // used in error messages only
	Bits   uint8  // 1..32
	Signed bool

	typ FieldType
	// n is the number of values of an enum, or the top level N of a float.
	n uint32
	// min, max and prec are a float's range and requested precision.
	min, max, prec float64
}

// IntField returns an integer field of bits bits (1..32), signed or not: the
// same as Field{Name: name, Bits: bits, Signed: signed}.
func IntField(name string, bits uint8, signed bool) Field {
	return Field{Name: name, Bits: bits, Signed: signed}
}

// BoolField returns a 1-bit field holding false (0) or true (1).
func BoolField(name string) Field {
	return Field{Name: name, Bits: 1, typ: FieldBool}
}

// EnumField returns a field holding one of n values, 0..n-1, in
// ceil(log2 n) bits. n must be in 2..math.MaxInt32; the codec rejects a
// slot value of n or more.
func EnumField(name string, n int) Field {
	f := Field{Name: name, typ: FieldEnum, n: uint32(min(max(int64(n), 0), math.MaxUint32))}
	if n >= 2 && int64(n) <= math.MaxInt32 {
		f.Bits = uint8(bits.Len32(uint32(n - 1)))
	}
	return f
}

// FloatField returns a field holding a float64 in [minV, maxV] quantized to
// at least the given precision.
//
// The range is cut into N = ceil((maxV-minV)/precision) equal steps (a
// quotient within a relative 1e-9 of an integer counts as that integer, so
// FloatField("x", -1000, 1000, 0.01) has N = 200000): the slot holds a level
// 0..N, level l stands for minV + (maxV-minV)·l/N, and the field costs
// Bits = bits.Len(N) bits (18 for that example). Step() = (maxV-minV)/N is
// precision when it divides the range, otherwise slightly less; the grid
// starts at minV, so when minV is a multiple of the step, so are all
// levels (0 is exact in the example). minV and maxV are exact: level 0
// is minV and level N is maxV.
//
// PutFloat rounds to the nearest level (halfway cases toward maxV) and
// clamps into [minV, maxV]: for v in range, |Float(PutFloat(v)) - v| is at
// most Step()/2 plus float64 rounding (about 1e-16 of the range). The codec
// rejects a slot value above N.
//
// minV and maxV must be finite with minV < maxV, precision finite and
// positive, and N at most 2^31-1 (31 bits); Validate reports otherwise
// (Bits is then 0).
func FloatField(name string, minV, maxV, precision float64) Field {
	f := Field{Name: name, typ: FieldFloat, min: minV, max: maxV, prec: precision}
	if n, err := floatLevels(minV, maxV, precision); err == nil {
		f.n = n
		f.Bits = uint8(bits.Len32(n))
	}
	return f
}

// floatLevels returns N for a float field, or why there is none.
func floatLevels(minV, maxV, precision float64) (uint32, error) {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(minV) || !finite(maxV):
		return 0, fmt.Errorf("range [%v, %v], want finite bounds", minV, maxV)
	case !(minV < maxV):
		return 0, fmt.Errorf("range [%v, %v], want min < max", minV, maxV)
	case !finite(precision) || !(precision > 0):
		return 0, fmt.Errorf("precision %v, want a finite number > 0", precision)
	}
	ratio := (maxV - minV) / precision
	if !(ratio <= math.MaxInt32) { // also +Inf when maxV-minV overflows
		return 0, fmt.Errorf("range [%v, %v] at precision %v needs %.4g levels, more than 31 bits hold (%d): widen the precision or narrow the range",
			minV, maxV, precision, ratio+1, int64(math.MaxInt32)+1)
	}
	n := math.Round(ratio)
	if n < 1 || math.Abs(ratio-n) > 1e-9*ratio {
		n = math.Ceil(ratio)
	}
	return uint32(min(n, math.MaxInt32)), nil
}

// Type returns what the field holds.
func (f Field) Type() FieldType { return f.typ }

// Range returns the smallest and largest value the field holds: for a float
// its [min, max]; for the others the integer range of its slot (an enum of n
// values [0, n-1], a bool [0, 1]).
func (f Field) Range() (minV, maxV float64) {
	if f.typ == FieldFloat {
		return f.min, f.max
	}
	lo, hi := f.rawRange()
	return float64(lo), float64(hi)
}

// Step returns the distance between two neighbouring values: (max-min)/N
// for a float (at most its precision), 1 for the other types.
func (f Field) Step() float64 {
	if f.typ == FieldFloat && f.n > 0 {
		return (f.max - f.min) / float64(f.n)
	}
	return 1
}

// PutFloat returns the slot value for v. For a float field it is the level
// nearest to v (halfway cases toward max), with v clamped into [min, max];
// for the other types v rounded to the nearest integer (halfway away from
// zero) and clamped into the field's range (so a bool is true for v >= 0.5).
// NaN gives 0 (min for a float, 0 otherwise).
func (f Field) PutFloat(v float64) int32 {
	if math.IsNaN(v) {
		return 0
	}
	if f.typ == FieldFloat {
		switch {
		case !(v > f.min):
			return 0
		case v >= f.max:
			return int32(f.n)
		}
		return int32(math.Round((v - f.min) / (f.max - f.min) * float64(f.n)))
	}
	lo, hi := f.rawRange()
	r := math.Round(v)
	switch {
	case r <= float64(lo):
		return f.fromRaw(lo)
	case r >= float64(hi):
		return f.fromRaw(hi)
	}
	return f.fromRaw(int64(r))
}

// Float returns the value slot value q stands for: for a float field
// min + (max-min)·q/N, with q clamped into [0, N] (level 0 is min and level
// N max exactly; a level whose value is a short decimal, as 12.35 in
// FloatField("x", -1000, 1000, 0.01), is the float64 nearest to it);
// for the other types the integer Int(q) as a float64.
func (f Field) Float(q int32) float64 {
	if f.typ != FieldFloat {
		return float64(f.Int(q))
	}
	return f.FloatF(float64(q))
}

// FloatF is Float for a fractional slot value, as an Interpolator's Frame
// holds: for a float field (min·N + (max-min)·l)/N with l clamped into
// [0, N], computed with one final rounding; for the other types l itself.
func (f Field) FloatF(l float64) float64 {
	if f.typ != FieldFloat {
		return l
	}
	n := float64(f.n)
	switch {
	case !(l > 0):
		return f.min
	case l >= n:
		return f.max
	}
	// One rounding at the end, so a level whose value is a short decimal
	// comes out as the float64 nearest to it (-1000 + 2000·101235/200000
	// is 12.35, not 12.350000000000023) ...
	if v := (f.min*n + (f.max-f.min)*l) / n; v >= f.min && v <= f.max {
		return v
	}
	// ... unless that overflows, with bounds near ±MaxFloat64.
	return f.min + (f.max-f.min)*(l/n)
}

// PutInt returns the slot value for the integer v: v itself for a signed
// field, its low 32 bits for an unsigned one. It does not clamp: a value
// outside the field's range makes the Encoder fail with an error that names
// the field, as a game bug should. For a float field v is a level 0..N.
func (f Field) PutInt(v int) int32 { return int32(v) }

// Int returns the integer slot value q holds: q for a signed field, its
// uint32 bit pattern for an unsigned one (so a 32-bit unsigned field reads
// 0..2^32-1). For an enum it is the value 0..n-1, for a float the level.
func (f Field) Int(q int32) int {
	if f.Signed {
		return int(q)
	}
	return int(uint32(q))
}

// PutBool returns 1 for true and 0 for false.
func (f Field) PutBool(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// Bool reports whether q is not 0.
func (f Field) Bool(q int32) bool { return q != 0 }

// rawRange returns the field's range in the int64 "raw" space where deltas
// are taken: the value itself when signed, its uint32 pattern when unsigned.
func (f Field) rawRange() (lo, hi int64) {
	switch f.typ {
	case FieldBool:
		return 0, 1
	case FieldEnum:
		return 0, int64(f.n) - 1
	case FieldFloat:
		return 0, int64(f.n)
	}
	if f.Signed {
		return -(int64(1) << (f.Bits - 1)), int64(1)<<(f.Bits-1) - 1
	}
	return 0, int64(1)<<f.Bits - 1
}

func (f Field) fromRaw(raw int64) int32 {
	if f.Signed {
		return int32(raw)
	}
	return int32(uint32(raw))
}

// validate reports what is wrong with f, or nil. where names it
// ("Schema.Fields[2] (\"x\")").
func (f Field) validate(where string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, where, fmt.Sprintf(format, args...))
	}
	var want uint8
	ctor := "BoolField"
	switch f.typ {
	case FieldInt:
		if f.Bits < 1 || f.Bits > MaxFieldBits {
			return fmt.Errorf("%w: %s.Bits is %d, want 1..%d", ErrInvalidConfig, where, f.Bits, MaxFieldBits)
		}
		return nil
	case FieldBool:
		want = 1
	case FieldEnum:
		if f.n < 2 || f.n > math.MaxInt32 {
			return bad("EnumField has %d values, want 2..%d", f.n, math.MaxInt32)
		}
		want, ctor = uint8(bits.Len32(f.n-1)), "EnumField"
	case FieldFloat:
		n, err := floatLevels(f.min, f.max, f.prec)
		if err != nil {
			return bad("FloatField %v", err)
		}
		if n != f.n {
			return bad("FloatField has %d levels, its range and precision give %d (build it with FloatField)", f.n, n)
		}
		want, ctor = uint8(bits.Len32(n)), "FloatField"
	default:
		return bad("field type %d, want FieldInt, FieldBool, FieldEnum or FieldFloat", f.typ)
	}
	if f.Bits != want || f.Signed {
		return bad("%s has Bits %d Signed %v, want Bits %d unsigned (as %s makes it)", ctor, f.Bits, f.Signed, want, ctor)
	}
	return nil
}

// describe says what a field holds, for error messages.
func (f Field) describe() string {
	switch f.typ {
	case FieldBool:
		return "a bool"
	case FieldEnum:
		return fmt.Sprintf("an enum of %d values", f.n)
	case FieldFloat:
		return fmt.Sprintf("a float in [%v, %v] step %v", f.min, f.max, f.Step())
	}
	return fmt.Sprintf("%d bits signed=%v", f.Bits, f.Signed)
}

// validateFields checks a field list; where names its owner ("Schema",
// "Kinds[1] (\"bullet\")").
func validateFields(where string, fields []Field) error {
	if n := len(fields); n < 1 || n > MaxSchemaFields {
		return fmt.Errorf("%w: %s.Fields has %d fields, want 1..%d", ErrInvalidConfig, where, n, MaxSchemaFields)
	}
	for i, f := range fields {
		if err := f.validate(fmt.Sprintf("%s.Fields[%d] (%q)", where, i, f.Name)); err != nil {
			return err
		}
	}
	return nil
}

// Schema is the fixed list of fields every entity of a single-kind snapshot
// stream has (CodecConfig.Schema); a stream with several kinds of entities
// lists them in CodecConfig.Kinds instead. The server and its clients must
// use the same Schema; it is not sent on the wire.
type Schema struct {
	Fields []Field
}

// NumFields returns len(s.Fields), the Stride of the schema's snapshots.
func (s Schema) NumFields() int { return len(s.Fields) }

// Validate checks the field count (1..256) and every field (Bits 1..32 for
// an int; a typed field as its constructor made it).
func (s Schema) Validate() error { return validateFields("Schema", s.Fields) }

// Kind is one kind of entity (a player, a projectile, a pickup) in a
// snapshot stream with several kinds: its own list of fields. An entity's
// kind is its index in CodecConfig.Kinds (Snapshot.AddKind). Name is used in
// error messages only.
//
// A Kind is a plain value; the zero Kind has no fields, which Validate
// rejects.
type Kind struct {
	Name   string
	Fields []Field
}

// NumFields returns len(k.Fields).
func (k Kind) NumFields() int { return len(k.Fields) }
