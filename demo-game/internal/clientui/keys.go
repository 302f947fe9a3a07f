package clientui

import (
	"fmt"
	"math"

	"github.com/tickwire/tickwire/demo-game/game"
)

// Action is something a key press does, other than moving the player.
type Action uint8

// Actions bound to keys. The zero Action does nothing.
const (
	ActionNone Action = iota
	ActionTogglePrediction
	ActionToggleInterpolation
	ActionToggleGhost
	ActionToggleHUD
	ActionLossDown
	ActionLossUp
	ActionLatencyDown
	ActionLatencyUp
	ActionJitterDown
	ActionJitterUp
	ActionDuplicateDown
	ActionDuplicateUp
	ActionLinkReset
	numActions
)

// QuitKeys are the keys that end the game (by the names ebiten's Key.String
// gives them), scripted input or not: Esc and Q.
func QuitKeys() []string { return []string{"Escape", "Q"} }

// Binding ties a key, by the name ebiten's Key.String gives it, to an action
// triggered when the key is pressed (not while it is held).
type Binding struct {
	Key    string
	Action Action
	Help   string
}

// Bindings returns the key bindings of the client, in the order the help line
// lists them. Every action has exactly one key and no key two actions.
func Bindings() []Binding {
	return []Binding{
		{"P", ActionTogglePrediction, "prediction"},
		{"I", ActionToggleInterpolation, "interpolation"},
		{"G", ActionToggleGhost, "server ghost"},
		{"H", ActionToggleHUD, "HUD"},
		{"BracketLeft", ActionLossDown, "loss -"},
		{"BracketRight", ActionLossUp, "loss +"},
		{"Minus", ActionLatencyDown, "latency -"},
		{"Equal", ActionLatencyUp, "latency +"},
		{"Semicolon", ActionJitterDown, "jitter -"},
		{"Quote", ActionJitterUp, "jitter +"},
		{"Comma", ActionDuplicateDown, "duplication -"},
		{"Period", ActionDuplicateUp, "duplication +"},
		{"Backspace", ActionLinkReset, "perfect link"},
	}
}

// MoveBinding ties a held key to an input button.
type MoveBinding struct {
	Key    string
	Button uint8
}

// MoveBindings returns the keys held for movement, dash and fire: WASD and
// the arrows move, Shift dashes, Space fires (so does the left mouse button,
// which the client handles itself).
func MoveBindings() []MoveBinding {
	return []MoveBinding{
		{"W", game.ButtonUp}, {"ArrowUp", game.ButtonUp},
		{"S", game.ButtonDown}, {"ArrowDown", game.ButtonDown},
		{"A", game.ButtonLeft}, {"ArrowLeft", game.ButtonLeft},
		{"D", game.ButtonRight}, {"ArrowRight", game.ButtonRight},
		{"Shift", game.ButtonDash},
		{"Space", game.ButtonFire},
	}
}

// ReadInput builds the input of one tick from the held keys (held reports
// whether the key with that name is down) and the aim vector from the
// player's centre to the mouse in world units. The aim is scaled into int8
// keeping its direction; a zero aim keeps the player's previous aim.
func ReadInput(held func(key string) bool, aimX, aimY float64) game.Input {
	var in game.Input
	for _, b := range MoveBindings() {
		if held(b.Key) {
			in.Buttons |= b.Button
		}
	}
	in.AimX, in.AimY = quantizeAim(aimX, aimY)
	return in
}

// quantizeAim scales (x, y) so its longer axis is ±127.
func quantizeAim(x, y float64) (int8, int8) {
	m := math.Max(math.Abs(x), math.Abs(y))
	if !(m > 0) || math.IsInf(m, 0) {
		return 0, 0
	}
	return int8(math.Round(x / m * 127)), int8(math.Round(y / m * 127))
}

// Toggles are the client's display switches. The zero value has everything
// off; DefaultToggles has everything on.
type Toggles struct {
	Prediction    bool // predict the own player (off: show it where the server says)
	Interpolation bool // interpolate remote entities (off: snap to the newest snapshot)
	Ghost         bool // outline the server's position of the own player
	HUD           bool // graphs and network panel
}

// DefaultToggles returns every toggle on.
func DefaultToggles() Toggles {
	return Toggles{Prediction: true, Interpolation: true, Ghost: true, HUD: true}
}

// Apply flips the toggle bound to a and reports whether a was a toggle.
func (t *Toggles) Apply(a Action) bool {
	switch a {
	case ActionTogglePrediction:
		t.Prediction = !t.Prediction
	case ActionToggleInterpolation:
		t.Interpolation = !t.Interpolation
	case ActionToggleGhost:
		t.Ghost = !t.Ghost
	case ActionToggleHUD:
		t.HUD = !t.HUD
	default:
		return false
	}
	return true
}

// String lists the toggles, e.g. "[P]rediction on  [I]nterp off ...".
func (t Toggles) String() string {
	return fmt.Sprintf("[P]rediction %s  [I]nterpolation %s  [G]host %s  [H]UD %s",
		onOff(t.Prediction), onOff(t.Interpolation), onOff(t.Ghost), onOff(t.HUD))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
