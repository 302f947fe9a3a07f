package game

import "strconv"

// Kind is the kind of an Entity.
type Kind uint8

// Entity kinds. The zero Kind is invalid.
const (
	KindPlayer Kind = 1 + iota
	KindNPC
	KindProjectile
)

// String returns "player", "npc", "projectile" or "kind(N)".
func (k Kind) String() string {
	switch k {
	case KindPlayer:
		return "player"
	case KindNPC:
		return "npc"
	case KindProjectile:
		return "projectile"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Entity ID ranges. Entity IDs are unique within a World at any moment:
// players keep the ID they were added with (1..MaxPlayerID), NPC i has ID
// NPCIDBase+i, and projectiles get ProjectileIDBase plus a counter that wraps
// after MaxPlayerID+1 shots (long after the old projectile expired).
const (
	MaxPlayerID      = 1<<24 - 1
	NPCIDBase        = 1 << 24
	ProjectileIDBase = 1 << 25
)

// Entity is a flat, render- and snapshot-friendly view of one object in the
// world. Fields that do not apply to a kind are zero:
//
//   - players: every field except Owner; the cooldown and respawn fields
//     let a client rebuild the Player for prediction (Entity.Player);
//   - NPCs: ID, Kind, X, Y, VX, VY, Health, RespawnTicks;
//   - projectiles: ID, Kind, X, Y, VX, VY, Owner (the shooter's player ID).
type Entity struct {
	ID         uint32
	Kind       Kind
	X, Y       int32 // centre, fixed point
	VX, VY     int32 // velocity, fixed point per tick
	AimX, AimY int8
	Health     int16
	Owner      uint32
	Score      int32
	Deaths     int32

	DashTicks    uint8
	DashCooldown uint8
	FireCooldown uint8
	RespawnTicks uint8 // > 0 while a player or NPC is dead (not drawn)
}

// Alive reports whether e is in play (players and NPCs wait RespawnTicks
// after dying; projectiles are always alive while they exist).
func (e Entity) Alive() bool { return e.RespawnTicks == 0 }

// Radius returns the entity's hit radius in world units.
func (e Entity) Radius() int32 {
	switch e.Kind {
	case KindPlayer:
		return PlayerRadius
	case KindNPC:
		return NPCRadius
	case KindProjectile:
		return ProjectileRadius
	}
	return 0
}

// Player returns the Player a player entity describes, for prediction.
func (e Entity) Player() Player {
	return Player{
		ID: e.ID, X: e.X, Y: e.Y, VX: e.VX, VY: e.VY, AimX: e.AimX, AimY: e.AimY,
		Health: e.Health, Score: e.Score, Deaths: e.Deaths,
		DashTicks: e.DashTicks, DashCooldown: e.DashCooldown,
		FireCooldown: e.FireCooldown, RespawnTicks: e.RespawnTicks,
	}
}

// Entity returns p as an Entity of KindPlayer; e.Player() gives p back.
func (p Player) Entity() Entity {
	return Entity{
		ID: p.ID, Kind: KindPlayer, X: p.X, Y: p.Y, VX: p.VX, VY: p.VY,
		AimX: p.AimX, AimY: p.AimY, Health: p.Health, Score: p.Score, Deaths: p.Deaths,
		DashTicks: p.DashTicks, DashCooldown: p.DashCooldown,
		FireCooldown: p.FireCooldown, RespawnTicks: p.RespawnTicks,
	}
}
