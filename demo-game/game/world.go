package game

import (
	"errors"
	"fmt"
	"slices"
)

// NPC and projectile constants, in the same units as the player constants:
// world units for radii, fixed point per tick for speeds, ticks for times.
const (
	NPCRadius       = 14
	NPCMaxHealth    = 40
	NPCSpeed        = 2 * FixedOne
	NPCRespawnDelay = 180

	ProjectileRadius = 4
	ProjectileSpeed  = 10 * FixedOne
	ProjectileLife   = 60 // ticks before a projectile that hit nothing expires
	ProjectileDamage = 20

	// MaxScore is where Player.Score and Player.Deaths stop counting.
	MaxScore = 1<<16 - 1

	npcHalf        = NPCRadius << FixedShift
	projectileHalf = ProjectileRadius << FixedShift
)

// Limits on Config values.
const (
	MaxNPCs          = 256
	MaxPlayersLimit  = 4096
	defaultNPCs      = 6
	defaultMaxPlayer = 256
)

// Errors returned by World methods; test with errors.Is.
var (
	ErrInvalidConfig   = errors.New("game: invalid config")
	ErrInvalidPlayerID = errors.New("game: invalid player id")
	ErrPlayerExists    = errors.New("game: player already exists")
	ErrUnknownPlayer   = errors.New("game: unknown player")
	ErrWorldFull       = errors.New("game: world is full")
)

// Config configures a World. Use DefaultConfig and change what you need.
type Config struct {
	// NPCs is the number of server-driven wanderers, 0..MaxNPCs (default 6).
	NPCs int
	// MaxPlayers bounds AddPlayer, 1..MaxPlayersLimit (default 256).
	MaxPlayers int
	// Seed seeds the NPCs' random movement; equal seeds give equal worlds.
	Seed uint64
}

// DefaultConfig returns 6 NPCs, 256 players at most and seed 1.
func DefaultConfig() Config {
	return Config{NPCs: defaultNPCs, MaxPlayers: defaultMaxPlayer, Seed: 1}
}

// Validate reports the first out-of-range field, naming it, its value and
// the allowed range; the error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	if c.NPCs < 0 || c.NPCs > MaxNPCs {
		return fmt.Errorf("%w: NPCs = %d, want 0..%d", ErrInvalidConfig, c.NPCs, MaxNPCs)
	}
	if c.MaxPlayers < 1 || c.MaxPlayers > MaxPlayersLimit {
		return fmt.Errorf("%w: MaxPlayers = %d, want 1..%d", ErrInvalidConfig, c.MaxPlayers, MaxPlayersLimit)
	}
	return nil
}

type playerSlot struct {
	p  Player
	in Input // applied on every Step until SetInput replaces it
}

type npc struct {
	x, y, vx, vy int32
	health       int16
	timer        uint8 // ticks until the next change of direction
	respawnTicks uint8
	rng          rng
}

type projectile struct {
	id, owner    uint32
	x, y, vx, vy int32
	life         uint8
}

// World is the authoritative game state: players, NPCs and projectiles in one
// arena, advanced one fixed tick (1/TickRate s) at a time by Step. It is
// deterministic: the same Config and the same sequence of calls give
// bit-identical state (see Checksum) on every machine.
//
// A World is not safe for concurrent use. Its zero value is not usable; call
// New. Clone and CopyFrom make independent copies (sharing only the immutable
// Static) for clients that rewind and replay.
type World struct {
	static      *Static
	tick        uint32
	maxPlayers  int
	players     []playerSlot // sorted by ID
	npcs        []npc
	projectiles []projectile // in spawn order
	shots       uint32       // projectiles ever fired; source of projectile IDs
	nextSpawn   uint32       // index into static.PlayerSpawns, rotating

	grid targetGrid // scratch for hit tests; not state
}

// New returns a World at tick 0 with the NPCs of cfg spawned and no players.
func New(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &World{
		static:      NewStatic(),
		maxPlayers:  cfg.MaxPlayers,
		players:     make([]playerSlot, 0, min(cfg.MaxPlayers, 64)),
		npcs:        make([]npc, cfg.NPCs),
		projectiles: make([]projectile, 0, 64),
	}
	for i := range w.npcs {
		n := &w.npcs[i]
		n.rng = newRNG(cfg.Seed ^ uint64(i)*0x9E3779B97F4A7C15)
		w.spawnNPC(n)
	}
	return w, nil
}

