package arena

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
)

// Limits of Config.
const (
	// DefaultMaxViewEntities is Config.MaxViewEntities when it is zero: the
	// client's snapshot decoder limit (state.DefaultMaxEntities).
	DefaultMaxViewEntities = state.DefaultMaxEntities
	// MaxViewRadius is the largest Config.ViewRadius: the arena's diagonal
	// is shorter, so anything larger means the whole arena.
	MaxViewRadius = 1 << 14
)

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("arena: invalid config")

// Config configures an Arena. The zero value is valid: the default world
// (game.DefaultConfig), the whole arena in every view, and at most
// DefaultMaxViewEntities entities per snapshot.
type Config struct {
	// Game configures the world (NPCs, MaxPlayers, Seed); the zero value
	// means game.DefaultConfig().
	Game game.Config
	// ViewRadius, in world units (0..MaxViewRadius), limits each
	// viewer's snapshot to the entities within this distance of it; 0
	// means the whole arena.
	ViewRadius int
	// MaxViewEntities caps the entities of one snapshot
	// (1..DefaultMaxViewEntities; 0 means DefaultMaxViewEntities).
	MaxViewEntities int
}

func (c Config) withDefaults() Config {
	if c.Game == (game.Config{}) {
		c.Game = game.DefaultConfig()
	}
	if c.MaxViewEntities == 0 {
		c.MaxViewEntities = DefaultMaxViewEntities
	}
	return c
}

