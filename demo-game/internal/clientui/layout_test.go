package clientui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
)

func TestNewLayout(t *testing.T) {
	tests := []struct {
		name        string
		w, h        int
		hud         bool
		arena       Rect
		scale       float64
		hudR, panel Rect
	}{
		{"hud shown", 1280, 720, true, Rect{0, 0, 1024, 576}, 0.8,
			Rect{1024, 0, 256, 720}, Rect{0, 576, 1024, 144}},
		{"hud hidden", 1280, 720, false, Rect{0, 0, 1280, 720}, 1, Rect{}, Rect{}},
		// A taller screen letterboxes the arena vertically.
		{"tall screen", 1280, 1000, false, Rect{0, 140, 1280, 720}, 1, Rect{}, Rect{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLayout(tt.w, tt.h, tt.hud)
			assert.InDelta(t, tt.scale, l.Scale, 1e-9)
			assert.InDeltaSlice(t, rect(tt.arena), rect(l.Arena), 1e-9, "arena")
			assert.Equal(t, tt.hudR, l.HUD)
			assert.Equal(t, tt.panel, l.Panel)
		})
	}
}

func rect(r Rect) []float64 { return []float64{r.X, r.Y, r.W, r.H} }

func TestLayoutWorldToScreenRoundTrips(t *testing.T) {
	l := NewLayout(ScreenWidth, ScreenHeight, true)
	tests := []struct {
		wx, wy int32 // world units
		want   Point
	}{
		{0, 0, Point{0, 0}},
		{game.ArenaWidth, game.ArenaHeight, Point{1024, 576}},
		{640, 360, Point{512, 288}},
		{100, 50, Point{80, 40}},
	}
	for _, tt := range tests {
		p := l.WorldToScreen(game.Fixed(tt.wx), game.Fixed(tt.wy))
		assert.InDelta(t, tt.want.X, p.X, 1e-9, "x of (%d, %d)", tt.wx, tt.wy)
		assert.InDelta(t, tt.want.Y, p.Y, 1e-9, "y of (%d, %d)", tt.wx, tt.wy)
		x, y := l.ScreenToWorld(p)
		assert.Equal(t, game.Fixed(tt.wx), x)
		assert.Equal(t, game.Fixed(tt.wy), y)
	}
	wall := l.WorldRect(game.Rect{MinX: game.Fixed(600), MinY: game.Fixed(320), MaxX: game.Fixed(680), MaxY: game.Fixed(400)})
	assert.InDeltaSlice(t, []float64{480, 256, 64, 64}, rect(wall), 1e-9)
}

func TestGraphRectsStackInsideTheHUD(t *testing.T) {
	l := NewLayout(ScreenWidth, ScreenHeight, true)
	const line = 13
	prevBottom := 0.0
	for i := range int(NumMetrics) {
		caption, plot := l.GraphRect(i, int(NumMetrics), line)
		assert.True(t, l.HUD.Contains(caption.X, caption.Y), "caption %d inside HUD", i)
		assert.True(t, l.HUD.Contains(plot.X, plot.Y), "plot %d top-left inside HUD", i)
		assert.LessOrEqual(t, plot.Y+plot.H, l.HUD.Y+l.HUD.H, "plot %d bottom", i)
		assert.GreaterOrEqual(t, caption.Y, prevBottom, "graph %d below graph %d", i, i-1)
		assert.GreaterOrEqual(t, plot.Y, caption.Y+line, "plot %d below its caption", i)
		assert.Greater(t, plot.H, 40.0, "plot %d tall enough to read", i)
		prevBottom = plot.Y + plot.H
	}
	_, none := NewLayout(ScreenWidth, ScreenHeight, false).GraphRect(0, 7, line)
	assert.Equal(t, Rect{}, none, "no graphs without a HUD")
}

func TestNiceCeil(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{-3, 1}, {0, 1}, {0.3, 0.5}, {1, 1}, {1.01, 2}, {2, 2}, {3, 5}, {5, 5},
		{7, 10}, {10, 10}, {42, 50}, {101, 200}, {999, 1000},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, NiceCeil(tt.in), 1e-9, "NiceCeil(%v)", tt.in)
	}
}

func TestPolylineMapsTimeAndValue(t *testing.T) {
	s, err := NewSeries(16, 10*time.Second)
	require.NoError(t, err)
	s.Add(at(-1000), 99)  // older than the window
	s.Add(at(0), 0)       // exactly at now-window: excluded (window is half-open)
	s.Add(at(5000), 50)   // middle, half height
	s.Add(at(10000), 150) // right edge, clamped to the top
	r := Rect{X: 100, Y: 10, W: 200, H: 40}
	got := Polyline(nil, s, at(10000), r, 100)
	assert.Equal(t, []Point{{200, 30}, {300, 10}}, got)

	buf := make([]Point, 0, 16)
	allocs := testing.AllocsPerRun(100, func() { buf = Polyline(buf[:0], s, at(10000), r, 100) })
	assert.Zero(t, allocs, "reusing dst allocates nothing")
}
