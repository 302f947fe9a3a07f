package netsim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseError reports a value that a parser of this package refused. Reason
// says what is allowed, so a command can name its flag:
// fmt.Sprintf("-loss %q: %s", e.Value, e.Reason).
type ParseError struct {
	Kind   string // what was parsed: "percentage", "bandwidth", "duration"
	Value  string // the text given
	Reason string // what is wrong and what is allowed
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("netsim: %s %q: %s", e.Kind, e.Value, e.Reason)
}

// ParsePercent parses a probability written as a percentage ("10%",
// "0.5%") or as a fraction ("0.1"), and returns it as a fraction in [0, 1].
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	fail := func(reason string) (float64, error) {
		return 0, &ParseError{Kind: "percentage", Value: s, Reason: reason}
	}
	if num, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fail("not a number before %; want a percentage like 10% or a fraction like 0.1")
		}
		if v < 0 || v > 100 {
			return fail("must be between 0% and 100%")
		}
		return v / 100, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fail("not a number; want a percentage like 10% or a fraction like 0.1")
	}
	if v < 0 || v > 1 {
		return fail("a fraction must be between 0 and 1 (write 10% for ten percent)")
	}
	return v, nil
}

// bandwidthUnits maps a lower-case unit to bytes per second. Units naming
// bits ("bit", "bps") count bits; the others count bytes. k, m, g are
// powers of 1000; ki, mi, gi powers of 1024.
var bandwidthUnits = map[string]float64{
	"": 1, "b": 1, "b/s": 1, "byte": 1, "bytes": 1, "byte/s": 1, "bytes/s": 1,
	"k": 1e3, "kb": 1e3, "kb/s": 1e3,
	"m": 1e6, "mb": 1e6, "mb/s": 1e6,
	"g": 1e9, "gb": 1e9, "gb/s": 1e9,
	"kib": 1 << 10, "kib/s": 1 << 10,
	"mib": 1 << 20, "mib/s": 1 << 20,
	"gib": 1 << 30, "gib/s": 1 << 30,
	"bit": 1.0 / 8, "bit/s": 1.0 / 8, "bps": 1.0 / 8,
	"kbit": 1e3 / 8, "kbit/s": 1e3 / 8, "kbps": 1e3 / 8,
	"mbit": 1e6 / 8, "mbit/s": 1e6 / 8, "mbps": 1e6 / 8,
	"gbit": 1e9 / 8, "gbit/s": 1e9 / 8, "gbps": 1e9 / 8,
}

// maxBandwidth is the largest cap accepted: 1 TB/s.
const maxBandwidth = 1e12

// ParseBandwidth parses a rate such as "1mbit", "256kbps", "100KB/s",
// "2MiB" or "50000" (bytes per second) and returns bytes per second.
// Units are case-insensitive: those naming bits (bit, kbit, mbit, gbit,
// bps, kbps, mbps, gbps) count bits, the others (b, kb, mb, gb, kib, mib,
// gib, optionally with /s) count bytes. "0", "" and "unlimited" mean no cap
// and return 0.
func ParseBandwidth(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" || t == "unlimited" || t == "none" {
		return 0, nil
	}
	fail := func(reason string) (int64, error) {
		return 0, &ParseError{Kind: "bandwidth", Value: s, Reason: reason}
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return fail("want a number and a unit, like 1mbit, 256kbps, 100KB/s or 50000 (bytes/s); 0 means unlimited")
	}
	scale, ok := bandwidthUnits[unit]
	if !ok {
		return fail(fmt.Sprintf("unknown unit %q; want b, kb, mb, gb, kib, mib, gib (bytes, optionally /s) or bit, kbit, mbit, gbit, bps, kbps, mbps, gbps (bits)", unit))
	}
	bytes := v * scale
	if v == 0 {
		return 0, nil
	}
	if bytes < 1 {
		return fail("must be 0 (unlimited) or at least 1 byte/s (8bit/s)")
	}
	if bytes > maxBandwidth {
		return fail("must be at most 1TB/s")
	}
	return int64(bytes), nil
}

// ParseDuration parses a non-negative duration such as "80ms" or "1.5s"
// of at most an hour; a bare "0" is allowed.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, &ParseError{Kind: "duration", Value: s, Reason: "not a duration; want a number with a unit, like 80ms or 1.5s"}
	}
	if d < 0 || d > time.Hour {
		return 0, &ParseError{Kind: "duration", Value: s, Reason: "must be between 0 and 1h"}
	}
	return d, nil
}
