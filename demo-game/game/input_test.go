package game

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInputRoundTrip(t *testing.T) {
	tests := []Input{
		{},
		{Buttons: ButtonUp | ButtonLeft, AimX: -128, AimY: 127},
		{Buttons: ButtonMask, AimX: 1, AimY: -1},
		{Buttons: ButtonFire, AimX: 0, AimY: 0},
	}
	for _, in := range tests {
		b, err := in.AppendBinary([]byte{0xAA})
		require.NoError(t, err)
		require.Len(t, b, 1+InputSize)
		got, n, err := DecodeInput(b[1:])
		require.NoError(t, err)
		assert.Equal(t, InputSize, n)
		assert.Equal(t, in, got)

		m, err := in.MarshalBinary()
		require.NoError(t, err)
		var u Input
		require.NoError(t, u.UnmarshalBinary(m))
		assert.Equal(t, in, u)
	}
}

func TestInputEncodingIsFixed(t *testing.T) {
	b, _ := Input{Buttons: ButtonRight | ButtonFire, AimX: -2, AimY: 5}.AppendBinary(nil)
	assert.Equal(t, []byte{0x18, 0xFE, 0x05}, b)
}

func TestDecodeInputErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", []byte{1, 2}},
		{"undefined button bit", []byte{0x40, 0, 0}},
		{"high bit", []byte{0x81, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, n, err := DecodeInput(tt.b)
			assert.ErrorIs(t, err, ErrInvalidInput)
			assert.Zero(t, n)
		})
	}
	var in Input
	assert.ErrorIs(t, in.UnmarshalBinary([]byte{1, 2, 3, 4}), ErrInvalidInput, "trailing bytes")
}

func TestInputAppendDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 16)
	in := Input{Buttons: ButtonDash, AimX: 3}
	allocs := testing.AllocsPerRun(100, func() {
		b, _ := in.AppendBinary(buf[:0])
		_, _, _ = DecodeInput(b)
	})
	assert.Zero(t, allocs)
}

func FuzzDecodeInput(f *testing.F) {
	for _, in := range []Input{{}, {Buttons: ButtonMask, AimX: -128, AimY: 127}, {Buttons: ButtonFire, AimX: 90}} {
		b, _ := in.AppendBinary(nil)
		f.Add(b)
	}
	f.Add([]byte{0xFF, 0, 0})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, n, err := DecodeInput(b)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidInput)
			require.Zero(t, n)
			return
		}
		require.Equal(t, InputSize, n)
		require.Zero(t, in.Buttons&^ButtonMask)
		enc, err := in.AppendBinary(nil)
		require.NoError(t, err)
		require.Equal(t, b[:n], enc, "re-encoding differs")
	})
}
