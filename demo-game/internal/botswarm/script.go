package botswarm

import (
	"math"
	"math/rand/v2"

	"github.com/tickwire/tickwire/demo-game/game"
)

// Script is a bot's scripted play: a deterministic sequence of inputs from
// a seed. It walks in one of eight directions (or stands) for 0.5–2 s at a
// time, turns its aim slowly, fires in bursts about a quarter of the time
// and dashes now and then.
type Script struct {
	rng       *rand.Rand
	buttons   uint8 // movement held until the next turn
	left      int   // ticks until the next change of direction
	firing    int   // ticks left of the current burst (or pause, when negative)
	angle     int   // aim, 0..255 around the circle
	spin      int
	dashEvery int
	ticks     int
}

// NewScript returns the script of one bot; equal seeds give equal inputs.
func NewScript(seed uint64) *Script {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	return &Script{rng: r, angle: r.IntN(256), spin: 1 + r.IntN(3), dashEvery: 90 + r.IntN(120)}
}

var moves = [...]uint8{
	0,
	game.ButtonUp, game.ButtonDown, game.ButtonLeft, game.ButtonRight,
	game.ButtonUp | game.ButtonLeft, game.ButtonUp | game.ButtonRight,
	game.ButtonDown | game.ButtonLeft, game.ButtonDown | game.ButtonRight,
}

// Next returns the input of the next tick.
func (s *Script) Next() game.Input {
	s.ticks++
	if s.left <= 0 {
		s.buttons = moves[s.rng.IntN(len(moves))]
		s.left = 30 + s.rng.IntN(90)
	}
	s.left--
	switch {
	case s.firing > 0:
		s.firing--
	case s.firing < 0:
		s.firing++
	default: // a burst of 0.3–1 s, then a pause of 1–3 s
		if s.rng.IntN(2) == 0 {
			s.firing = 20 + s.rng.IntN(40)
		} else {
			s.firing = -(60 + s.rng.IntN(120))
		}
	}
	s.angle = (s.angle + s.spin) & 255
	in := game.Input{Buttons: s.buttons}
	in.AimX, in.AimY = aim(s.angle)
	if s.firing > 0 {
		in.Buttons |= game.ButtonFire
	}
	if s.ticks%s.dashEvery == 0 {
		in.Buttons |= game.ButtonDash
	}
	return in
}

// aim returns the aim vector of angle a (256 steps around the circle),
// about 100 long.
func aim(a int) (x, y int8) {
	rad := 2 * math.Pi * float64(a) / 256
	return int8(math.Round(100 * math.Cos(rad))), int8(math.Round(100 * math.Sin(rad)))
}
