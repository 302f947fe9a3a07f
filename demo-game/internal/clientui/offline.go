package clientui

import (
	"github.com/tickwire/tickwire/demo-game/game"
)

// OfflinePlayerID is the ID of the local player in offline mode.
const OfflinePlayerID = 1

// Offline runs the game rules in the client, without a server: one local
// player and the NPCs, stepped once per client tick. It is what -offline
// draws, and what a screenshot test replays to know where everything is.
type Offline struct {
	w    *game.World
	ents []game.Entity
}

// NewOffline returns a world with the given seed and NPC count and the local
// player added.
func NewOffline(seed uint64, npcs int) (*Offline, error) {
	cfg := game.DefaultConfig()
	cfg.Seed, cfg.NPCs = seed, npcs
	w, err := game.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := w.AddPlayer(OfflinePlayerID); err != nil {
		return nil, err
	}
	o := &Offline{w: w}
	o.ents = w.Entities(o.ents[:0])
	return o, nil
}

// Step applies in to the local player and advances the world one tick.
func (o *Offline) Step(in game.Input) {
	// The input is valid by construction (ReadInput, Script); an error here
	// would mean the local player vanished, which Offline never does.
	_ = o.w.SetInput(OfflinePlayerID, in)
	o.w.Step()
	o.ents = o.w.Entities(o.ents[:0])
}

// Tick returns the world's tick.
func (o *Offline) Tick() uint32 { return o.w.Tick() }

// Entities returns every entity after the last Step; the slice is reused by
// the next Step.
func (o *Offline) Entities() []game.Entity { return o.ents }

// Static returns the arena geometry.
func (o *Offline) Static() *game.Static { return o.w.Static() }

// Own returns the first entity of ents with the given ID, or false.
func Own(ents []game.Entity, id uint32) (game.Entity, bool) {
	for _, e := range ents {
		if e.ID == id {
			return e, true
		}
	}
	return game.Entity{}, false
}
