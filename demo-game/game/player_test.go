package game

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openPlayer returns a live player in the middle of open floor in the demo
// arena (between the top-left bar and the centre block).
func openPlayer() Player {
	return Player{ID: 1, X: Fixed(500), Y: Fixed(250), AimX: defaultAim, Health: PlayerMaxHealth}
}

func TestStepPlayerAcceleration(t *testing.T) {
	s := NewStatic()
	tests := []struct {
		name   string
		in     Input
		wantVX []int32 // VX after each tick
		wantVY []int32
	}{
		{"right accelerates to MaxSpeed", Input{Buttons: ButtonRight},
			[]int32{160, 320, 480, 640, 800, 960, 1024, 1024}, []int32{0, 0, 0, 0, 0, 0, 0, 0}},
		{"up-left diagonal caps at 724 per axis", Input{Buttons: ButtonUp | ButtonLeft},
			[]int32{-160, -320, -480, -640, -724, -724}, []int32{-160, -320, -480, -640, -724, -724}},
		{"opposite buttons cancel", Input{Buttons: ButtonLeft | ButtonRight | ButtonUp | ButtonDown},
			[]int32{0, 0, 0}, []int32{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openPlayer()
			x, y := p.X, p.Y
			for i := range tt.wantVX {
				StepPlayer(&p, tt.in, s)
				x += tt.wantVX[i]
				y += tt.wantVY[i]
				assert.Equal(t, [2]int32{tt.wantVX[i], tt.wantVY[i]}, [2]int32{p.VX, p.VY}, "velocity after tick %d", i+1)
				assert.Equal(t, [2]int32{x, y}, [2]int32{p.X, p.Y}, "position after tick %d", i+1)
			}
		})
	}
}

func TestStepPlayerStopsWhenReleased(t *testing.T) {
	s := NewStatic()
	p := openPlayer()
	for range 10 {
		StepPlayer(&p, Input{Buttons: ButtonDown}, s)
	}
	require.Equal(t, int32(MaxSpeed), p.VY)
	var vs []int32
	for range 8 {
		StepPlayer(&p, Input{}, s)
		vs = append(vs, p.VY)
	}
	assert.Equal(t, []int32{864, 704, 544, 384, 224, 64, 0, 0}, vs)
}

func TestStepPlayerWallCollision(t *testing.T) {
	s := NewStatic()
	tests := []struct {
		name         string
		start        Point
		in           Input
		wantX, wantY int32
	}{
		{"left border", Point{Fixed(80), Fixed(80)}, Input{Buttons: ButtonLeft}, Fixed(WallThickness + PlayerRadius), Fixed(80)},
		{"top border", Point{Fixed(80), Fixed(80)}, Input{Buttons: ButtonUp}, Fixed(80), Fixed(WallThickness + PlayerRadius)},
		{"top-left corner", Point{Fixed(80), Fixed(80)}, Input{Buttons: ButtonUp | ButtonLeft}, Fixed(WallThickness + PlayerRadius), Fixed(WallThickness + PlayerRadius)},
		{"bottom-right corner", Point{Fixed(1200), Fixed(640)}, Input{Buttons: ButtonDown | ButtonRight},
			Fixed(ArenaWidth - WallThickness - PlayerRadius), Fixed(ArenaHeight - WallThickness - PlayerRadius)},
		// centre block spans x 600..680, y 320..400.
		{"centre block from the left", Point{Fixed(500), Fixed(360)}, Input{Buttons: ButtonRight}, Fixed(600 - PlayerRadius), Fixed(360)},
		{"centre block from above", Point{Fixed(640), Fixed(250)}, Input{Buttons: ButtonDown}, Fixed(640), Fixed(320 - PlayerRadius)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openPlayer()
			p.X, p.Y = tt.start.X, tt.start.Y
			for range 120 {
				StepPlayer(&p, tt.in, s)
				require.False(t, s.Blocked(p.X, p.Y, playerHalf), "player inside a wall at (%v, %v)", Units(p.X), Units(p.Y))
			}
			assert.Equal(t, [2]int32{tt.wantX, tt.wantY}, [2]int32{p.X, p.Y})
			assert.Equal(t, [2]int32{0, 0}, [2]int32{p.VX, p.VY}, "velocity into the wall is zeroed")
		})
	}
}