// Static returns the arena geometry (shared, immutable).
func (w *World) Static() *Static { return w.static }

// Tick returns the number of Steps taken so far.
func (w *World) Tick() uint32 { return w.tick }

// NumPlayers returns the number of players in the world.
func (w *World) NumPlayers() int { return len(w.players) }

func (w *World) find(id uint32) (int, bool) {
	return slices.BinarySearchFunc(w.players, id, func(s playerSlot, id uint32) int {
		switch {
		case s.p.ID < id:
			return -1
		case s.p.ID > id:
			return 1
		}
		return 0
	})
}

// AddPlayer adds a player with the given ID (1..MaxPlayerID) at the next
// spawn point, alive, with no input. It fails with ErrInvalidPlayerID,
// ErrPlayerExists or ErrWorldFull.
func (w *World) AddPlayer(id uint32) error {
	if id == 0 || id > MaxPlayerID {
		return fmt.Errorf("%w: %d, want 1..%d", ErrInvalidPlayerID, id, MaxPlayerID)
	}
	i, ok := w.find(id)
	if ok {
		return fmt.Errorf("%w: %d", ErrPlayerExists, id)
	}
	if len(w.players) >= w.maxPlayers {
		return fmt.Errorf("%w: %d players (Config.MaxPlayers)", ErrWorldFull, len(w.players))
	}
	w.players = slices.Insert(w.players, i, playerSlot{p: Player{ID: id, AimX: defaultAim}})
	w.spawnPlayer(&w.players[i].p)
	return nil
}

// RemovePlayer removes a player and reports whether it was present. Its
// projectiles stay in flight; kills they make are credited to nobody.
func (w *World) RemovePlayer(id uint32) bool {
	i, ok := w.find(id)
	if ok {
		w.players = slices.Delete(w.players, i, i+1)
	}
	return ok
}

// SetInput sets the input a player uses on every following Step until the
// next SetInput (so a missing input repeats the last one); button bits
// outside ButtonMask are ignored. It returns an
// error wrapping ErrUnknownPlayer for an absent player.
func (w *World) SetInput(id uint32, in Input) error {
	i, ok := w.find(id)
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownPlayer, id)
	}
	w.players[i].in = in
	return nil
}

// Player returns a copy of a player's state.
func (w *World) Player(id uint32) (Player, bool) {
	i, ok := w.find(id)
	if !ok {
		return Player{}, false
	}
	return w.players[i].p, true
}

// SetPlayer overwrites the state of the player with p.ID, e.g. to load a
// server snapshot into a client's local World; it returns an error wrapping
// ErrUnknownPlayer for an absent player.
func (w *World) SetPlayer(p Player) error {
	i, ok := w.find(p.ID)
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownPlayer, p.ID)
	}
	w.players[i].p = p
	return nil
}

func (w *World) spawnPlayer(p *Player) {
	sp := w.static.PlayerSpawns[w.nextSpawn%uint32(len(w.static.PlayerSpawns))]
	w.nextSpawn++
	p.X, p.Y, p.VX, p.VY = sp.X, sp.Y, 0, 0
	p.Health = PlayerMaxHealth
	p.DashTicks, p.DashCooldown, p.FireCooldown, p.RespawnTicks = 0, 0, 0, 0
}

func (w *World) spawnNPC(n *npc) {
	sp := w.static.NPCSpawns[n.rng.intn(uint32(len(w.static.NPCSpawns)))]
	n.x, n.y, n.vx, n.vy = sp.X, sp.Y, 0, 0
	n.health = NPCMaxHealth
	n.timer, n.respawnTicks = 0, 0
}

