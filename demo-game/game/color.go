package game

// Colours are plain RGBA bytes (alpha 255) so that the renderer, the server
// and a screenshot test agree on what each kind of entity looks like without
// importing image/color. Every colour below is distinct from all the others,
// so a pixel's colour identifies what was drawn there.

// PlayerColor returns the colour of player id: one of eight hues, cycling
// with (id-1) mod 8 so players 1..8 all differ.
func PlayerColor(id uint32) [4]uint8 {
	palette := [8][4]uint8{
		{230, 60, 60, 255},   // red
		{60, 120, 240, 255},  // blue
		{60, 200, 90, 255},   // green
		{245, 150, 40, 255},  // orange
		{40, 210, 220, 255},  // cyan
		{220, 70, 200, 255},  // magenta
		{235, 220, 60, 255},  // yellow
		{255, 150, 180, 255}, // pink
	}
	return palette[(id-1)%uint32(len(palette))]
}

// NPCColor returns the colour of every NPC (grey).
func NPCColor() [4]uint8 { return [4]uint8{150, 150, 150, 255} }

// ProjectileColor returns the colour of every projectile (white).
func ProjectileColor() [4]uint8 { return [4]uint8{255, 255, 255, 255} }

// WallColor returns the colour of walls and obstacles (slate).
func WallColor() [4]uint8 { return [4]uint8{70, 80, 100, 255} }

// BackgroundColor returns the colour of the arena floor (near black).
func BackgroundColor() [4]uint8 { return [4]uint8{24, 26, 32, 255} }

// EntityColor returns the colour e is drawn in: PlayerColor(e.ID) for
// players, NPCColor for NPCs, ProjectileColor for projectiles and
// BackgroundColor for an invalid kind.
func EntityColor(e Entity) [4]uint8 {
	switch e.Kind {
	case KindPlayer:
		return PlayerColor(e.ID)
	case KindNPC:
		return NPCColor()
	case KindProjectile:
		return ProjectileColor()
	}
	return BackgroundColor()
}
