// Package protocol is what the demo's server (package arena) and its
// clients (the ebiten client and the bots) must agree on: the netcode
// protocol id, the snapshot codec, how a tick's input is encoded, and how a
// client rebuilds, predicts and measures its own player from a snapshot
// (the pieces of a server/client Config). Both halves import it; it imports
// neither package server nor server/client, only the rules
// (demo-game/game) and the snapshot codec's types (netcode/state).
//
// A client of the demo is a client.Client[game.Player, game.Input] whose
// Config takes Codec, OwnState, AppendInput, Stepper(game.NewStatic()),
// state.EqualComparable[game.Player], InputRedundancy, Correction with
// CorrectionDims and SnapDistance, and Interp.
//
// Everything here is a pure function or a constant: safe for concurrent use.
package protocol

import (
	"fmt"
	"math"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/state"
)

// ProtocolID is the demo's netcode protocol id ("TICKWIRE" in ASCII).
const ProtocolID uint64 = 0x5449434B57495245

// Codec returns the snapshot codec configuration of the demo: one field per
// game.EntityFields entry, so a snapshot entity is exactly a game.Entity.
func Codec() state.CodecConfig {
	specs := game.EntityFields()
	fields := make([]state.Field, len(specs))
	for i, f := range specs {
		fields[i] = state.Field{Name: f.Name, Bits: f.Bits, Signed: f.Signed}
	}
	return state.CodecConfig{Schema: state.Schema{Fields: fields}}
}

// OwnState rebuilds the predicted state of a client's own player from its
// snapshot fields (a client Config's OwnState). The Player's ID is left 0:
// the client knows its ID from the server's Welcome. Fields that are not a
// valid player entity (another kind, a value out of its range) are an error
// wrapping game.ErrInvalidEntity.
func OwnState(fields []int32) (game.Player, error) {
	e, err := game.EntityFromFields(0, fields)
	if err != nil {
		return game.Player{}, err
	}
	if e.Kind != game.KindPlayer {
		return game.Player{}, fmt.Errorf("%w: kind = %v, want %v", game.ErrInvalidEntity, e.Kind, game.KindPlayer)
	}
	return e.Player(), nil
}

// AppendInput appends the game.InputSize-byte encoding of in to dst (a
// client Config's AppendInput): what the arena's ApplyInput decodes.
func AppendInput(dst []byte, in game.Input) []byte {
	b, _ := in.AppendBinary(dst) // never fails
	return b
}

// Stepper returns a client Config's Step for the arena s (game.NewStatic()):
// game.StepPlayer, the rule the server's World.Step runs for every player,
// so that a prediction with the server's inputs is bit-identical.
func Stepper(s *game.Static) func(game.Player, game.Input) game.Player {
	return func(p game.Player, in game.Input) game.Player {
		game.StepPlayer(&p, in, s)
		return p
	}
}

// InputRedundancy is how many times a demo client sends each tick's input
// (a client Config's InputRedundancy): in 8 consecutive frames, so that an
// input is lost for good only when 8 packets in a row are (10⁻⁸ at 10%
// loss). The runtime's lead makes the first copies arrive in time; the
// later ones cost 3 bytes each and still save the input when a burst of
// loss took the first ones.
const InputRedundancy = 8

// CorrectionDims is the length of Correction's result (dx, dy).
const CorrectionDims = 2

// SnapDistance is the correction, in world units, above which the own player
// snaps instead of sliding: a respawn is a teleport, and sliding across the
// arena would draw the player where it never was.
const SnapDistance = 64

// Correction appends to dst[:0] the visible difference before − after of
// two predicted states in world units (dx, dy): a client Config's Correction.
// A correction of a field the client does not draw from the prediction
// (health, score, the respawn countdown) measures 0.
func Correction(dst []float64, before, after game.Player) []float64 {
	return append(dst[:0], game.Units(before.X-after.X), game.Units(before.Y-after.Y))
}

// Interp returns how each snapshot field of a remote entity is interpolated
// (a client Config's Interp): position and velocity linearly, everything
// else (kind, aim, health, owner, scores, timers) in steps.
func Interp() []state.FieldInterp {
	f := make([]state.FieldInterp, game.NumEntityFields)
	for i := range f {
		f[i].Mode = state.InterpStep
	}
	for _, i := range []int{game.FieldX, game.FieldY, game.FieldVX, game.FieldVY} {
		f[i].Mode = state.InterpLinear
	}
	return f
}

// EntityFromFrame rebuilds entity i of an interpolated frame (the Frame a
// client's Remote returns) as a game.Entity for drawing: each field rounded
// to the nearest integer and clamped into its game.EntityFields range
// (extrapolation may overshoot it). ok is false when the result is no valid
// entity (a kind the frame does not hold).
func EntityFromFrame(f *state.Frame, i int, buf []int32) (e game.Entity, ok bool) {
	vals := f.Fields(i)
	buf = buf[:0]
	for k, spec := range game.EntityFields() {
		if k >= len(vals) {
			return game.Entity{}, false
		}
		lo, hi := 0.0, float64(int64(1)<<spec.Bits-1)
		if spec.Signed {
			lo, hi = -float64(int64(1)<<(spec.Bits-1)), float64(int64(1)<<(spec.Bits-1)-1)
		}
		v := vals[k]
		if math.IsNaN(v) {
			v = 0
		}
		buf = append(buf, int32(min(max(math.Round(v), lo), hi)))
	}
	e, err := game.EntityFromFields(f.IDs[i], buf)
	return e, err == nil
}
