package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// describe is one direction's conditions as the start-up log shows them:
// the settings that differ from a perfect link, in flag order and flag
// units, or "perfect".
func describe(c netsim.Config) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	pct := func(p float64) string { return strconv.FormatFloat(100*p, 'g', 4, 64) + "%" }
	if c.Loss > 0 {
		add("loss %s", pct(c.Loss))
	}
	if g := c.Burst; g.Enabled() {
		add("burst-loss %s (ge %s,%s,%s,%s)", pct(g.LossRate()), pct(g.GoodToBad), pct(g.BadToGood), pct(g.LossGood), pct(g.LossBad))
	}
	if c.Latency > 0 {
		add("latency %v", c.Latency)
	}
	if c.Jitter > 0 {
		add("jitter %v", c.Jitter)
	}
	if c.PreserveOrder {
		add("keep-order")
	}
	if c.Duplicate > 0 {
		add("dup %s", pct(c.Duplicate))
	}
	if c.Reorder > 0 {
		add("reorder %s by %v", pct(c.Reorder), c.ReorderDelay)
	}
	if c.Bandwidth > 0 {
		add("bandwidth %d B/s", c.Bandwidth)
	}
	if c.QueuePackets > 0 {
		add("queue %d", c.QueuePackets)
	}
	if c.QueueBytes > 0 {
		add("queue-bytes %d", c.QueueBytes)
	}
	if c.MaxDatagramSize > 0 {
		add("mtu %d", c.MaxDatagramSize)
	}
	if len(parts) == 0 {
		return "perfect"
	}
	return strings.Join(parts, " ")
}