// Step advances the world by one tick, in this order:
//  1. players in ID order: dead ones count down and respawn at the next spawn
//     point; living ones move by StepPlayer with their current input and, when
//     it reports a shot, spawn a projectile along their aim;
//  2. NPCs in index order: respawn countdown, or a random walk in one of
//     eight directions (or a pause) for a random 30..119 ticks, turning early
//     when they bump into a wall;
//  3. projectiles in spawn order: move; removed on touching a wall, on their
//     first hit (players in ID order, then NPCs; never their owner) or when
//     their life runs out. A hit takes ProjectileDamage health; a kill
//     gives the owner one point and starts the victim's respawn countdown.
//
// Step does not allocate once the projectile slice has grown to its working
// size.
func (w *World) Step() {
	w.tick++
	for i := range w.players {
		s := &w.players[i]
		p := &s.p
		if p.RespawnTicks > 0 {
			p.RespawnTicks--
			if p.RespawnTicks == 0 {
				w.spawnPlayer(p)
			}
		}
		if StepPlayer(p, s.in, w.static) {
			w.fire(p)
		}
	}
	for i := range w.npcs {
		w.stepNPC(&w.npcs[i])
	}
	w.stepProjectiles()
}

func (w *World) fire(p *Player) {
	ux, uy := scaleTo(p.AimX, p.AimY, playerHalf+projectileHalf+FixedOne)
	vx, vy := scaleTo(p.AimX, p.AimY, ProjectileSpeed)
	w.projectiles = append(w.projectiles, projectile{
		id:    ProjectileIDBase + w.shots&MaxPlayerID,
		owner: p.ID,
		x:     p.X + ux, y: p.Y + uy, vx: vx, vy: vy,
		life: ProjectileLife,
	})
	w.shots++
}

func (w *World) stepNPC(n *npc) {
	if n.respawnTicks > 0 {
		n.respawnTicks--
		if n.respawnTicks == 0 {
			w.spawnNPC(n)
		}
		return
	}
	if n.timer == 0 {
		// 0 = pause, 1..8 = the eight directions clockwise from east.
		var dx, dy int32
		switch n.rng.intn(9) {
		case 1:
			dx = 1
		case 2:
			dx, dy = 1, 1
		case 3:
			dy = 1
		case 4:
			dx, dy = -1, 1
		case 5:
			dx = -1
		case 6:
			dx, dy = -1, -1
		case 7:
			dy = -1
		case 8:
			dx, dy = 1, -1
		}
		n.vx, n.vy = dirVec(dx, dy, NPCSpeed)
		n.timer = uint8(30 + n.rng.intn(90))
	}
	n.timer--
	if w.static.MoveBox(&n.x, &n.y, &n.vx, &n.vy, npcHalf) {
		n.timer = 0
	}
}

// hits reports whether circles of the given world-unit radii centred at
// fixed-point (ax, ay) and (bx, by) overlap.
func hits(ax, ay, bx, by int32, radii int64) bool {
	dx, dy := int64(ax)-int64(bx), int64(ay)-int64(by)
	r := radii << FixedShift
	return dx*dx+dy*dy < r*r
}

func (w *World) stepProjectiles() {
	if len(w.projectiles) == 0 {
		return
	}
	w.grid.build(w)
	keep := w.projectiles[:0]
	for _, pr := range w.projectiles {
		pr.x += pr.vx
		pr.y += pr.vy
		pr.life--
		if w.static.Blocked(pr.x, pr.y, projectileHalf) || w.hit(&pr) || pr.life == 0 {
			continue
		}
		keep = append(keep, pr)
	}
	clear(w.projectiles[len(keep):])
	w.projectiles = keep
}

// touches reports whether pr can hit target i (player i, or NPC
// i-len(players)) now: alive, not pr's owner, circles overlapping.
func (w *World) touches(pr *projectile, i int) bool {
	if i < len(w.players) {
		p := &w.players[i].p
		return p.ID != pr.owner && p.Alive() && hits(pr.x, pr.y, p.X, p.Y, PlayerRadius+ProjectileRadius)
	}
	n := &w.npcs[i-len(w.players)]
	return n.respawnTicks == 0 && hits(pr.x, pr.y, n.x, n.y, NPCRadius+ProjectileRadius)
}

// hit applies pr's damage to the first target it touches (players in ID
// order, then NPCs) and reports whether it hit one.
func (w *World) hit(pr *projectile) bool {
	i := w.grid.firstHit(w, pr)
	if i < 0 {
		return false
	}
	if i < len(w.players) {
		p := &w.players[i].p
		p.Health -= ProjectileDamage
		if p.Health <= 0 {
			p.Health = 0
			if p.Deaths < MaxScore {
				p.Deaths++
			}
			p.RespawnTicks = RespawnDelay
			p.VX, p.VY, p.DashTicks = 0, 0, 0
			w.credit(pr.owner)
		}
		return true
	}
	n := &w.npcs[i-len(w.players)]
	n.health -= ProjectileDamage
	if n.health <= 0 {
		n.health = 0
		n.respawnTicks = NPCRespawnDelay
		n.vx, n.vy = 0, 0
		w.credit(pr.owner)
	}
	return true
}

