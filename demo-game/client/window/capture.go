package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/tickwire/tickwire/demo-game/internal/clientui"
)

// capture writes the screen to a PNG and what it shows to a JSON file beside
// it (path + ".json"), so a test can check the pixels against the state.
type capture struct {
	path string
}

// Shot is the JSON written beside a screenshot.
type Shot struct {
	Frames    int    `json:"frames"` // frames drawn, this one included
	Tick      uint32 `json:"tick"`   // tick of the state shown
	Own       uint32 `json:"own"`    // the local player's ID
	HUD       bool   `json:"hud"`    // whether the HUD was shown
	Online    bool   `json:"online"` // whether the HUD was fed by a link
	Status    string `json:"status"` // the status lines shown (the connection's state, the runtime's counters)
	Detail    string `json:"detail"`
	FixedStep bool   `json:"fixed_step"`
	// Loss is what the loss graph plotted last (0..1): snapshots lost over
	// the last second.
	Loss   float64 `json:"loss"`
	Width  int     `json:"width"`
	Height int     `json:"height"`
	// Shapes is the arena as drawn, in draw order (walls, entities, aim
	// lines, the ghost), in screen pixels.
	Shapes []clientui.Shape `json:"shapes"`
}

func (c *capture) take(screen *ebiten.Image, v clientui.View, sc *clientui.Scene, frames int, hud, fixed bool) error {
	b := screen.Bounds()
	img := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	screen.ReadPixels(img.Pix)
	f, err := os.Create(c.path)
	if err != nil {
		return fmt.Errorf("client: screenshot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("client: screenshot: encode %s: %w", c.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("client: screenshot: %w", err)
	}
	shot := Shot{
		Frames: frames, Tick: v.Tick, Own: v.Own, HUD: hud, Online: v.Online, FixedStep: fixed,
		Status: v.Status, Detail: v.Detail, Loss: v.Sample.Loss,
		Width: b.Dx(), Height: b.Dy(),
	}
	shot.Shapes = append(shot.Shapes, sc.Shapes...)
	meta, err := json.MarshalIndent(shot, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(c.path+".json", append(meta, '\n'), 0o644)
}
