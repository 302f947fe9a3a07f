package main

import (
	"errors"
	"fmt"
	"image/color"
	"log/slog"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"golang.org/x/image/font/basicfont"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/demo-game/internal/loopback"
)

// app is the ebiten game: it reads the keyboard and mouse, drives a Source,
// and draws its View with the HUD and the network panel.
type app struct {
	opts    clientui.Options
	src     clientui.Source
	toggles clientui.Toggles
	hud     *clientui.HUD
	panel   *clientui.NetPanel
	keys    map[string]ebiten.Key
	face    text.Face
	batch   *batch
	line    float64 // text line height in pixels

	scene   clientui.Scene
	view    clientui.View
	pts     []clientui.Point // reused polyline buffer
	start   time.Time
	frame   time.Time // when the last frame was drawn, for the cap
	frames  int
	ticks   int
	done    bool            // stop at the next Update
	quit    <-chan struct{} // closed on SIGINT/SIGTERM
	err     error           // returned by run after the loop ends
	capture *capture

	originX, originY int32 // where the own player first appeared, for the script
	haveOrigin       bool

	rep reporter // publishes readings to the page in a browser; nothing elsewhere
}

// reporter is told of every frame drawn.
type reporter interface{ report(a *app, now time.Time) }

func newApp(opts clientui.Options, log *slog.Logger) (*app, error) {
	start := time.Now()
	hud, err := clientui.NewHUD(clientui.DefaultHUDWindow, clientui.DefaultHUDInterval)
	if err != nil {
		return nil, err
	}
	panel, err := clientui.NewNetPanel(opts.Link)
	if err != nil {
		return nil, err
	}
	var src clientui.Source
	switch {
	case opts.Offline:
		off, err := clientui.NewOffline(opts.Seed, opts.NPCs)
		if err != nil {
			return nil, err
		}
		src = off
		panel.SetStatus("offline: no socket, keys only change the numbers")
	case opts.Loopback:
		lb, err := loopback.New(start, loopback.Config{Link: opts.Link, Seed: opts.Seed, NPCs: opts.NPCs, Bots: opts.Bots, Logger: log})
		if err != nil {
			return nil, err
		}
		src = lb
		panel.SetStatus("loopback: simulated link to the in-process server")
	default:
		src, err = dial(opts, log)
		if err != nil {
			return nil, err
		}
		if note := onlinePanelNote(); note != "" {
			panel.SetStatus(note)
		}
	}
	a := &app{
		opts:    opts,
		src:     src,
		toggles: clientui.DefaultToggles(),
		hud:     hud,
		panel:   panel,
		keys:    keyNames(),
		face:    text.NewGoXFace(basicfont.Face7x13),
		batch:   newBatch(),
		line:    14,
		pts:     make([]clientui.Point, 0, 128),
		start:   start,
		rep:     newReporter(),
	}
	a.toggles.HUD = opts.HUD
	if opts.Screenshot != "" {
		a.capture = &capture{path: opts.Screenshot}
	}
	a.view = src.View(a.start, a.toggles)
	return a, nil
}

func (a *app) close() {
	if err := a.src.Close(); err != nil && a.err == nil {
		a.err = err
	}
}

// keyNames maps ebiten's key names (Key.String) to keys, so that the binding
// tables in clientui can name keys without importing ebiten.
func keyNames() map[string]ebiten.Key {
	m := make(map[string]ebiten.Key, int(ebiten.KeyMax)+1)
	for k := ebiten.Key(0); k <= ebiten.KeyMax; k++ {
		if s := k.String(); s != "" {
			m[s] = k
		}
	}
	return m
}

// Update runs one tick: key actions, the local input, the source.
func (a *app) Update() error {
	if a.done {
		return ebiten.Termination
	}
	select {
	case <-a.quit:
		return ebiten.Termination
	default:
	}
	if a.opts.Timeout > 0 && time.Since(a.start) > a.opts.Timeout {
		a.err = fmt.Errorf("client: timed out after %v (%d frames, %d ticks)", a.opts.Timeout, a.frames, a.ticks)
		return ebiten.Termination
	}
	for _, name := range clientui.QuitKeys() {
		if k, ok := a.keys[name]; ok && inpututil.IsKeyJustPressed(k) {
			return ebiten.Termination
		}
	}
	if !a.opts.Script {
		a.handleKeys()
	}
	in := a.input()
	if err := a.src.Update(a.now(), in, a.toggles); err != nil {
		a.err = err
		return ebiten.Termination
	}
	a.ticks++
	return nil
}