func (w *World) credit(owner uint32) {
	if i, ok := w.find(owner); ok {
		if p := &w.players[i].p; p.Score < MaxScore {
			p.Score++
		}
	}
}

// Entities appends every entity to dst and returns it: players in ID order,
// then NPCs (ID NPCIDBase+i), then projectiles in spawn order. Dead players
// and NPCs are included with RespawnTicks > 0. It does not allocate when dst
// has room.
func (w *World) Entities(dst []Entity) []Entity {
	for i := range w.players {
		dst = append(dst, w.players[i].p.Entity())
	}
	for i := range w.npcs {
		n := &w.npcs[i]
		dst = append(dst, Entity{
			ID: NPCIDBase + uint32(i), Kind: KindNPC,
			X: n.x, Y: n.y, VX: n.vx, VY: n.vy,
			Health: n.health, RespawnTicks: n.respawnTicks,
		})
	}
	for i := range w.projectiles {
		pr := &w.projectiles[i]
		dst = append(dst, Entity{
			ID: pr.id, Kind: KindProjectile, Owner: pr.owner,
			X: pr.x, Y: pr.y, VX: pr.vx, VY: pr.vy,
		})
	}
	return dst
}

// Clone returns an independent deep copy of w (sharing the immutable Static).
func (w *World) Clone() *World {
	c := &World{}
	c.CopyFrom(w)
	return c
}

// CopyFrom makes w an exact copy of src, reusing w's memory; use it to rewind
// a scratch world without allocating.
func (w *World) CopyFrom(src *World) {
	players, npcs, projectiles, grid := w.players, w.npcs, w.projectiles, w.grid
	*w = *src
	w.grid = grid // scratch is never shared between worlds
	w.players = append(players[:0], src.players...)
	w.npcs = append(npcs[:0], src.npcs...)
	w.projectiles = append(projectiles[:0], src.projectiles...)
}

// Checksum returns a 64-bit hash of the complete state (tick, players with
// their current inputs, NPCs with their RNG state, projectiles, counters).
// Equal worlds have equal checksums; use it to detect desyncs cheaply.
func (w *World) Checksum() uint64 {
	h := hasher(14695981039346656037)
	h.add(uint64(w.tick), uint64(w.shots), uint64(w.nextSpawn), uint64(len(w.players)),
		uint64(len(w.npcs)), uint64(len(w.projectiles)))
	for i := range w.players {
		s := &w.players[i]
		p := &s.p
		h.add(uint64(p.ID), u32(p.X), u32(p.Y), u32(p.VX), u32(p.VY),
			uint64(uint8(p.AimX)), uint64(uint8(p.AimY)), uint64(uint16(p.Health)),
			u32(p.Score), u32(p.Deaths), uint64(p.DashTicks), uint64(p.DashCooldown),
			uint64(p.FireCooldown), uint64(p.RespawnTicks),
			uint64(s.in.Buttons), uint64(uint8(s.in.AimX)), uint64(uint8(s.in.AimY)))
	}
	for i := range w.npcs {
		n := &w.npcs[i]
		h.add(u32(n.x), u32(n.y), u32(n.vx), u32(n.vy), uint64(uint16(n.health)),
			uint64(n.timer), uint64(n.respawnTicks), uint64(n.rng))
	}
	for i := range w.projectiles {
		pr := &w.projectiles[i]
		h.add(uint64(pr.id), uint64(pr.owner), u32(pr.x), u32(pr.y), u32(pr.vx), u32(pr.vy), uint64(pr.life))
	}
	return uint64(h)
}

func u32(v int32) uint64 { return uint64(uint32(v)) }

// hasher is FNV-1a over 64-bit words with an extra xor-shift per word so
// that every input bit reaches the high bits.
type hasher uint64

func (h *hasher) add(vs ...uint64) {
	x := uint64(*h)
	for _, v := range vs {
		x ^= v
		x *= 1099511628211
		x ^= x >> 32
	}
	*h = hasher(x)
}
