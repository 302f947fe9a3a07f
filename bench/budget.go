package main

import (
	"errors"
	"fmt"
	"image/color"
	"os"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// budgetPoint is one 100 ms sample of the budget-step run.
type budgetPoint struct {
	at                                    time.Duration
	capKbps, budgetKbps, estKbps, gotKbps float64
	rtt                                   time.Duration
}

// budgetStep streams far more than the link carries (five 1000-byte
// unreliable messages every 10 ms) from one endpoint to another through a
// netsim link of 50 ms each way whose cap is 1 Mbit/s, drops to 128 kbit/s
// at 10 s and comes back at 25 s. The sender has a 2 Mbit/s budget with
// the congestion response. It runs on a simulated clock (no sockets, no
// waiting) and returns a sample every 100 ms.
func budgetStep() ([]budgetPoint, error) {
	const (
		fast, slow = 1_000_000 / 8, 128_000 / 8
		tick       = 10 * time.Millisecond
		dur        = 40 * time.Second
	)
	capAt := func(at time.Duration) int64 {
		if at >= 10*time.Second && at < 25*time.Second {
			return slow
		}
		return fast
	}
	cfg := endpoint.Config{
		SendRate: 2_000_000 / 8, CongestionControl: true,
		Channels: []endpoint.ChannelConfig{{Kind: endpoint.ReliableOrdered}, {Kind: endpoint.Unreliable}},
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := endpoint.NewEndpoint(cfg, now)
	if err != nil {
		return nil, err
	}
	b, err := endpoint.NewEndpoint(cfg, now)
	if err != nil {
		return nil, err
	}
	fwdCfg := netsim.Config{Latency: 50 * time.Millisecond, Bandwidth: fast, QueueBytes: 256 << 10}
	fwd, err := netsim.NewLink(fwdCfg, 1)
	if err != nil {
		return nil, err
	}
	back, err := netsim.NewLink(netsim.Config{Latency: 50 * time.Millisecond}, 2)
	if err != nil {
		return nil, err
	}
	var recvErr error
	recv := func(e *endpoint.Endpoint) func([]byte) {
		return func(p []byte) {
			if err := e.Receive(now, p); err != nil && !errors.Is(err, endpoint.ErrDuplicatePacket) && !errors.Is(err, endpoint.ErrStalePacket) {
				recvErr = err
			}
		}
	}
	recvA, recvB := recv(a), recv(b)
	sendA := func(p []byte) { fwd.Send(now, p) }
	sendB := func(p []byte) { back.Send(now, p) }
	msg := make([]byte, 1000)
	var out []budgetPoint
	got := 0
	for at := time.Duration(0); at < dur; at += tick {
		n := int(at / tick)
		if c := capAt(at); c != fwdCfg.Bandwidth {
			fwdCfg.Bandwidth = c
			if err := fwd.SetConfig(fwdCfg); err != nil {
				return nil, err
			}
		}
		for range 5 {
			if _, err := a.Send(1, msg); err != nil && !errors.Is(err, endpoint.ErrSendQueueFull) {
				return nil, err
			}
		}
		now = now.Add(tick)
		fwd.Deliver(now, recvB)
		back.Deliver(now, recvA)
		if recvErr != nil {
			return nil, recvErr
		}
		a.Flush(now, sendA)
		b.Flush(now, sendB)
		for {
			m, ok := b.ReadMessage(1)
			if !ok {
				break
			}
			got += len(m)
		}
		if n%10 == 9 {
			st := a.Stats()
			kbps := func(bytesPerSec float64) float64 { return bytesPerSec * 8 / 1000 }
			out = append(out, budgetPoint{
				at: at + tick, capKbps: kbps(float64(fwdCfg.Bandwidth)), budgetKbps: kbps(float64(st.SendRate)),
				estKbps: kbps(float64(st.EstimatedRate)), gotKbps: kbps(float64(got) * 10), rtt: st.RTT,
			})
			got = 0
		}
	}
	return out, nil
}

// budgetChart draws the run: rates on top, the RTT below.
func budgetChart(path string, pts []budgetPoint) error {
	rates := plot.New()
	rates.Title.Text = "Send budget through a cap stepping 1 Mbit/s → 128 kbit/s → 1 Mbit/s (50 ms each way)"
	rates.Y.Label.Text = "kbit/s"
	rtt := plot.New()
	rtt.X.Label.Text = "seconds"
	rtt.Y.Label.Text = "smoothed RTT, ms"
	series := []struct {
		name string
		pick func(budgetPoint) float64
		c    color.RGBA
		on   *plot.Plot
	}{
		{"link cap", func(p budgetPoint) float64 { return p.capKbps }, color.RGBA{120, 120, 120, 255}, rates},
		{"budget (Stats.SendRate)", func(p budgetPoint) float64 { return p.budgetKbps }, color.RGBA{31, 119, 180, 255}, rates},
		{"estimate (Stats.EstimatedRate)", func(p budgetPoint) float64 { return p.estKbps }, color.RGBA{255, 127, 14, 255}, rates},
		{"delivered to the peer", func(p budgetPoint) float64 { return p.gotKbps }, color.RGBA{44, 160, 44, 255}, rates},
		{"RTT", func(p budgetPoint) float64 { return max(float64(p.rtt)/float64(time.Millisecond), 50) }, color.RGBA{214, 39, 40, 255}, rtt},
	}
	for _, s := range series {
		xy := make(plotter.XYs, len(pts))
		for i, p := range pts {
			xy[i].X, xy[i].Y = p.at.Seconds(), s.pick(p)
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color = s.c
		l.Width = vg.Points(1.5)
		s.on.Add(l)
		s.on.Legend.Add(s.name, l)
	}
	var ticks []plot.Tick
	for x := 0; x <= 40; x += 5 {
		ticks = append(ticks, plot.Tick{Value: float64(x), Label: fmt.Sprint(x)})
	}
	rates.X.Tick.Marker, rtt.X.Tick.Marker = plot.ConstantTicks(ticks), plot.ConstantTicks(ticks)
	rates.Legend.Top = true
	rtt.Legend.Top = true
	rtt.Y.Scale = plot.LogScale{}
	rtt.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	rtt.Y.Min = 50
	const w, h = 10 * vg.Inch, 7 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(8), PadX: vg.Points(4), PadTop: vg.Points(4), PadBottom: vg.Points(4)}
	canvases := plot.Align([][]*plot.Plot{{rates}, {rtt}}, tiles, dc)
	rates.Draw(canvases[0][0])
	rtt.Draw(canvases[1][0])
	png := vgimg.PngCanvas{Canvas: img}
	return savePNG(path, png)
}

// budgetSummary describes the run in a few lines: the budget at chosen
// moments.
func budgetSummary(pts []budgetPoint) string {
	s := "| t | cap kbit/s | budget kbit/s | delivered kbit/s | RTT |\n|---|---|---|---|---|\n"
	for _, p := range pts {
		switch p.at {
		case 10 * time.Second, 11 * time.Second, 13 * time.Second, 16 * time.Second, 25 * time.Second, 27 * time.Second, 30 * time.Second, 40 * time.Second:
			s += fmt.Sprintf("| %v | %.0f | %.0f | %.0f | %v |\n", p.at, p.capKbps, p.budgetKbps, p.gotKbps, p.rtt.Round(time.Millisecond))
		}
	}
	return s
}

func savePNG(path string, png vgimg.PngCanvas) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := png.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
