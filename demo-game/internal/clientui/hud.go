package clientui

import (
	"fmt"
	"time"
)

// Metric identifies one graph of the HUD.
type Metric int

// The HUD's metrics, in the order they are drawn top to bottom.
const (
	MetricRTT          Metric = iota // round-trip time, ms
	MetricJitter                     // RTT variation, ms
	MetricLoss                       // packet loss, %
	MetricInKbps                     // received kbit/s
	MetricOutKbps                    // sent kbit/s
	MetricSnapshotRate               // snapshots received per second
	MetricInterpDelay                // interpolation delay behind the server, ms
	NumMetrics                       // number of metrics
)

// metricInfo is the caption and unit of a metric and the smallest top of its
// graph's scale, so that a quiet link draws a flat line at the bottom rather
// than noise blown up to full height.
var metricInfo = [NumMetrics]struct {
	name, unit string
	minTop     float64
}{
	MetricRTT:          {"RTT", "ms", 50},
	MetricJitter:       {"jitter", "ms", 10},
	MetricLoss:         {"loss", "%", 5},
	MetricInKbps:       {"in", "kbps", 50},
	MetricOutKbps:      {"out", "kbps", 20},
	MetricSnapshotRate: {"snapshots", "Hz", 50},
	MetricInterpDelay:  {"interp delay", "ms", 200},
}

// Name returns the metric's caption, e.g. "RTT".
func (m Metric) Name() string {
	if m < 0 || m >= NumMetrics {
		return fmt.Sprintf("metric(%d)", int(m))
	}
	return metricInfo[m].name
}

// Unit returns the metric's unit, e.g. "ms".
func (m Metric) Unit() string {
	if m < 0 || m >= NumMetrics {
		return ""
	}
	return metricInfo[m].unit
}

// Sample is one reading of every HUD metric.
type Sample struct {
	RTT          time.Duration
	Jitter       time.Duration
	Loss         float64 // 0..1
	InKbps       float64
	OutKbps      float64
	SnapshotRate float64 // snapshots per second
	InterpDelay  time.Duration
}

// value returns the sample's reading of m in the metric's display unit.
func (s Sample) value(m Metric) float64 {
	switch m {
	case MetricRTT:
		return ms(s.RTT)
	case MetricJitter:
		return ms(s.Jitter)
	case MetricLoss:
		return s.Loss * 100
	case MetricInKbps:
		return s.InKbps
	case MetricOutKbps:
		return s.OutKbps
	case MetricSnapshotRate:
		return s.SnapshotRate
	case MetricInterpDelay:
		return ms(s.InterpDelay)
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Default HUD timing: ten seconds of history sampled ten times a second.
const (
	DefaultHUDWindow   = 10 * time.Second
	DefaultHUDInterval = 100 * time.Millisecond
)

// HUD keeps the recent history of every metric, sampled at a fixed interval
// so that the graphs have evenly spaced points whatever the frame rate.
type HUD struct {
	interval time.Duration
	series   [NumMetrics]*Series
	next     time.Time // when the next sample is due
	recorded bool      // whether any sample was recorded
}

// NewHUD returns a HUD that keeps window of history, recording at most one
// sample per interval. interval must be positive and at most window.
func NewHUD(window, interval time.Duration) (*HUD, error) {
	if interval <= 0 || interval > window {
		return nil, fmt.Errorf("clientui: HUD interval = %v: must be positive and at most the window (%v)", interval, window)
	}
	h := &HUD{interval: interval}
	capacity := int(window/interval) + 2
	for m := range h.series {
		s, err := NewSeries(capacity, window)
		if err != nil {
			return nil, err
		}
		h.series[m] = s
	}
	return h, nil
}

// Record stores s as the reading at now when a sample is due, and reports
// whether it did. Call it every frame: samples are due on a fixed schedule of
// one per interval (frames that fall between are skipped), and after a pause
// longer than an interval the schedule restarts from now.
func (h *HUD) Record(now time.Time, s Sample) bool {
	if h.recorded && now.Before(h.next) {
		return false
	}
	for m, ser := range h.series {
		ser.Add(now, s.value(Metric(m)))
	}
	if !h.recorded {
		h.next = now
	}
	h.recorded = true
	h.next = h.next.Add(h.interval)
	if !h.next.After(now) {
		h.next = now.Add(h.interval)
	}
	return true
}

// Series returns the history of m.
func (h *HUD) Series(m Metric) *Series { return h.series[m] }

// Top returns the value at the top of m's graph: the window's maximum plus
// 10% rounded up to a 1-2-5 step, never below the metric's minimum scale.
func (h *HUD) Top(m Metric, now time.Time) float64 {
	// 10% headroom keeps the line clear of the scale label at the top.
	top := NiceCeil(h.series[m].Summary(now).Max * 1.1)
	if min := metricInfo[m].minTop; top < min {
		top = min
	}
	return top
}

// Caption returns the text above m's graph: name, newest value and unit, and
// the window's min/avg/max, e.g. "RTT 42.0 ms  min 40 avg 41 max 50"; with no
// samples in the window, "RTT -- ms".
func (h *HUD) Caption(m Metric, now time.Time) string {
	s := h.series[m].Summary(now)
	if s.N == 0 {
		return fmt.Sprintf("%s -- %s", m.Name(), m.Unit())
	}
	return fmt.Sprintf("%s %.1f %s  %s/%s/%s", m.Name(), s.Last, m.Unit(),
		short(s.Min), short(s.Avg), short(s.Max))
}

// short formats v compactly: no decimals from 10 up, one below.
func short(v float64) string {
	if v >= 10 || v <= -10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
