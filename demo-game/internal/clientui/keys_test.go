package clientui

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
)

func TestBindingsAreOneToOne(t *testing.T) {
	keys := map[string]bool{}
	actions := map[Action]bool{}
	for _, b := range Bindings() {
		assert.False(t, keys[b.Key], "key %s bound twice", b.Key)
		assert.False(t, actions[b.Action], "action %d bound twice", b.Action)
		assert.NotEmpty(t, b.Help)
		keys[b.Key], actions[b.Action] = true, true
	}
	for a := ActionNone + 1; a < numActions; a++ {
		assert.True(t, actions[a], "action %d has no key", a)
	}
	for _, m := range MoveBindings() {
		assert.False(t, keys[m.Key], "movement key %s also bound to an action", m.Key)
	}
}

func TestReadInput(t *testing.T) {
	tests := []struct {
		name       string
		held       []string
		aimX, aimY float64
		want       game.Input
	}{
		{"nothing", nil, 0, 0, game.Input{}},
		{"wasd diagonal", []string{"W", "D"}, 10, 0, game.Input{Buttons: game.ButtonUp | game.ButtonRight, AimX: 127}},
		{"arrows and fire", []string{"ArrowLeft", "Space"}, 0, -3, game.Input{Buttons: game.ButtonLeft | game.ButtonFire, AimY: -127}},
		{"dash, aim diagonal", []string{"Shift"}, -50, 25, game.Input{Buttons: game.ButtonDash, AimX: -127, AimY: 64}},
		{"unbound keys ignored", []string{"Q", "P"}, 1, 1, game.Input{AimX: 127, AimY: 127}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			held := func(k string) bool {
				for _, h := range tt.held {
					if h == k {
						return true
					}
				}
				return false
			}
			got := ReadInput(held, tt.aimX, tt.aimY)
			assert.Equal(t, tt.want, got)
			b, err := got.MarshalBinary()
			assert.NoError(t, err)
			var back game.Input
			assert.NoError(t, back.UnmarshalBinary(b), "the input is valid on the wire")
		})
	}
}

func TestTogglesApply(t *testing.T) {
	tg := DefaultToggles()
	assert.Equal(t, "[P]rediction on  [I]nterpolation on  [G]host on  [H]UD on", tg.String())
	assert.True(t, tg.Apply(ActionTogglePrediction))
	assert.True(t, tg.Apply(ActionToggleGhost))
	assert.False(t, tg.Apply(ActionLossUp), "not a toggle")
	assert.Equal(t, Toggles{Interpolation: true, HUD: true}, tg)
	assert.True(t, tg.Apply(ActionToggleHUD))
	assert.True(t, tg.Apply(ActionToggleInterpolation))
	assert.Equal(t, Toggles{}, tg)
}

func TestQuitKeysAreFree(t *testing.T) {
	used := map[string]bool{}
	for _, b := range Bindings() {
		used[b.Key] = true
	}
	for _, b := range MoveBindings() {
		used[b.Key] = true
	}
	require.Len(t, QuitKeys(), 2)
	for _, k := range QuitKeys() {
		assert.False(t, used[k], "quit key %s has another use", k)
	}
}
