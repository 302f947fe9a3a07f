package protocol

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/state"
)

func TestOwnStateRebuildsThePlayer(t *testing.T) {
	w, err := game.New(game.DefaultConfig())
	require.NoError(t, err)
	require.NoError(t, w.AddPlayer(7))
	require.NoError(t, w.SetInput(7, game.Input{Buttons: game.ButtonRight | game.ButtonFire, AimX: 50, AimY: -20}))
	for range 30 {
		w.Step()
	}
	ents := w.Entities(nil)
	require.Equal(t, game.KindPlayer, ents[0].Kind)
	p, err := OwnState(ents[0].AppendFields(nil))
	require.NoError(t, err)
	want, _ := w.Player(7)
	want.ID = 0 // the client knows its ID from the Welcome
	assert.Equal(t, want, p)

	npc := ents[len(ents)-1]
	_, err = OwnState(npc.AppendFields(nil))
	assert.ErrorIs(t, err, game.ErrInvalidEntity, "an NPC is no own state")
	assert.ErrorContains(t, err, "kind = ")
	_, err = OwnState([]int32{1, 2})
	assert.ErrorIs(t, err, game.ErrInvalidEntity)
}

// The client's prediction step is the server's rule: from the same state
// with the same inputs, Stepper gives what World.Step gives.
func TestStepperMatchesTheWorld(t *testing.T) {
	w, err := game.New(game.DefaultConfig())
	require.NoError(t, err)
	require.NoError(t, w.AddPlayer(1))
	p, _ := w.Player(1)
	step := Stepper(w.Static())
	for i := range 240 {
		in := game.Input{Buttons: []uint8{game.ButtonUp, game.ButtonLeft | game.ButtonDash, game.ButtonDown | game.ButtonRight}[i/80], AimX: 100}
		b := AppendInput(nil, in)
		require.Len(t, b, game.InputSize)
		got, _, err := game.DecodeInput(b)
		require.NoError(t, err)
		require.Equal(t, in, got, "AppendInput encodes what the arena decodes")
		require.NoError(t, w.SetInput(1, in))
		w.Step()
		p = step(p, in)
		want, _ := w.Player(1)
		require.Equal(t, want, p, "tick %d", i)
	}
}

func TestCorrectionIsTheDrawnOffset(t *testing.T) {
	before := game.Player{X: game.Fixed(100), Y: game.Fixed(50), Health: 40}
	after := game.Player{X: game.Fixed(97), Y: game.Fixed(54), Health: 100}
	d := Correction(make([]float64, 5), before, after)
	assert.Equal(t, []float64{3, -4}, d)
	assert.Len(t, d, CorrectionDims)
	assert.Equal(t, []float64{0, 0}, Correction(nil, before, before), "a server-only field measures 0")
	far := Correction(nil, game.Player{X: game.Fixed(600)}, game.Player{X: game.Fixed(100), Y: game.Fixed(30)})
	assert.Greater(t, math.Hypot(far[0], far[1]), float64(SnapDistance), "a respawn across the arena snaps")
}

func TestInterpMatchesTheSchema(t *testing.T) {
	f := Interp()
	require.Len(t, f, Codec().Schema.NumFields())
	for i, m := range f {
		switch i {
		case game.FieldX, game.FieldY, game.FieldVX, game.FieldVY:
			assert.Equal(t, state.InterpLinear, m.Mode, "field %d", i)
		default:
			assert.Equal(t, state.InterpStep, m.Mode, "field %d", i)
		}
	}
}

func TestEntityFromFrameRoundsAndClamps(t *testing.T) {
	e := game.Entity{ID: 3, Kind: game.KindPlayer, X: 1000, Y: 2000, VX: -5, Health: 80}
	vals := make([]float64, 0, game.NumEntityFields)
	for _, v := range e.AppendFields(nil) {
		vals = append(vals, float64(v))
	}
	vals[game.FieldX] += 0.4
	vals[game.FieldY] = -30         // extrapolated out of the arena
	vals[game.FieldVX] = math.NaN() // never, but not a panic either
	f := &state.Frame{Stride: game.NumEntityFields, IDs: []uint32{3}, Values: vals}
	got, ok := EntityFromFrame(f, 0, nil)
	require.True(t, ok)
	want := e
	want.Y, want.VX = 0, 0
	assert.Equal(t, want, got)

	vals[game.FieldKind] = 0 // no kind
	_, ok = EntityFromFrame(f, 0, nil)
	assert.False(t, ok)
}

// FuzzOwnState: whatever fields a snapshot carries for the own entity,
// OwnState returns a player or an error, never panics, and a player it
// returns encodes back to the same fields.
func FuzzOwnState(f *testing.F) {
	p := game.Player{X: 5000, Y: 7000, VX: 3, AimX: 100, Health: 100}
	seed := func(fields []int32) []byte {
		b := make([]byte, 0, 4*len(fields))
		for _, v := range fields {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
		return b
	}
	f.Add(seed(p.Entity().AppendFields(nil)))
	f.Add(seed([]int32{2, 1, 1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fields := make([]int32, len(b)/4)
		for i := range fields {
			fields[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
		got, err := OwnState(fields)
		if err != nil {
			return
		}
		if back := got.Entity().AppendFields(nil); !slicesEqual(back, fields) {
			t.Fatalf("OwnState(%v) = %+v, which encodes to %v", fields, got, back)
		}
	})
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
