package main

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
)

// Colours of the HUD and panel (the arena's come from the game package).
var (
	hudBackground    = [4]uint8{10, 11, 14, 255}
	graphBackground  = [4]uint8{20, 22, 28, 255}
	graphGrid        = [4]uint8{45, 48, 58, 255}
	textBright       = [4]uint8{230, 232, 238, 255}
	textDim          = [4]uint8{140, 145, 160, 255}
	textWarn         = [4]uint8{255, 120, 90, 255}
	bannerBackground = [4]uint8{10, 11, 14, 255}
	colorWhite       = color.White
)

// graphColor is the line colour of each metric's graph.
var graphColor = [clientui.NumMetrics][4]uint8{
	clientui.MetricRTT:          {120, 200, 255, 255},
	clientui.MetricJitter:       {180, 160, 255, 255},
	clientui.MetricLoss:         {255, 110, 110, 255},
	clientui.MetricInKbps:       {110, 230, 160, 255},
	clientui.MetricOutKbps:      {250, 200, 90, 255},
	clientui.MetricSnapshotRate: {90, 220, 220, 255},
	clientui.MetricInterpDelay:  {240, 140, 220, 255},
}

func (a *app) drawArena(screen *ebiten.Image, l clientui.Layout) {
	r := l.Arena
	b := a.batch
	b.rect(f32(r.X), f32(r.Y), f32(r.W), f32(r.H), game.BackgroundColor())
	for _, s := range a.scene.Shapes {
		b.room(screen, 256, false)
		switch s.Kind {
		case clientui.ShapeRect, clientui.ShapeBar:
			b.rect(f32(s.Rect.X), f32(s.Rect.Y), f32(s.Rect.W), f32(s.Rect.H), s.Color)
		case clientui.ShapeDisc:
			b.disc(f32(s.Center.X), f32(s.Center.Y), f32(s.Radius), s.Color)
		case clientui.ShapeRing:
			width := float32(1.5)
			if s.Own {
				width = 2.5
			}
			b.ring(f32(s.Center.X), f32(s.Center.Y), f32(s.Radius), width, s.Color)
		case clientui.ShapeAimLine:
			b.line(f32(s.Center.X), f32(s.Center.Y), f32(s.End.X), f32(s.End.Y), 2, s.Color)
		}
	}
	b.flush(screen, false)
	for _, s := range a.scene.Shapes {
		if s.Kind == clientui.ShapeDisc && s.Label {
			y := s.Center.Y - s.Radius - 22
			if y < l.Arena.Y {
				y = s.Center.Y + s.Radius + 6 // at the top edge: below the entity
			}
			label, c := fmt.Sprint(s.ID), textBright
			if s.Own {
				label, c = fmt.Sprintf("you (%d)", s.ID), clientui.OwnMarkColor()
			}
			x := s.Center.X - float64(7*len(label))/2
			x = max(l.Arena.X+2, min(x, l.Arena.X+l.Arena.W-float64(7*len(label))-2)) // inside the arena
			a.text(screen, label, x, y, c)
		}
	}
	if a.view.Warn && a.view.Status != "" {
		a.drawBanner(screen, l)
	}
}

// drawBanner writes the connection's state across the middle of the arena
// while it is down (connecting, lost, reconnecting): what is drawn below is
// the last snapshot, frozen, or nothing yet.
func (a *app) drawBanner(screen *ebiten.Image, l clientui.Layout) {
	status := a.view.Status
	if strings.HasSuffix(status, "connecting") {
		status += "..." // the HUD font has no ellipsis
	}
	lines := []string{status}
	if len(a.view.Entities) > 0 {
		lines = append(lines, "the arena below is the last snapshot received")
	}
	w := 0
	for _, s := range lines {
		w = max(w, 7*len(s))
	}
	bw, bh := float64(w)+40, a.line*float64(len(lines))+24
	x, y := l.Arena.X+(l.Arena.W-bw)/2, l.Arena.Y+(l.Arena.H-bh)/2
	a.batch.rect(f32(x), f32(y), f32(bw), f32(bh), bannerBackground)
	a.batch.flush(screen, false)
	for i, s := range lines {
		c := textWarn
		if i > 0 {
			c = textDim
		}
		a.text(screen, s, x+20, y+12+float64(i)*a.line, c)
	}
}

func (a *app) drawHUD(screen *ebiten.Image, l clientui.Layout, now time.Time) {
	n := int(clientui.NumMetrics)
	b := a.batch
	for i := range n {
		_, plot := l.GraphRect(i, n, a.line)
		b.rect(f32(plot.X), f32(plot.Y), f32(plot.W), f32(plot.H), graphBackground)
		for _, f := range []float64{0.25, 0.5, 0.75} {
			y := f32(plot.Y + plot.H*f)
			b.line(f32(plot.X), y, f32(plot.X+plot.W), y, 1, graphGrid)
		}
	}
	for i := range n {
		m := clientui.Metric(i)
		_, plot := l.GraphRect(i, n, a.line)
		a.pts = clientui.Polyline(a.pts[:0], a.hud.Series(m), now, plot, a.hud.Top(m, now))
		b.room(screen, 4*len(a.pts)+8, false)
		for j := 1; j < len(a.pts); j++ {
			p, q := a.pts[j-1], a.pts[j]
			b.line(f32(p.X), f32(p.Y), f32(q.X), f32(q.Y), 1.5, graphColor[m])
		}
		if len(a.pts) == 1 {
			p := a.pts[0]
			b.rect(f32(p.X-1), f32(p.Y-1), 2, 2, graphColor[m])
		}
	}
	b.flush(screen, false)
	for i := range n {
		m := clientui.Metric(i)
		caption, plot := l.GraphRect(i, n, a.line)
		a.text(screen, a.hud.Caption(m, now), caption.X, caption.Y, textBright)
		top := short(a.hud.Top(m, now))
		a.text(screen, top, plot.X+plot.W-float64(7*len(top))-2, plot.Y+1, textDim)
	}
}

func (a *app) drawPanel(screen *ebiten.Image, l clientui.Layout) {
	r := l.Panel
	x, y := r.X+12, r.Y+8
	for i, s := range a.panel.Lines() {
		c := textBright
		if i == 0 {
			c = textDim
		}
		if len(s) > 7 && s[:6] == "error:" {
			c = textWarn
		}
		a.text(screen, s, x, y+float64(i)*a.line, c)
	}
	x2 := r.X + 420
	lines := []string{
		a.toggles.String(),
		a.view.Status,
		a.view.Detail,
		fmt.Sprintf("tick %d   fps %.0f   tps %.0f", a.view.Tick, ebiten.ActualFPS(), ebiten.ActualTPS()),
		"move WASD/arrows  aim mouse  fire space/click  dash shift  quit Esc/Q",
		"graphs: last 10 s, caption now  min/avg/max",
	}
	if a.opts.Script {
		lines = append(lines, "scripted input")
	}
	for i, s := range lines {
		c := textDim
		if i <= 1 {
			c = textBright
		}
		if i == 1 && a.view.Warn {
			c = textWarn
		}
		a.text(screen, s, x2, y+float64(i)*a.line, c)
	}
}

func (a *app) text(screen *ebiten.Image, s string, x, y float64, c [4]uint8) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(color.RGBA{c[0], c[1], c[2], c[3]})
	text.Draw(screen, s, a.face, op)
}

func f32(v float64) float32 { return float32(v) }

func short(v float64) string {
	if v >= 1 || v == 0 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