func TestStepPlayerDash(t *testing.T) {
	s := NewStatic()
	t.Run("moves at DashSpeed for DashTicks then slows", func(t *testing.T) {
		p := openPlayer()
		p.Y = Fixed(100) // open row: nothing between x=500 and x=880 at y=100
		in := Input{Buttons: ButtonRight | ButtonDash}
		x := p.X
		for i := range DashTicks {
			StepPlayer(&p, in, s)
			x += DashSpeed
			require.Equal(t, x, p.X, "dash tick %d", i+1)
		}
		StepPlayer(&p, Input{Buttons: ButtonRight}, s)
		assert.Equal(t, int32(DashSpeed-Accel), p.VX, "after the dash the velocity decays toward MaxSpeed")
	})
	t.Run("no direction dashes along the aim", func(t *testing.T) {
		p := openPlayer()
		StepPlayer(&p, Input{Buttons: ButtonDash, AimX: 0, AimY: -50}, s)
		assert.Equal(t, [2]int32{0, -DashSpeed}, [2]int32{p.VX, p.VY})
	})
	t.Run("cooldown: held dash fires every DashCooldown ticks", func(t *testing.T) {
		p := openPlayer()
		var starts []int
		for tick := range 100 {
			// Alternate directions so the player stays in the open.
			b := ButtonRight
			if tick/10%2 == 1 {
				b = ButtonLeft
			}
			StepPlayer(&p, Input{Buttons: b | ButtonDash}, s)
			if p.DashCooldown == DashCooldown {
				starts = append(starts, tick)
			}
		}
		assert.Equal(t, []int{0, DashCooldown, 2 * DashCooldown}, starts)
	})
}

func TestStepPlayerFireCooldown(t *testing.T) {
	s := NewStatic()
	tests := []struct {
		name  string
		press func(tick int) bool
		want  []int
	}{
		{"held fire shoots every FireCooldown ticks", func(int) bool { return true }, []int{0, 10, 20, 30}},
		{"tapping faster than the cooldown is throttled", func(tick int) bool { return tick%3 == 0 }, []int{0, 12, 24}},
		{"pressing after the cooldown shoots at once", func(tick int) bool { return tick == 2 || tick == 7 || tick == 25 }, []int{2, 25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openPlayer()
			var shots []int
			for tick := range 31 {
				var in Input
				if tt.press(tick) {
					in.Buttons = ButtonFire
				}
				if StepPlayer(&p, in, s) {
					shots = append(shots, tick)
				}
			}
			assert.Equal(t, tt.want, shots)
		})
	}
}

func TestStepPlayerAimAndDeath(t *testing.T) {
	s := NewStatic()
	p := openPlayer()
	StepPlayer(&p, Input{AimX: -3, AimY: 7}, s)
	StepPlayer(&p, Input{}, s)
	assert.Equal(t, [2]int8{-3, 7}, [2]int8{p.AimX, p.AimY}, "zero aim keeps the last aim")

	p.RespawnTicks = 5
	before := p
	fired := StepPlayer(&p, Input{Buttons: ButtonMask, AimX: 1}, s)
	assert.False(t, fired, "dead players cannot fire")
	assert.Equal(t, before, p, "dead players do not move or change")
}

func TestEntityPlayerRoundTrip(t *testing.T) {
	p := Player{ID: 7, X: 1, Y: -2, VX: 3, VY: -4, AimX: 5, AimY: -6, Health: 40, Score: 9, Deaths: 2,
		DashTicks: 3, DashCooldown: 30, FireCooldown: 4, RespawnTicks: 0}
	e := p.Entity()
	assert.Equal(t, KindPlayer, e.Kind)
	assert.Equal(t, p, e.Player())
	assert.Equal(t, int32(PlayerRadius), e.Radius())
}
