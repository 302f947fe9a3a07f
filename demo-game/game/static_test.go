package game

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStaticSpawnsAreFree(t *testing.T) {
	s := NewStatic()
	require.Len(t, s.PlayerSpawns, 8)
	for i, p := range s.PlayerSpawns {
		assert.False(t, s.Blocked(p.X, p.Y, playerHalf), "player spawn %d at (%v,%v) is inside a wall", i, Units(p.X), Units(p.Y))
	}
	for i, p := range s.NPCSpawns {
		assert.False(t, s.Blocked(p.X, p.Y, npcHalf), "NPC spawn %d is inside a wall", i)
	}
}

func TestMoveBox(t *testing.T) {
	s := &Static{Walls: []Rect{rectUnits(100, 0, 120, 100)}}
	half := Fixed(10)
	tests := []struct {
		name           string
		x, y, vx, vy   int32
		wantX, wantY   int32
		wantVX, wantVY int32
		wantBlocked    bool
	}{
		{"free move", Fixed(50), Fixed(50), Fixed(5), Fixed(-3), Fixed(55), Fixed(47), Fixed(5), Fixed(-3), false},
		{"stops flush at left face", Fixed(85), Fixed(50), Fixed(10), 0, Fixed(90), Fixed(50), 0, 0, true},
		{"no tunnelling at huge speed", Fixed(50), Fixed(50), Fixed(500), 0, Fixed(90), Fixed(50), 0, 0, true},
		{"stops flush at right face from the right", Fixed(140), Fixed(50), Fixed(-30), 0, Fixed(130), Fixed(50), 0, 0, true},
		{"slides along: x blocked, y keeps moving", Fixed(88), Fixed(50), Fixed(4), Fixed(3), Fixed(90), Fixed(53), 0, Fixed(3), true},
		{"passes below the wall", Fixed(85), Fixed(111), Fixed(10), 0, Fixed(95), Fixed(111), Fixed(10), 0, false},
		{"edge contact is not overlap", Fixed(85), Fixed(110), Fixed(10), 0, Fixed(95), Fixed(110), Fixed(10), 0, false},
		{"stops on the bottom face moving up", Fixed(110), Fixed(115), 0, Fixed(-20), Fixed(110), Fixed(110), 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y, vx, vy := tt.x, tt.y, tt.vx, tt.vy
			blocked := s.MoveBox(&x, &y, &vx, &vy, half)
			assert.Equal(t, tt.wantBlocked, blocked, "blocked")
			assert.Equal(t, [4]int32{tt.wantX, tt.wantY, tt.wantVX, tt.wantVY}, [4]int32{x, y, vx, vy}, "x, y, vx, vy")
		})
	}
}

func TestFixedHelpers(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 3, 4, 15, 16, 17, 1 << 20, 1<<40 + 12345} {
		r := isqrt(n)
		assert.LessOrEqual(t, r*r, n, "isqrt(%d)=%d", n, r)
		assert.Greater(t, (r+1)*(r+1), n, "isqrt(%d)=%d", n, r)
	}
	tests := []struct {
		ax, ay       int8
		wantX, wantY int32
	}{
		{0, 0, 1000, 0},
		{127, 0, 1000, 0},
		{1, 0, 1000, 0},
		{0, -128, 0, -1000},
		{3, 4, 600, 800},
		{-30, 40, -600, 800},
	}
	for _, tt := range tests {
		x, y := scaleTo(tt.ax, tt.ay, 1000)
		assert.Equal(t, [2]int32{tt.wantX, tt.wantY}, [2]int32{x, y}, "scaleTo(%d, %d)", tt.ax, tt.ay)
	}
	x, y := dirVec(1, -1, MaxSpeed)
	assert.Equal(t, [2]int32{724, -724}, [2]int32{x, y})
}

func TestRNGDeterministic(t *testing.T) {
	a, b, c := newRNG(42), newRNG(42), newRNG(43)
	same := true
	for range 100 {
		va, vb, vc := a.next(), b.next(), c.next()
		require.Equal(t, va, vb)
		same = same && va == vc
	}
	assert.False(t, same, "different seeds gave the same sequence")
	counts := make([]int, 9)
	r := newRNG(7)
	for range 9000 {
		counts[r.intn(9)]++
	}
	for i, n := range counts {
		assert.InDelta(t, 1000, n, 150, "bucket %d", i)
	}
}