// Validate reports the first bad field, naming it, its value and what is
// allowed; the error wraps ErrInvalidConfig (and game.ErrInvalidConfig for
// a bad Game).
func (c Config) Validate() error {
	if c.ViewRadius < 0 || c.ViewRadius > MaxViewRadius {
		return fmt.Errorf("%w: ViewRadius = %d, want 0 (the whole arena) or 1..%d world units", ErrInvalidConfig, c.ViewRadius, MaxViewRadius)
	}
	if c.MaxViewEntities < 0 || c.MaxViewEntities > DefaultMaxViewEntities {
		return fmt.Errorf("%w: MaxViewEntities = %d, want 0 (default %d) or 1..%d", ErrInvalidConfig, c.MaxViewEntities, DefaultMaxViewEntities, DefaultMaxViewEntities)
	}
	if c.Game != (game.Config{}) {
		if err := c.Game.Validate(); err != nil {
			return fmt.Errorf("%w: Game: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

// Codec returns the snapshot codec of the demo (protocol.Codec), which its
// clients use too, so that what the server encodes the client decodes.
func Codec() state.CodecConfig { return protocol.Codec() }

// Stats counts what an Arena saw.
type Stats struct {
	Ticks     uint64 // Step calls
	Players   int    // players now
	Joined    uint64 // players added
	Refused   uint64 // AddPlayer calls that failed (world full, bad id)
	Left      uint64 // players removed
	Inputs    uint64 // inputs applied
	BadInputs uint64 // inputs that did not decode, ignored
	Entities  int    // entities in the world after the last Step
}

// Arena is the demo's server.Game: see the package documentation.
type Arena struct {
	cfg   Config
	world *game.World

	// Prepared by Step (and by AddPlayer/RemovePlayer) for Snapshot and View, which
	// only reads them: every entity, and the index of each player's.
	ents []game.Entity
	byID map[uint32]int
	diag float64 // the arena's diagonal, in fixed point (Priority)

	ticks, joined, refused, left, inputs, bad atomic.Uint64
	players, entities                         atomic.Int64
}

// Arena is a server.Game.
var _ server.Game = (*Arena)(nil)

// New returns an arena with the world of cfg (NPCs spawned, no players).
func New(cfg Config) (*Arena, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	w, err := game.New(cfg.Game)
	if err != nil {
		return nil, fmt.Errorf("arena: %w", err)
	}
	a := &Arena{cfg: cfg, world: w, byID: map[uint32]int{},
		diag: math.Hypot(float64(game.Fixed(game.ArenaWidth)), float64(game.Fixed(game.ArenaHeight)))}
	a.prepare()
	return a, nil
}

// World returns the arena's world. Read it only from the goroutine that
// runs the server (or after the server stopped).
func (a *Arena) World() *game.World { return a.world }

// Stats returns the counters; safe from any goroutine.
func (a *Arena) Stats() Stats {
	return Stats{
		Ticks: a.ticks.Load(), Players: int(a.players.Load()), Joined: a.joined.Load(), Refused: a.refused.Load(),
		Left: a.left.Load(), Inputs: a.inputs.Load(), BadInputs: a.bad.Load(), Entities: int(a.entities.Load()),
	}
}

// AddPlayer adds the player at the next spawn point. It fails (and the
// server refuses the client) when the world is full (Config.Game.MaxPlayers)
// or id is out of game's range.
func (a *Arena) AddPlayer(id server.PlayerID) error {
	if uint64(id) > game.MaxPlayerID {
		a.refused.Add(1)
		return fmt.Errorf("arena: player %d: %w", id, game.ErrInvalidPlayerID)
	}
	if err := a.world.AddPlayer(uint32(id)); err != nil {
		a.refused.Add(1)
		return fmt.Errorf("arena: %w", err)
	}
	a.joined.Add(1)
	a.prepare()
	return nil
}

// RemovePlayer removes the player; its projectiles fly on.
func (a *Arena) RemovePlayer(id server.PlayerID) {
	if uint64(id) <= game.MaxPlayerID && a.world.RemovePlayer(uint32(id)) {
		a.left.Add(1)
		a.prepare()
	}
}

// ApplyInput makes input the player's input from this tick on. Anything
// that is not exactly one encoded game.Input is counted and ignored (the
// player keeps its previous input); it never panics.
func (a *Arena) ApplyInput(id server.PlayerID, _ uint32, input []byte) {
	in, n, err := game.DecodeInput(input)
	if err != nil || n != len(input) || uint64(id) > game.MaxPlayerID {
		a.bad.Add(1)
		return
	}
	if a.world.SetInput(uint32(id), in) != nil {
		a.bad.Add(1)
		return
	}
	a.inputs.Add(1)
}

// Step advances the world by one tick and prepares the snapshots' entities.
func (a *Arena) Step(uint32) {
	a.world.Step()
	a.ticks.Add(1)
	a.prepare()
}

// prepare lists the world's entities and indexes the players'.
func (a *Arena) prepare() {
	a.ents = a.world.Entities(a.ents[:0])
	clear(a.byID)
	for i, e := range a.ents {
		if e.Kind != game.KindPlayer {
			break // players come first
		}
		a.byID[e.ID] = i
	}
	a.players.Store(int64(len(a.byID)))
	a.entities.Store(int64(len(a.ents)))
}

// Snapshot adds every entity of the arena to dst (server.Game): the
// world, which the server shares between every viewer's snapshot.
func (a *Arena) Snapshot(_ uint32, dst *state.Snapshot) {
	for i := range a.ents {
		add(dst, &a.ents[i])
	}
}

// View marks the entities of world that viewer sees (server.Interest; see
// the package documentation): its own player first, then the others
// within the view radius, up to the entity cap. It only reads the arena,
// so it may run concurrently for different viewers.
func (a *Arena) View(viewer server.PlayerID, world *state.Snapshot, v *state.View) {
	limit := a.cfg.MaxViewEntities
	if a.cfg.ViewRadius == 0 && world.Len() <= limit {
		v.SetAll(world.Len()) // the whole arena: nothing to store per snapshot
		return
	}
	mark := func(e *game.Entity) {
		if i, ok := world.Find(e.ID); ok {
			v.Add(i)
			limit--
		}
	}
	vi, haveViewer := a.byID[uint32(viewer)]
	if haveViewer {
		mark(&a.ents[vi])
	}
	r := int64(a.cfg.ViewRadius) << game.FixedShift
	var vx, vy int64
	if haveViewer {
		vx, vy = int64(a.ents[vi].X), int64(a.ents[vi].Y)
	}
	for i := range a.ents {
		if limit == 0 {
			return
		}
		e := &a.ents[i]
		if haveViewer && i == vi {
			continue
		}
		if r > 0 {
			if !haveViewer {
				return // a viewer with no player sees nothing beyond itself
			}
			dx, dy := int64(e.X)-vx, int64(e.Y)-vy
			if dx*dx+dy*dy > r*r {
				continue
			}
		}
		mark(e)
	}
}

// Priority makes the arena a server.Prioritizer, for players whose
// snapshots cannot carry the whole arena (a server send budget): the
// viewer's own player is urgent (in every snapshot), and the others matter
// more the nearer they are: from 1 at the far side of the arena to 9 next
// to the viewer. It only reads the arena, like View.
func (a *Arena) Priority(viewer server.PlayerID, world *state.Snapshot, i int) float32 {
	if world.IDs[i] == uint32(viewer) {
		return server.UrgentPriority
	}
	vi, ok := a.byID[uint32(viewer)]
	if !ok {
		return 1
	}
	f := world.Fields(i)
	dx := float64(f[game.FieldX]) - float64(a.ents[vi].X)
	dy := float64(f[game.FieldY]) - float64(a.ents[vi].Y)
	d := math.Sqrt(dx*dx+dy*dy) / a.diag
	return float32(1 + 8*max(0, 1-d))
}

// add appends e to the snapshot; the world keeps every field in its schema
// range (game.EntityFields).
func add(dst *state.Snapshot, e *game.Entity) {
	f := dst.Add(e.ID)
	_ = e.AppendFields(f[:0])
}
