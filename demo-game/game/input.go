package game

import (
	"errors"
	"fmt"
)

// Button bits of Input.Buttons.
const (
	ButtonUp uint8 = 1 << iota
	ButtonDown
	ButtonLeft
	ButtonRight
	ButtonFire
	ButtonDash

	// ButtonMask has every defined button bit set; other bits are invalid.
	ButtonMask = ButtonUp | ButtonDown | ButtonLeft | ButtonRight | ButtonFire | ButtonDash
)

// InputSize is the encoded size of an Input in bytes.
const InputSize = 3

// ErrInvalidInput is wrapped by every error DecodeInput returns.
var ErrInvalidInput = errors.New("game: invalid input")

// Input is one tick of a player's controls: held buttons and an aim vector.
// The aim vector's direction is what matters; (0, 0) keeps the previous aim.
// The zero value is "nothing pressed".
type Input struct {
	Buttons    uint8 // ButtonUp | ButtonDown | ... ; bits outside ButtonMask are invalid
	AimX, AimY int8  // aim direction; any length; +X right, +Y down
}

// Has reports whether every bit of b is pressed.
func (in Input) Has(b uint8) bool { return in.Buttons&b == b }

// moveDir returns the movement direction: each axis in {-1, 0, 1}; opposite
// buttons cancel.
func (in Input) moveDir() (dx, dy int32) {
	if in.Buttons&ButtonLeft != 0 {
		dx--
	}
	if in.Buttons&ButtonRight != 0 {
		dx++
	}
	if in.Buttons&ButtonUp != 0 {
		dy--
	}
	if in.Buttons&ButtonDown != 0 {
		dy++
	}
	return dx, dy
}

// AppendBinary appends the InputSize-byte encoding of in to b: buttons, aim x,
// aim y. It never fails and does not allocate when b has room; it implements
// encoding.BinaryAppender.
func (in Input) AppendBinary(b []byte) ([]byte, error) {
	return append(b, in.Buttons, byte(in.AimX), byte(in.AimY)), nil
}

// MarshalBinary returns the InputSize-byte encoding of in.
func (in Input) MarshalBinary() ([]byte, error) {
	return in.AppendBinary(make([]byte, 0, InputSize))
}

// UnmarshalBinary decodes exactly one Input from b.
func (in *Input) UnmarshalBinary(b []byte) error {
	v, n, err := DecodeInput(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrInvalidInput, len(b)-n)
	}
	*in = v
	return nil
}

// DecodeInput decodes an Input from the start of b and returns it with the
// number of bytes read. Short input or undefined button bits give an error
// wrapping ErrInvalidInput. It never panics or allocates on success.
func DecodeInput(b []byte) (Input, int, error) {
	if len(b) < InputSize {
		return Input{}, 0, fmt.Errorf("%w: %d bytes, need %d", ErrInvalidInput, len(b), InputSize)
	}
	if b[0]&^ButtonMask != 0 {
		return Input{}, 0, fmt.Errorf("%w: undefined button bits %#02x", ErrInvalidInput, b[0]&^ButtonMask)
	}
	return Input{Buttons: b[0], AimX: int8(b[1]), AimY: int8(b[2])}, InputSize, nil
}
