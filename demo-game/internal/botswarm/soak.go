package botswarm

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ServerSample is what a bots run reads from the demo server's Prometheus
// metrics (the admin address): the Go runtime's heap and goroutines, and the
// tick loop's counters.
type ServerSample struct {
	At          time.Duration // since the run started
	HeapAlloc   uint64        // go_memstats_heap_alloc_bytes
	HeapInuse   uint64        // go_memstats_heap_inuse_bytes
	Goroutines  int           // go_goroutines
	Clients     int           // tickwire_server_clients
	Ticks       uint64        // tickwire_server_ticks_total
	Overruns    uint64        // tickwire_server_tick_overruns_total
	Skipped     uint64        // tickwire_server_ticks_skipped_total
	Disconnects uint64        // tickwire_server_disconnects_total
	// SendBudget is the median send budget of the server's connections,
	// bytes per second (tickwire_server_client_send_budget_bytes_per_second,
	// quantile 0.5); 0 when the server runs without budgets.
	SendBudget float64
}

// ScrapeMetrics reads a ServerSample from a Prometheus text endpoint, e.g.
// "http://127.0.0.1:9100/metrics".
func ScrapeMetrics(ctx context.Context, c *http.Client, url string) (ServerSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ServerSample{}, fmt.Errorf("botswarm: metrics %q: %w", url, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return ServerSample{}, fmt.Errorf("botswarm: metrics %q: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ServerSample{}, fmt.Errorf("botswarm: metrics %q: %s", url, resp.Status)
	}
	return ParseMetrics(io.LimitReader(resp.Body, 8<<20))
}

// sendBudgetMedian is the one labelled series ParseMetrics reads; it is
// optional (a server without send budgets has no samples).
const sendBudgetMedian = `tickwire_server_client_send_budget_bytes_per_second{quantile="0.5"}`

// ParseMetrics reads a ServerSample from Prometheus text exposition format.
// Metrics it does not know are skipped; one it needs that is missing is an
// error.
func ParseMetrics(r io.Reader) (ServerSample, error) {
	var s ServerSample
	targets := map[string]func(float64){
		"go_memstats_heap_alloc_bytes":        func(v float64) { s.HeapAlloc = uint64(v) },
		"go_memstats_heap_inuse_bytes":        func(v float64) { s.HeapInuse = uint64(v) },
		"go_goroutines":                       func(v float64) { s.Goroutines = int(v) },
		"tickwire_server_clients":             func(v float64) { s.Clients = int(v) },
		"tickwire_server_ticks_total":         func(v float64) { s.Ticks = uint64(v) },
		"tickwire_server_tick_overruns_total": func(v float64) { s.Overruns = uint64(v) },
		"tickwire_server_ticks_skipped_total": func(v float64) { s.Skipped = uint64(v) },
		"tickwire_server_disconnects_total":   func(v float64) { s.Disconnects = uint64(v) },
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if ok && name == sendBudgetMedian {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil && v == v { // NaN: no samples
				s.SendBudget = v
			}
			continue
		}
		if !ok || strings.ContainsRune(name, '{') {
			continue // the metrics above have no labels
		}
		set, want := targets[name]
		if !want {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return s, fmt.Errorf("botswarm: metric %s: no value", name)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return s, fmt.Errorf("botswarm: metric %s: value %q: %w", name, rest, err)
		}
		set(v)
		seen[name] = true
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("botswarm: reading metrics: %w", err)
	}
	for name := range targets {
		if !seen[name] {
			return s, fmt.Errorf("botswarm: metric %s missing: is this a Tickwire server's /metrics?", name)
		}
	}
	return s, nil
}

// SoakLimits are the bounds a soak run is checked against.
type SoakLimits struct {
	// HeapGrowth bounds the server's heap late in the run against early
	// in the run (after warm-up): late peak ≤ early peak × HeapGrowth +
	// HeapSlack. Default 1.25 and 8 MiB.
	HeapGrowth float64
	HeapSlack  uint64
	// GoroutineSlack bounds late goroutines ≤ early goroutines + slack
	// (default 2).
	GoroutineSlack int
	// OverrunRatio bounds tick overruns (ticks longer than the tick
	// interval) per tick after warm-up; default 0.01. SkipRatio bounds the
	// ticks skipped after warm-up (the loop fell more than MaxCatchUp
	// ticks, 83 ms at 60 Hz, behind: a stall of the whole process) per
	// tick; default 0.001.
	OverrunRatio float64
	SkipRatio    float64
	// StallRatio bounds the bots' interpolation stalls per frame (default
	// 0.01).
	StallRatio float64
	// RequireSamples makes a run with fewer than five server samples fail
	// (a soak run must judge the server); without it the server checks are
	// left out of such a run.
	RequireSamples bool
}

func (l SoakLimits) withDefaults() SoakLimits {
	if l.HeapGrowth == 0 {
		l.HeapGrowth = 1.25
	}
	if l.HeapSlack == 0 {
		l.HeapSlack = 8 << 20
	}
	if l.GoroutineSlack == 0 {
		l.GoroutineSlack = 2
	}
	if l.OverrunRatio == 0 {
		l.OverrunRatio = 0.01
	}
	if l.SkipRatio == 0 {
		l.SkipRatio = 0.001
	}
	if l.StallRatio == 0 {
		l.StallRatio = 0.01
	}
	return l
}

// Check is one verdict of a soak run.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// SoakReport is the outcome of a monitored run.
type SoakReport struct {
	Samples []ServerSample // empty without a sampler
	Bots    Stats          // at the end
	// Steady is Bots less the first fifth of the run (connects, clock
	// sync, the first predictions): the counters of the steady state.
	Steady Stats
	Checks []Check
}

// OK reports whether every check passed.
func (r SoakReport) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Sampler reads the server's state; ScrapeMetrics is one.
type Sampler func(ctx context.Context) (ServerSample, error)

// eventPoll is how often Monitor looks for connection events.
const eventPoll = 100 * time.Millisecond

// writeEvents prints a line for each kind of connection event between two
// Stats of a swarm: connections lost (with the first bot's reason) and
// connections remade. It returns cur, the new baseline.
func writeEvents(out io.Writer, prev, cur Stats, at time.Duration) Stats {
	stamp := fmt.Sprintf("t=%-5v", at.Round(100*time.Millisecond))
	if n := cur.Lost - prev.Lost; n > 0 {
		reason := cur.EndReason
		if reason == "" {
			reason = "reconnected since"
		}
		fmt.Fprintf(out, "%s %d connection(s) lost: %s\n", stamp, n, reason)
	}
	if n := cur.Reconnects - prev.Reconnects; n > 0 {
		fmt.Fprintf(out, "%s %d bot(s) reconnected; %d of %d connected now\n", stamp, n, cur.Bots-cur.DialFailed-cur.Ended, cur.Bots)
	}
	return cur
}

// Monitor runs the swarm until ctx ends, printing a line of bot stats (and,
// with a sampler, server stats) to out every interval, and a summary at the
// end; it returns the report with the checks of limits. Connection events
// (connections lost, with the reason, and remade) print as they happen. The
// swarm stays connected: Close it afterwards.
func Monitor(ctx context.Context, s *Swarm, sample Sampler, interval time.Duration, limits SoakLimits, out io.Writer) SoakReport {
	limits = limits.withDefaults()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx)
	}()
	var rep SoakReport
	take := func() {
		if sample == nil {
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ss, err := sample(sctx)
		if err != nil {
			fmt.Fprintf(out, "server sample: %v\n", err)
			return
		}
		ss.At = time.Since(start)
		rep.Samples = append(rep.Samples, ss)
	}
	take()
	prev := s.Stats()
	warmEnd := interval
	if dl, ok := ctx.Deadline(); ok {
		warmEnd = max(time.Until(dl)/5, interval/2)
	}
	var warm Stats
	warmSet := false
	t := time.NewTicker(interval)
	defer t.Stop()
	// Connection events print as they happen (within eventPoll), not at the
	// next interval: a server that died or came back is news.
	ev := time.NewTicker(eventPoll)
	defer ev.Stop()
	seen := prev
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-ev.C:
			seen = writeEvents(out, seen, s.Stats(), time.Since(start))
			continue
		case <-t.C:
		}
		cur := s.Stats()
		seen = writeEvents(out, seen, cur, time.Since(start))
		if !warmSet && time.Since(start) >= warmEnd {
			warm, warmSet = cur, true
		}
		cur.Sub(prev).WriteLine(out, fmt.Sprintf("t=%-5v", time.Since(start).Round(time.Second)))
		prev = cur
		n := len(rep.Samples)
		take()
		if len(rep.Samples) > n {
			rep.Samples[len(rep.Samples)-1].writeLine(out)
		}
	}
	<-done
	take()
	rep.Bots = s.Stats()
	rep.Steady = rep.Bots.Sub(warm) // all of it when the run ended before warm-up
	rep.Checks = check(rep, limits)
	rep.write(out)
	return rep
}

