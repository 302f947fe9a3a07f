//go:build js

package main

import (
	"syscall/js"
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/server/client"
)

// reportInterval is how often the page's stats are refreshed.
const reportInterval = 250 * time.Millisecond

// pageReport publishes the game's readings to the page as
// globalThis.tickwireStats, for people (the console) and for the
// end-to-end test that drives headless Chromium: connected, player, own
// position, RTT and loss, rates over the last interval, stalls, and the
// players seen (id, x, y in world units). The rates: tps is the game's
// ticks per second (the client runtime predicts and sends every tick up
// to its clock's target at each update, so it holds 60 while the page
// draws fewer frames), updates the ebiten updates and fps the frames
// drawn per second.
type pageReport struct {
	last          time.Time
	ticks, frames int
	inputs        uint64 // the client runtime's InputsSent at last
}

func newReporter() reporter { return &pageReport{} }

func (r *pageReport) report(a *app, now time.Time) {
	if r.last.IsZero() {
		r.last, r.ticks, r.frames = now, a.ticks, a.frames
		return
	}
	el := now.Sub(r.last)
	if el < reportInterval {
		return
	}
	st := map[string]any{
		"updates": float64(a.ticks-r.ticks) / el.Seconds(),
		"fps":     float64(a.frames-r.frames) / el.Seconds(),
		"ticks":   a.ticks,
		"frames":  a.frames,
		"own":     a.view.Own,
		"status":  a.view.Status,
	}
	r.last, r.ticks, r.frames = now, a.ticks, a.frames
	var players []any
	for _, e := range a.view.Entities {
		if e.Kind != game.KindPlayer {
			continue
		}
		p := map[string]any{"id": e.ID, "x": float64(e.X) / game.FixedOne, "y": float64(e.Y) / game.FixedOne}
		if e.ID == a.view.Own {
			st["x"], st["y"] = p["x"], p["y"]
		}
		players = append(players, p)
	}
	st["players"] = players
	if on, ok := a.src.(*clientui.Online); ok {
		s := on.Client().Stats()
		status := on.Client().Status()
		st["connected"] = s.State == client.Connected && status.Welcomed
		st["rttMs"] = float64(s.RTT) / float64(time.Millisecond)
		st["loss"] = s.Loss
		st["stalls"] = s.Stalls
		st["snapshots"] = s.Snapshots
		st["corrections"] = s.Corrections
		st["inputJumps"] = s.InputJumps
		st["tps"] = float64(s.InputsSent-r.inputs) / el.Seconds()
		r.inputs = s.InputsSent
	}
	js.Global().Set("tickwireStats", js.ValueOf(st))
}

// onlinePanelNote is the network panel's status line in the browser,
// where the client has no socket to condition.
func onlinePanelNote() string {
	return "browser: no socket to condition here"
}
