package clientui

import (
	"math"

	"github.com/tickwire/tickwire/demo-game/game"
)

// Shape kinds of a Scene.
type ShapeKind uint8

// Shapes a Scene is made of.
const (
	ShapeDisc    ShapeKind = iota + 1 // filled circle: an entity
	ShapeRing                         // circle outline: the server ghost
	ShapeRect                         // filled rectangle: a wall
	ShapeAimLine                      // line from a player's edge along its aim
	ShapeBar                          // filled rectangle above an entity: its health
)

// Health bar colours (neither is any entity's colour).
func healthBackColor() [4]uint8 { return [4]uint8{50, 52, 60, 255} }
func healthFillColor() [4]uint8 { return [4]uint8{120, 230, 140, 255} }

// Shape is one thing to draw, already in screen pixels.
type Shape struct {
	Kind   ShapeKind
	Center Point    // discs and rings; the start of an aim line
	Radius float64  // discs and rings
	Rect   Rect     // rectangles
	End    Point    // end of an aim line
	Color  [4]uint8 // RGBA, from the game's colour table
	ID     uint32   // entity ID, 0 for walls
	Label  bool     // draw the ID next to the shape
	Own    bool     // the own player's shapes (its label reads "you")
}

// OwnMarkColor is the colour of the ring around the own player: yellow,
// no entity's colour, so "which one am I" is answered at a glance.
func OwnMarkColor() [4]uint8 { return [4]uint8{255, 230, 80, 255} }

// Scene is what one frame of the arena shows, in draw order: walls, then
// NPCs, projectiles and players (the own player last, on top), then the
// ghost. It is rebuilt every frame into the same slice.
type Scene struct {
	Shapes []Shape
}

// GhostColor is the colour of the server-ghost outline: white, so that it is
// visible over every player colour and never mistaken for an entity.
func GhostColor() [4]uint8 { return [4]uint8{255, 255, 255, 255} }

// Build fills the scene for layout l: the static walls of s, every live
// entity of ents, with own drawn last (0 for none), and, when ghost is not
// nil, a ring where the server last put the own player. It reuses the
// scene's storage.
func (sc *Scene) Build(l Layout, s *game.Static, ents []game.Entity, own uint32, ghost *game.Entity) {
	sc.Shapes = sc.Shapes[:0]
	for _, w := range s.Walls {
		sc.Shapes = append(sc.Shapes, Shape{Kind: ShapeRect, Rect: l.WorldRect(w), Color: game.WallColor()})
	}
	for _, pass := range []func(game.Entity) bool{
		func(e game.Entity) bool { return e.Kind == game.KindNPC },
		func(e game.Entity) bool { return e.Kind == game.KindProjectile },
		func(e game.Entity) bool { return e.Kind == game.KindPlayer && e.ID != own },
		func(e game.Entity) bool { return e.Kind == game.KindPlayer && e.ID == own },
	} {
		for _, e := range ents {
			if pass(e) && e.Alive() {
				sc.addEntity(l, e, e.Kind == game.KindPlayer && e.ID == own)
			}
		}
	}
	if ghost != nil && ghost.Alive() {
		sc.Shapes = append(sc.Shapes, Shape{
			Kind: ShapeRing, Center: l.WorldToScreen(ghost.X, ghost.Y),
			Radius: float64(ghost.Radius()) * l.Scale, Color: GhostColor(), ID: ghost.ID,
		})
	}
}

func (sc *Scene) addEntity(l Layout, e game.Entity, own bool) {
	c := l.WorldToScreen(e.X, e.Y)
	r := float64(e.Radius()) * l.Scale
	if own {
		sc.Shapes = append(sc.Shapes, Shape{
			Kind: ShapeRing, Center: c, Radius: r + 4, Color: OwnMarkColor(), ID: e.ID, Own: true,
		})
	}
	sc.Shapes = append(sc.Shapes, Shape{
		Kind: ShapeDisc, Center: c, Radius: r, Color: game.EntityColor(e),
		ID: e.ID, Label: e.Kind == game.KindPlayer, Own: own,
	})
	if full := maxHealth(e.Kind); full > 0 {
		w := 2 * r
		back := Rect{X: c.X - r, Y: c.Y - r - 6, W: w, H: 3}
		if back.Y < l.Arena.Y {
			back.Y = c.Y + r + 3 // at the top edge: below the entity
		}
		fill := back
		fill.W = w * float64(min(max(e.Health, 0), full)) / float64(full)
		sc.Shapes = append(sc.Shapes,
			Shape{Kind: ShapeBar, Rect: back, Color: healthBackColor(), ID: e.ID},
			Shape{Kind: ShapeBar, Rect: fill, Color: healthFillColor(), ID: e.ID})
	}
	if e.Kind != game.KindPlayer || (e.AimX == 0 && e.AimY == 0) {
		return
	}
	// The aim line starts at the disc's edge so the disc keeps its colour.
	dx, dy := unit(float64(e.AimX), float64(e.AimY))
	sc.Shapes = append(sc.Shapes, Shape{
		Kind:   ShapeAimLine,
		Center: Point{c.X + dx*(r+1), c.Y + dy*(r+1)},
		End:    Point{c.X + dx*(r+10*l.Scale+4), c.Y + dy*(r+10*l.Scale+4)},
		Color:  game.EntityColor(e), ID: e.ID,
	})
}

// maxHealth returns the full health of a kind, 0 for kinds without health.
func maxHealth(k game.Kind) int16 {
	switch k {
	case game.KindPlayer:
		return game.PlayerMaxHealth
	case game.KindNPC:
		return game.NPCMaxHealth
	}
	return 0
}

func unit(x, y float64) (float64, float64) {
	l := math.Hypot(x, y)
	if l == 0 {
		return 0, 0
	}
	return x / l, y / l
}
