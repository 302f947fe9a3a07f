package game

// Gameplay constants. Distances are in world units, speeds in fixed point per
// tick, durations in ticks of 1/TickRate seconds.
const (
	// TickRate is the number of simulation steps per second.
	TickRate = 60

	PlayerRadius    = 16               // player collision half-size and hit radius, world units
	PlayerMaxHealth = 100              // health after (re)spawn
	MaxSpeed        = 4 * FixedOne     // walking speed per tick (240 units/s)
	Accel           = FixedOne * 5 / 8 // velocity change per tick toward the target velocity
	DashSpeed       = 12 * FixedOne    // dash speed per tick (720 units/s)
	DashTicks       = 8                // ticks a dash lasts
	DashCooldown    = 45               // ticks from one dash to the next
	FireCooldown    = 10               // ticks from one shot to the next
	RespawnDelay    = 120              // ticks a dead player waits before respawning
	defaultAim      = 127              // AimX of a fresh player (facing right)
	playerHalf      = PlayerRadius << FixedShift
)

// Player is the part of a player's state that StepPlayer reads and writes,
// plus the server-owned fields (Health, Score, Deaths, RespawnTicks) that it
// only reads.
type Player struct {
	ID         uint32
	X, Y       int32 // centre, fixed point
	VX, VY     int32 // velocity, fixed point per tick
	AimX, AimY int8  // last non-zero aim direction
	Health     int16 // 0 while dead
	Score      int32 // kills (players and NPCs), saturating at MaxScore
	Deaths     int32 // saturating at MaxScore

	DashTicks    uint8 // remaining ticks of the current dash
	DashCooldown uint8 // ticks until a dash is allowed again
	FireCooldown uint8 // ticks until a shot is allowed again
	RespawnTicks uint8 // > 0 while dead: ticks until respawn
}

// Alive reports whether p is in play.
func (p Player) Alive() bool { return p.RespawnTicks == 0 }

// StepPlayer advances one player by one tick under input in, exactly as
// World.Step does: aim, cooldowns, dash, acceleration and movement with
// collision against the static geometry s. It reports whether the player
// fired this tick; spawning the projectile is the caller's job (World.Step
// does it on the server; a client may draw a predicted muzzle flash).
//
// StepPlayer is what a client predicts: given the server's Player state for a
// tick and the same inputs, replaying StepPlayer reproduces the server's
// position, velocity, aim and cooldowns bit for bit. It does not touch health,
// score, death or respawn, which only the server decides (projectile hits,
// NPCs); a dead player (RespawnTicks > 0) does not move and cannot fire.
// Players do not collide with each other, so prediction needs no other
// entity's state.
func StepPlayer(p *Player, in Input, s *Static) (fired bool) {
	if !p.Alive() {
		p.VX, p.VY, p.DashTicks = 0, 0, 0
		return false
	}
	in.Buttons &= ButtonMask
	if in.AimX != 0 || in.AimY != 0 {
		p.AimX, p.AimY = in.AimX, in.AimY
	}
	if p.DashCooldown > 0 {
		p.DashCooldown--
	}
	if p.FireCooldown > 0 {
		p.FireCooldown--
	}
	dx, dy := in.moveDir()
	if in.Buttons&ButtonDash != 0 && p.DashCooldown == 0 && p.DashTicks == 0 {
		if dx != 0 || dy != 0 {
			p.VX, p.VY = dirVec(dx, dy, DashSpeed)
		} else {
			p.VX, p.VY = scaleTo(p.AimX, p.AimY, DashSpeed)
		}
		p.DashTicks = DashTicks
		p.DashCooldown = DashCooldown
	}
	if p.DashTicks > 0 {
		p.DashTicks--
	} else {
		tx, ty := dirVec(dx, dy, MaxSpeed)
		p.VX = approach(p.VX, tx, Accel)
		p.VY = approach(p.VY, ty, Accel)
	}
	s.MoveBox(&p.X, &p.Y, &p.VX, &p.VY, playerHalf)
	if in.Buttons&ButtonFire != 0 && p.FireCooldown == 0 {
		p.FireCooldown = FireCooldown
		fired = true
	}
	return fired
}
