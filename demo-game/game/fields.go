package game

import (
	"errors"
	"fmt"
)

// ErrInvalidEntity is wrapped by EntityFromFields errors.
var ErrInvalidEntity = errors.New("game: invalid entity fields")

// FieldSpec describes one integer field of an entity's snapshot form: its
// name and how many bits hold every value the rules can produce (a signed
// field of Bits b holds [-2^(b-1), 2^(b-1)-1], an unsigned one [0, 2^b-1]).
// It mirrors a generic snapshot codec's field description without depending
// on one.
type FieldSpec struct {
	Name   string
	Bits   uint8
	Signed bool
}

// Indexes of the fields in AppendFields order.
const (
	FieldKind = iota
	FieldX
	FieldY
	FieldVX
	FieldVY
	FieldAimX
	FieldAimY
	FieldHealth
	FieldOwner
	FieldScore
	FieldDeaths
	FieldDashTicks
	FieldDashCooldown
	FieldFireCooldown
	FieldRespawnTicks

	// NumEntityFields is the number of fields AppendFields writes.
	NumEntityFields
)

// EntityFields returns the snapshot schema of an Entity (everything but its
// ID), in AppendFields order. Positions stay inside the arena (19 and 18
// bits), speeds never exceed DashSpeed (13 bits signed), scores and deaths
// saturate at MaxScore, and health, cooldowns and timers are small, so a full
// entity costs 166 bits before delta compression.
func EntityFields() []FieldSpec {
	a := entityFields()
	return a[:]
}

func entityFields() [NumEntityFields]FieldSpec {
	return [NumEntityFields]FieldSpec{
		FieldKind:         {"kind", 2, false},
		FieldX:            {"x", 19, false},
		FieldY:            {"y", 18, false},
		FieldVX:           {"vx", 13, true},
		FieldVY:           {"vy", 13, true},
		FieldAimX:         {"aimx", 8, true},
		FieldAimY:         {"aimy", 8, true},
		FieldHealth:       {"health", 7, false},
		FieldOwner:        {"owner", 24, false},
		FieldScore:        {"score", 16, false},
		FieldDeaths:       {"deaths", 16, false},
		FieldDashTicks:    {"dash", 4, false},
		FieldDashCooldown: {"dashcd", 6, false},
		FieldFireCooldown: {"firecd", 4, false},
		FieldRespawnTicks: {"respawn", 8, false},
	}
}

// AppendFields appends e's NumEntityFields fields (all but ID) to dst in
// EntityFields order; it does not allocate when dst has room.
func (e Entity) AppendFields(dst []int32) []int32 {
	return append(dst,
		int32(e.Kind), e.X, e.Y, e.VX, e.VY, int32(e.AimX), int32(e.AimY),
		int32(e.Health), int32(e.Owner), e.Score, e.Deaths,
		int32(e.DashTicks), int32(e.DashCooldown), int32(e.FireCooldown), int32(e.RespawnTicks))
}

// EntityFromFields rebuilds the entity with the given ID from the fields
// AppendFields wrote. It checks the count, the kind and that every value fits
// its EntityFields range, returning an error wrapping ErrInvalidEntity
// otherwise; it never panics.
func EntityFromFields(id uint32, f []int32) (Entity, error) {
	if len(f) != NumEntityFields {
		return Entity{}, fmt.Errorf("%w: %d fields, want %d", ErrInvalidEntity, len(f), NumEntityFields)
	}
	for i, spec := range entityFields() {
		v := int64(f[i])
		lo, hi := int64(0), int64(1)<<spec.Bits-1
		if spec.Signed {
			lo, hi = -(int64(1) << (spec.Bits - 1)), int64(1)<<(spec.Bits-1)-1
		}
		if v < lo || v > hi {
			return Entity{}, fmt.Errorf("%w: %s = %d, want %d..%d", ErrInvalidEntity, spec.Name, v, lo, hi)
		}
	}
	k := Kind(f[FieldKind])
	if k < KindPlayer || k > KindProjectile {
		return Entity{}, fmt.Errorf("%w: kind = %d, want %d..%d", ErrInvalidEntity, k, KindPlayer, KindProjectile)
	}
	return Entity{
		ID: id, Kind: k, X: f[FieldX], Y: f[FieldY], VX: f[FieldVX], VY: f[FieldVY],
		AimX: int8(f[FieldAimX]), AimY: int8(f[FieldAimY]), Health: int16(f[FieldHealth]),
		Owner: uint32(f[FieldOwner]), Score: f[FieldScore], Deaths: f[FieldDeaths],
		DashTicks: uint8(f[FieldDashTicks]), DashCooldown: uint8(f[FieldDashCooldown]),
		FireCooldown: uint8(f[FieldFireCooldown]), RespawnTicks: uint8(f[FieldRespawnTicks]),
	}, nil
}
