package clientui

import (
	"fmt"
	"time"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// The values the network panel's keys step through. Each key moves a setting
// to the next value on its ladder above (or below) the current one, so a
// setting that started off the ladder (from a command-line flag) joins it on
// the first press.
func lossLadder() []float64 { return []float64{0, 0.01, 0.02, 0.05, 0.10, 0.20, 0.30, 0.50} }

func latencyLadder() []time.Duration {
	return msLadder(0, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500)
}

func jitterLadder() []time.Duration { return msLadder(0, 2, 5, 10, 20, 30, 50, 100) }

func duplicateLadder() []float64 { return []float64{0, 0.01, 0.02, 0.05, 0.10, 0.20} }

func msLadder(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

// NetPanel is the state of the live network panel: the conditions the client
// applies to its own socket (each direction gets the same Config, so the
// latency adds twice to the RTT), and the outcome of the last change.
type NetPanel struct {
	cfg    netsim.Config
	err    error // from the last SetConfig, shown on screen
	status string
}

// NewNetPanel returns a panel starting from cfg, which must be valid.
func NewNetPanel(cfg netsim.Config) (*NetPanel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &NetPanel{cfg: cfg}, nil
}

// Config returns the conditions currently selected.
func (p *NetPanel) Config() netsim.Config { return p.cfg }

// Apply changes the selected conditions for a panel action and returns the
// new Config and true, or the unchanged Config and false when a is not a
// panel action or the setting is already at the end of its ladder.
func (p *NetPanel) Apply(a Action) (netsim.Config, bool) {
	c := p.cfg
	switch a {
	case ActionLossDown:
		c.Loss = step(lossLadder(), c.Loss, -1)
	case ActionLossUp:
		c.Loss = step(lossLadder(), c.Loss, +1)
	case ActionLatencyDown:
		c.Latency = step(latencyLadder(), c.Latency, -1)
	case ActionLatencyUp:
		c.Latency = step(latencyLadder(), c.Latency, +1)
	case ActionJitterDown:
		c.Jitter = step(jitterLadder(), c.Jitter, -1)
	case ActionJitterUp:
		c.Jitter = step(jitterLadder(), c.Jitter, +1)
	case ActionDuplicateDown:
		c.Duplicate = step(duplicateLadder(), c.Duplicate, -1)
	case ActionDuplicateUp:
		c.Duplicate = step(duplicateLadder(), c.Duplicate, +1)
	case ActionLinkReset:
		c.Loss, c.Latency, c.Jitter, c.Duplicate = 0, 0, 0, 0
		c.Burst = netsim.GilbertElliott{}
		c.Reorder = 0
	default:
		return p.cfg, false
	}
	if c == p.cfg {
		return c, false
	}
	p.cfg = c
	return c, true
}

// SetResult records the outcome of applying the Config to the socket; a
// non-nil err is shown on the panel until the next success.
func (p *NetPanel) SetResult(err error) { p.err = err }

// SetStatus sets a short line shown under the settings (e.g. "no socket:
// offline mode"); empty hides it.
func (p *NetPanel) SetStatus(s string) { p.status = s }

// Lines returns the panel's text, one line per entry: the current settings
// with their keys, then the last error or the status, if any.
func (p *NetPanel) Lines() []string {
	c := p.cfg
	lines := []string{
		"NETWORK (this client's socket, each direction)",
		fmt.Sprintf("loss      %5.1f %%   [ ]", c.Loss*100),
		fmt.Sprintf("latency   %5d ms  - =", c.Latency.Milliseconds()),
		fmt.Sprintf("jitter    %5d ms  ; '", c.Jitter.Milliseconds()),
		fmt.Sprintf("duplicate %5.1f %%   , .", c.Duplicate*100),
		"backspace: perfect link",
	}
	switch {
	case p.err != nil:
		lines = append(lines, "error: "+p.err.Error())
	case p.status != "":
		lines = append(lines, p.status)
	}
	return lines
}

// step returns the next ladder value above cur (dir > 0) or below it
// (dir < 0), or cur when there is none.
func step[T float64 | time.Duration](ladder []T, cur T, dir int) T {
	if dir > 0 {
		for _, v := range ladder {
			if v > cur {
				return v
			}
		}
		return cur
	}
	for i := len(ladder) - 1; i >= 0; i-- {
		if ladder[i] < cur {
			return ladder[i]
		}
	}
	return cur
}
