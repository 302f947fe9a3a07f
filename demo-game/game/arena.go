package game

// Arena size in world units.
const (
	ArenaWidth  = 1280
	ArenaHeight = 720
	// WallThickness is the thickness of the border walls in world units.
	WallThickness = 16
)

// Rect is an axis-aligned rectangle in fixed point; Min is inclusive and Max
// exclusive, so two rectangles that only share an edge do not overlap.
type Rect struct {
	MinX, MinY, MaxX, MaxY int32
}

// rectUnits builds a Rect from whole world units.
func rectUnits(minX, minY, maxX, maxY int32) Rect {
	return Rect{Fixed(minX), Fixed(minY), Fixed(maxX), Fixed(maxY)}
}

// Overlaps reports whether the box centred on (x, y) with half-size half
// overlaps r (touching edges do not count).
func (r Rect) Overlaps(x, y, half int32) bool {
	return x+half > r.MinX && x-half < r.MaxX && y+half > r.MinY && y-half < r.MaxY
}

// Point is a fixed-point position.
type Point struct{ X, Y int32 }

// Static is the arena's immutable geometry: walls and obstacles (both are
// plain rectangles in Walls; the first four are the border) and spawn
// points. The client uses it to predict its own player with StepPlayer.
//
// A Static must not be modified after it is built; a World and all its clones
// share one.
type Static struct {
	Width, Height int32   // arena size in fixed point
	Walls         []Rect  // solid rectangles: 4 border walls, then obstacles
	PlayerSpawns  []Point // player spawn points, used in rotation
	NPCSpawns     []Point // NPC spawn points
}

// NewStatic returns the demo arena: a 1280×720 room with border walls, a
// central block, four bars and two pillars. The layout is fixed, so client
// and server build identical copies without exchanging it.
func NewStatic() *Static {
	pt := func(x, y int32) Point { return Point{Fixed(x), Fixed(y)} }
	const w, h, t = ArenaWidth, ArenaHeight, WallThickness
	return &Static{
		Width:  Fixed(w),
		Height: Fixed(h),
		Walls: []Rect{
			rectUnits(0, 0, w, t),         // top
			rectUnits(0, h-t, w, h),       // bottom
			rectUnits(0, 0, t, h),         // left
			rectUnits(w-t, 0, w, h),       // right
			rectUnits(600, 320, 680, 400), // centre block
			rectUnits(240, 140, 400, 180),
			rectUnits(880, 140, 1040, 180),
			rectUnits(240, 540, 400, 580),
			rectUnits(880, 540, 1040, 580),
			rectUnits(170, 300, 210, 420),   // left pillar
			rectUnits(1070, 300, 1110, 420), // right pillar
		},
		PlayerSpawns: []Point{
			pt(80, 80), pt(1200, 640), pt(1200, 80), pt(80, 640),
			pt(640, 80), pt(640, 640), pt(100, 360), pt(1180, 360),
		},
		NPCSpawns: []Point{
			pt(480, 260), pt(800, 460), pt(800, 260), pt(480, 460),
			pt(640, 230), pt(640, 490), pt(300, 360), pt(980, 360),
		},
	}
}

// Blocked reports whether the box centred on (x, y) with half-size half
// overlaps any wall.
func (s *Static) Blocked(x, y, half int32) bool {
	for _, r := range s.Walls {
		if r.Overlaps(x, y, half) {
			return true
		}
	}
	return false
}

// MoveBox moves the box centred on (*x, *y) with half-size half by (*vx, *vy),
// one axis at a time (X first), stopping flush against any wall it would
// enter and zeroing the velocity on that axis. The sweep compares positions
// before and after the move, so a box cannot tunnel through a wall however
// fast it moves. A box that already overlaps a wall is not pushed out.
// It reports whether either axis was blocked.
func (s *Static) MoveBox(x, y, vx, vy *int32, half int32) (blocked bool) {
	bx := s.sweep(x, vx, *y, half, axisX)
	by := s.sweep(y, vy, *x, half, axisY) // after X: the box's new column
	return bx || by
}

const (
	axisX = iota
	axisY
)

// span returns r's extent on axis.
func (r Rect) span(axis int) (lo, hi int32) {
	if axis == axisX {
		return r.MinX, r.MaxX
	}
	return r.MinY, r.MaxY
}

// sweep moves *p by *v along axis, for a box of half-size half centred at q
// on the other axis, stopping flush against the first wall it would enter
// and zeroing *v when it stopped early. It reports whether a wall blocked.
func (s *Static) sweep(p, v *int32, q, half int32, axis int) (blocked bool) {
	if *v == 0 {
		return false
	}
	n := *p + *v
	for _, r := range s.Walls {
		if olo, ohi := r.span(1 - axis); q+half <= olo || q-half >= ohi {
			continue
		}
		lo, hi := r.span(axis)
		if *v > 0 && *p+half <= lo && n+half > lo {
			n = lo - half
			blocked = true
		} else if *v < 0 && *p-half >= hi && n-half < hi {
			n = hi + half
			blocked = true
		}
	}
	if n != *p+*v {
		*v = 0
	}
	*p = n
	return blocked
}
