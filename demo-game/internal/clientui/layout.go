package clientui

import (
	"math"
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
)

// Screen size of the client window in pixels. The window is fixed so that a
// screenshot taken under Xvfb has a known geometry.
const (
	ScreenWidth  = 1280
	ScreenHeight = 720
)

// Sizes of the HUD column (right) and the network panel strip (bottom) when
// the HUD is shown. With a 1280×720 screen the arena is drawn at 0.8 scale in
// the remaining 1024×576.
const (
	HUDWidth    = 256
	PanelHeight = 144
)

// Rect is a rectangle in screen pixels: X, Y is the top-left corner.
type Rect struct{ X, Y, W, H float64 }

// Contains reports whether (x, y) lies inside r (left/top edges inclusive,
// right/bottom exclusive).
func (r Rect) Contains(x, y float64) bool {
	return x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H
}

// Inset returns r shrunk by d on every side (never below zero size).
func (r Rect) Inset(d float64) Rect {
	r.X += d
	r.Y += d
	r.W = math.Max(0, r.W-2*d)
	r.H = math.Max(0, r.H-2*d)
	return r
}

// Point is a position in screen pixels.
type Point struct{ X, Y float64 }

// Layout places the arena, the HUD column and the network panel on the
// screen and maps world coordinates to pixels. The zero Layout maps
// everything to (0, 0); build one with NewLayout.
type Layout struct {
	Screen Rect
	Arena  Rect    // where the arena is drawn; aspect ratio of the arena
	Scale  float64 // pixels per world unit
	HUD    Rect    // right column with the graphs; zero when hidden
	Panel  Rect    // bottom strip: network panel, toggles, help; zero when hidden
}

// NewLayout returns the layout of a w×h screen. With the HUD shown the arena
// is scaled to fit left of a HUDWidth column and above a PanelHeight strip;
// without it the arena is scaled to fit the whole screen. Either way it keeps
// the arena's aspect ratio and is centred in the space it gets.
func NewLayout(w, h int, hud bool) Layout {
	l := Layout{Screen: Rect{0, 0, float64(w), float64(h)}}
	space := l.Screen
	if hud {
		space.W = math.Max(0, space.W-HUDWidth)
		space.H = math.Max(0, space.H-PanelHeight)
		l.HUD = Rect{space.W, 0, float64(w) - space.W, float64(h)}
		l.Panel = Rect{0, space.H, space.W, float64(h) - space.H}
	}
	l.Scale = math.Min(space.W/game.ArenaWidth, space.H/game.ArenaHeight)
	aw, ah := game.ArenaWidth*l.Scale, game.ArenaHeight*l.Scale
	l.Arena = Rect{space.X + (space.W-aw)/2, space.Y + (space.H-ah)/2, aw, ah}
	return l
}

// WorldToScreen maps a fixed-point world position to screen pixels.
func (l Layout) WorldToScreen(x, y int32) Point {
	return Point{l.Arena.X + game.Units(x)*l.Scale, l.Arena.Y + game.Units(y)*l.Scale}
}

// WorldRect maps a fixed-point world rectangle to screen pixels.
func (l Layout) WorldRect(r game.Rect) Rect {
	p := l.WorldToScreen(r.MinX, r.MinY)
	return Rect{p.X, p.Y, game.Units(r.MaxX-r.MinX) * l.Scale, game.Units(r.MaxY-r.MinY) * l.Scale}
}

// ScreenToWorld maps screen pixels to a fixed-point world position (used to
// aim with the mouse).
func (l Layout) ScreenToWorld(p Point) (x, y int32) {
	if l.Scale == 0 {
		return 0, 0
	}
	ux := (p.X - l.Arena.X) / l.Scale
	uy := (p.Y - l.Arena.Y) / l.Scale
	return int32(math.Round(ux * game.FixedOne)), int32(math.Round(uy * game.FixedOne))
}

// GraphRect returns the rectangle of the i-th of n graphs stacked in the HUD
// column: each gets an equal slot, with lineHeight pixels at the top of the
// slot for its caption and a small margin around the plot.
func (l Layout) GraphRect(i, n int, lineHeight float64) (caption Point, plot Rect) {
	if n <= 0 || l.HUD.W == 0 {
		return Point{}, Rect{}
	}
	const margin = 6
	slot := l.HUD.H / float64(n)
	top := l.HUD.Y + slot*float64(i)
	caption = Point{l.HUD.X + margin, top + 2}
	plot = Rect{
		X: l.HUD.X + margin,
		Y: top + 2 + lineHeight + 2,
		W: math.Max(0, l.HUD.W-2*margin),
		H: math.Max(0, slot-lineHeight-margin-4),
	}
	return caption, plot
}

// NiceCeil returns the smallest value of the form {1, 2, 5}·10^k that is at
// least v, for a graph's top line; v ≤ 0 gives 1.
func NiceCeil(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if c := m * p; c >= v*(1-1e-12) {
			return c
		}
	}
	return 10 * p
}

// Polyline maps the samples of s taken in (now-window, now] to points in r:
// time runs left to right with now at the right edge, values bottom to top
// from 0 to top (values outside are clamped to the edges). It appends to dst
// and returns it, so a caller that keeps dst allocates nothing per frame.
func Polyline(dst []Point, s *Series, now time.Time, r Rect, top float64) []Point {
	if top <= 0 {
		top = 1
	}
	win := s.Window().Seconds()
	from := now.Add(-s.Window())
	for i := 0; i < s.Len(); i++ {
		t, v := s.At(i)
		if !t.After(from) || t.After(now) {
			continue
		}
		age := now.Sub(t).Seconds()
		x := r.X + r.W*(1-age/win)
		f := math.Min(math.Max(v/top, 0), 1)
		y := r.Y + r.H*(1-f)
		dst = append(dst, Point{x, y})
	}
	return dst
}
