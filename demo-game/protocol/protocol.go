// Package protocol is what the demo's server (package arena) and its
// clients (the ebiten client and the bots) must agree on: the netcode
// protocol id, the snapshot codec and the game messages. Both halves import
// it; it imports neither.
package protocol

import (
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