func (a *app) handleKeys() {
	for _, b := range clientui.Bindings() {
		k, ok := a.keys[b.Key]
		if !ok || !inpututil.IsKeyJustPressed(k) {
			continue
		}
		if a.toggles.Apply(b.Action) {
			continue
		}
		if cfg, changed := a.panel.Apply(b.Action); changed {
			err := a.src.SetLink(cfg)
			if errors.Is(err, clientui.ErrNoLink) {
				err = nil
			}
			a.panel.SetResult(err)
		}
	}
}

// input is the local player's input for this tick: scripted, or from the
// keyboard with the aim towards the mouse (left button fires too).
func (a *app) input() game.Input {
	if a.opts.Script {
		// The script walks toward the arena's centre from where the own
		// player first appeared (its spawn point).
		if !a.haveOrigin {
			if own, ok := clientui.Own(a.view.Entities, a.view.Own); ok {
				a.originX, a.originY, a.haveOrigin = own.X, own.Y, true
			}
		}
		return clientui.ScriptFrom(uint32(a.ticks), a.originX, a.originY)
	}
	l := clientui.NewLayout(clientui.ScreenWidth, clientui.ScreenHeight, a.toggles.HUD)
	mx, my := ebiten.CursorPosition()
	wx, wy := l.ScreenToWorld(clientui.Point{X: float64(mx), Y: float64(my)})
	var ax, ay float64
	if own, ok := clientui.Own(a.view.Entities, a.view.Own); ok {
		ax, ay = float64(wx-own.X), float64(wy-own.Y)
	}
	in := clientui.ReadInput(func(name string) bool {
		k, ok := a.keys[name]
		return ok && ebiten.IsKeyPressed(k)
	}, ax, ay)
	if ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft) {
		in.Buttons |= game.ButtonFire
	}
	return in
}

// Draw draws one frame, takes the screenshot when due, and caps the frame
// rate.
func (a *app) Draw(screen *ebiten.Image) {
	now := a.now()
	a.view = a.src.View(now, a.toggles)
	if a.view.Online {
		a.hud.Record(now, a.view.Sample)
	}
	l := clientui.NewLayout(clientui.ScreenWidth, clientui.ScreenHeight, a.toggles.HUD)
	var ghost *game.Entity
	if a.toggles.Ghost {
		ghost = a.view.Ghost
	}
	a.scene.Build(l, a.src.Static(), a.view.Entities, a.view.Own, ghost)

	screen.Fill(rgba(hudBackground))
	a.drawArena(screen, l)
	if a.toggles.HUD {
		a.drawHUD(screen, l, now)
		a.drawPanel(screen, l)
	} else {
		a.text(screen, "H: show HUD", l.Arena.X+24, l.Arena.Y+20, textDim)
	}
	a.frames++
	a.rep.report(a, now)

	if a.capture != nil && a.frames >= a.opts.Frames && !a.done {
		a.err = a.capture.take(screen, a.view, &a.scene, a.frames, a.toggles.HUD, a.opts.FixedStep)
		a.done = true
	} else if a.capture == nil && a.opts.Frames > 0 && a.frames >= a.opts.Frames {
		a.done = true
	}
	a.limitFrameRate()
}

// now is the game's clock: the real time, or with -fixedstep the start time
// plus one tick per Update, so that a slow machine (Xvfb under load) shows
// what a client running at full speed would.
func (a *app) now() time.Time {
	if a.opts.FixedStep {
		return a.start.Add(time.Duration(a.ticks) * time.Second / game.TickRate)
	}
	return time.Now()
}

// limitFrameRate sleeps out the rest of the frame when -fps is set.
func (a *app) limitFrameRate() {
	if a.opts.FPS <= 0 {
		return
	}
	next := a.frame.Add(time.Second / time.Duration(a.opts.FPS))
	if d := time.Until(next); d > 0 {
		time.Sleep(d)
	}
	a.frame = time.Now()
}

// Layout fixes the screen size; the window's content is scaled to fit.
func (a *app) Layout(int, int) (int, int) {
	return clientui.ScreenWidth, clientui.ScreenHeight
}

func rgba(c [4]uint8) color.RGBA { return color.RGBA{c[0], c[1], c[2], c[3]} }