func (ss ServerSample) writeLine(w io.Writer) {
	fmt.Fprintf(w, "        server: heap alloc %.1f MiB in use %.1f MiB | goroutines %d | clients %d | ticks %d overruns %d skipped %d | disconnects %d",
		mib(ss.HeapAlloc), mib(ss.HeapInuse), ss.Goroutines, ss.Clients, ss.Ticks, ss.Overruns, ss.Skipped, ss.Disconnects)
	if ss.SendBudget > 0 {
		fmt.Fprintf(w, " | send budget median %.0f kbit/s", ss.SendBudget*8/1000)
	}
	fmt.Fprintln(w)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// check evaluates the report against limits. Server checks use the samples
// after the first fifth of the run (warm-up: connects, heap growth to the
// working size): "early" is the next fifth, "late" the last fifth.
func check(r SoakReport, l SoakLimits) []Check {
	b := r.Bots
	cs := []Check{
		{"every bot connected", b.Connected == b.Bots && b.Bots > 0, fmt.Sprintf("%d of %d connected, %d failed", b.Connected, b.Bots, b.DialFailed)},
		{"no reliable message lost (every welcome arrived)", b.Welcomed == b.Connected, fmt.Sprintf("%d of %d welcomed", b.Welcomed, b.Connected)},
		{"no connection ended", b.Ended == 0 && b.Lost == 0, endDetail(b)},
		{"snapshots decoded", b.BadMessages == 0 && b.Snapshots > 0, fmt.Sprintf("%d decoded, %d bad", b.Snapshots, b.BadMessages)},
		{"interpolation stalls within bound", b.StallRatio() <= l.StallRatio && r.Steady.StallRatio() <= l.StallRatio,
			fmt.Sprintf("%.3f%% of %d frames, bound %.2f%%", 100*b.StallRatio(), b.Frames, 100*l.StallRatio)},
	}
	n := len(r.Samples)
	if n < 5 {
		if l.RequireSamples {
			cs = append(cs, Check{"server samples", false, fmt.Sprintf("%d samples: too few to judge (run longer or sample more often)", n)})
		}
		return cs
	}
	end := r.Samples[n-1].At
	var early, late []ServerSample
	var warm ServerSample
	warmSet := false
	for _, s := range r.Samples {
		switch {
		case s.At < end/5:
			continue
		case s.At < 2*end/5:
			early = append(early, s)
		case s.At >= 4*end/5:
			late = append(late, s)
		}
		if !warmSet {
			warm, warmSet = s, true
		}
	}
	if len(early) == 0 || len(late) == 0 {
		return append(cs, Check{"server samples", false, "no samples early or late in the run"})
	}
	peak := func(ss []ServerSample, f func(ServerSample) uint64) uint64 {
		var m uint64
		for _, s := range ss {
			m = max(m, f(s))
		}
		return m
	}
	heap := func(s ServerSample) uint64 { return s.HeapInuse }
	gor := func(s ServerSample) uint64 { return uint64(s.Goroutines) }
	eh, lh := peak(early, heap), peak(late, heap)
	limit := uint64(float64(eh)*l.HeapGrowth) + l.HeapSlack
	cs = append(cs, Check{"server heap flat", lh <= limit,
		fmt.Sprintf("in use: early peak %.1f MiB, late peak %.1f MiB (%+.1f%%), bound %.1f MiB", mib(eh), mib(lh), pct(lh, eh), mib(limit))})
	eg, lg := peak(early, gor), peak(late, gor)
	cs = append(cs, Check{"server goroutines flat", lg <= eg+uint64(l.GoroutineSlack),
		fmt.Sprintf("early peak %d, late peak %d, bound +%d", eg, lg, l.GoroutineSlack)})
	last := r.Samples[n-1]
	cs = append(cs, Check{"server counts every bot", last.Clients == b.Connected-b.Ended,
		fmt.Sprintf("server has %d clients, %d bots connected", last.Clients, b.Connected-b.Ended)})
	ticks := last.Ticks - warm.Ticks
	over := last.Overruns - warm.Overruns
	skipped := last.Skipped - warm.Skipped
	ratio, skipRatio := 0.0, 0.0
	if ticks > 0 {
		ratio, skipRatio = float64(over)/float64(ticks), float64(skipped)/float64(ticks)
	}
	cs = append(cs, Check{"tick overruns within bound", ticks > 0 && ratio <= l.OverrunRatio && skipRatio <= l.SkipRatio,
		fmt.Sprintf("%d overruns in %d ticks after warm-up (%.3f%%, bound %.2f%%), %d skipped (%.3f%%, bound %.2f%%); whole run: %d overruns, %d skipped",
			over, ticks, 100*ratio, 100*l.OverrunRatio, skipped, 100*skipRatio, 100*l.SkipRatio, last.Overruns, last.Skipped)})
	return cs
}

// endDetail says how many connections were lost and why bots are not
// connected.
func endDetail(b Stats) string {
	d := fmt.Sprintf("%d connections lost, %d reconnects, %d bots not connected now", b.Lost, b.Reconnects, b.Ended)
	if b.EndReason != "" {
		d += " (first: " + b.EndReason + ")"
	}
	return d
}

func pct(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * (float64(a) - float64(b)) / float64(b)
}

func (r SoakReport) write(w io.Writer) {
	r.Bots.WriteLine(w, "summary:")
	r.Steady.WriteLine(w, "steady: ")
	if n := len(r.Samples); n > 0 {
		fmt.Fprintf(w, "server: %d samples; first/last:\n", n)
		r.Samples[0].writeLine(w)
		r.Samples[n-1].writeLine(w)
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %s: %s\n", mark, c.Name, c.Detail)
	}
}
