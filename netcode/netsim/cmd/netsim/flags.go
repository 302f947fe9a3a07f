package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// options is everything the command line sets.
type options struct {
	proxy         netsim.ProxyConfig
	statsInterval time.Duration
}

// errVersion is parseArgs' answer to -version.
var errVersion = errors.New("netsim: -version")

// flagError is a bad command line: the command exits with status 2.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

func badFlag(name, value, reason string) error {
	return &flagError{msg: fmt.Sprintf("-%s %q: %s", name, value, reason)}
}

// newFlagSet declares the flags; every value is parsed by parseArgs so that
// each error names the flag, the value and what is allowed.
func newFlagSet(out io.Writer) (*flag.FlagSet, map[string]*string) {
	fs := flag.NewFlagSet("netsim", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseArgs prints the one message
	vals := map[string]*string{}
	def := func(name, value, usage string) { vals[name] = fs.String(name, value, usage) }
	def("listen", "", "UDP `address` clients send to, e.g. 127.0.0.1:7001 (required)")
	def("target", "", "UDP `address` of the real server, e.g. 127.0.0.1:7000 (required)")
	def("direction", "both", "which `way` the conditions apply: both, up (client→server) or down (server→client)")
	def("loss", "0%", "independent loss probability, as a `percentage` like 10% or a fraction like 0.1")
	def("burst-loss", "0%", "extra bursty loss (Gilbert–Elliott) as a `percentage` of datagrams")
	def("burst-len", "3", "mean `length` of a loss burst in datagrams, with -burst-loss (≥ 1)")
	def("ge", "", "raw Gilbert–Elliott model `p,r[,lossGood,lossBad]`: p good→bad, r bad→good, loss in each state (default 0%,100%); instead of -burst-loss")
	def("latency", "0ms", "one-way base `delay` per direction, e.g. 80ms")
	def("jitter", "0ms", "delay spread: each datagram takes latency ± this `duration`")
	def("keep-order", "false", "jitter never reorders: a datagram overtaken by jitter waits instead (`true|false`)")
	def("dup", "0%", "duplication probability, a `percentage`")
	def("reorder", "0%", "`percentage` of datagrams held back by -reorder-delay")
	def("reorder-delay", "10ms", "extra `delay` of a reordered datagram")
	def("bandwidth", "0", "bandwidth cap `rate` per client and direction, e.g. 1mbit, 256kbps, 100KB/s; 0 = unlimited")
	def("queue", "0", "most datagrams held per client and direction (a `count`); 0 = 4096")
	def("queue-bytes", "0", "most `bytes` held per client and direction; 0 = 4MiB")
	def("mtu", "0", "drop datagrams larger than this many `bytes`; 0 = 65507")
	def("seed", "1", "random `seed`: the same seed and traffic give the same drops")
	def("stats-interval", "5s", "print counters every `duration`; 0 = only at exit")
	def("max-clients", "256", "most clients served at once (a `count`)")
	def("idle-timeout", "1m", "forget a client after this `duration` without traffic")
	fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "netsim: a UDP proxy that simulates a bad network between clients and a server.\n\n")
		fmt.Fprintf(out, "Usage: netsim -listen 127.0.0.1:7001 -target 127.0.0.1:7000 [-loss 10%%] [-latency 80ms] [-jitter 20ms] ...\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, vals
}

// parseArgs turns the command line into options. It returns flag.ErrHelp
// for -h, and a *flagError naming the flag for a bad value.
func parseArgs(args []string, usage io.Writer) (options, error) {
	fs, vals := newFlagSet(usage)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(usage)
			fs.Usage()
			return options{}, err
		}
		return options{}, &flagError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return options{}, &flagError{msg: fmt.Sprintf("unexpected argument %q: every setting is a flag (see -h)", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["version"] {
		return options{}, errVersion
	}
	p := parser{vals: vals}

	var o options
	var cfg netsim.Config
	o.proxy.Listen = p.address("listen")
	o.proxy.Target = p.address("target")
	cfg.Loss = p.percent("loss")
	cfg.Latency = p.duration("latency")
	cfg.Jitter = p.duration("jitter")
	cfg.PreserveOrder = p.bool("keep-order")
	cfg.Duplicate = p.percent("dup")
	cfg.Reorder = p.percent("reorder")
	cfg.ReorderDelay = p.duration("reorder-delay")
	cfg.Bandwidth = p.bandwidth("bandwidth")
	cfg.QueuePackets = p.intRange("queue", 0, math.MaxInt32)
	cfg.QueueBytes = p.intRange("queue-bytes", 0, math.MaxInt32)
	cfg.MaxDatagramSize = p.intRange("mtu", 0, netsim.DefaultMaxDatagramSize)
	burstLoss := p.percent("burst-loss")
	burstLen := p.float("burst-len", 1, 1e6)
	if set["ge"] {
		if set["burst-loss"] {
			p.fail("ge", "cannot be combined with -burst-loss; give one or the other")
		}
		cfg.Burst = p.gilbertElliott("ge")
	} else if limit := netsim.MaxBurstLossRate(burstLen); burstLoss > limit {
		p.fail("burst-loss", fmt.Sprintf("must be at most %.4g%% with -burst-len %g (every burst ends with a delivered datagram)", limit*100, burstLen))
	} else {
		cfg.Burst = netsim.BurstLoss(burstLoss, burstLen)
	}
	o.proxy.Seed = p.uint("seed")
	o.statsInterval = p.duration("stats-interval")
	o.proxy.MaxClients = p.intRange("max-clients", 1, 1<<20)
	o.proxy.IdleTimeout = p.duration("idle-timeout")
	if p.err == nil && o.proxy.IdleTimeout == 0 {
		p.fail("idle-timeout", "must be above 0")
	}
	switch dir := *vals["direction"]; dir {
	case "both":
		o.proxy.Up, o.proxy.Down = cfg, cfg
	case "up":
		o.proxy.Up = cfg
		o.proxy.Down = netsim.Config{MaxDatagramSize: cfg.MaxDatagramSize}
	case "down":
		o.proxy.Up = netsim.Config{MaxDatagramSize: cfg.MaxDatagramSize}
		o.proxy.Down = cfg
	default:
		p.fail("direction", "must be both, up or down")
	}
	if p.err != nil {
		return options{}, p.err
	}
	if err := o.proxy.Up.Validate(); err != nil { // a combination the single values did not catch
		return options{}, &flagError{msg: strings.TrimPrefix(err.Error(), "netsim: ")}
	}
	return o, nil
}

// parser keeps the first error, so parseArgs reads as a list of fields.
type parser struct {
	vals map[string]*string
	err  error
}

func (p *parser) fail(name, reason string) {
	if p.err == nil {
		p.err = badFlag(name, *p.vals[name], reason)
	}
}

func (p *parser) reason(name string, err error) {
	var pe *netsim.ParseError
	if errors.As(err, &pe) {
		p.fail(name, pe.Reason)
		return
	}
	p.fail(name, err.Error())
}

func (p *parser) address(name string) string {
	v := strings.TrimSpace(*p.vals[name])
	if v == "" {
		p.fail(name, "is required: a UDP address like 127.0.0.1:7000")
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 0 || n > 65535 {
		p.fail(name, "want host:port with a port from 0 to 65535, like 127.0.0.1:7000")
		return ""
	}
	return v
}

func (p *parser) percent(name string) float64 {
	v, err := netsim.ParsePercent(*p.vals[name])
	if err != nil {
		p.reason(name, err)
	}
	return v
}

func (p *parser) duration(name string) time.Duration {
	v, err := netsim.ParseDuration(*p.vals[name])
	if err != nil {
		p.reason(name, err)
	}
	return v
}

func (p *parser) bandwidth(name string) int64 {
	v, err := netsim.ParseBandwidth(*p.vals[name])
	if err != nil {
		p.reason(name, err)
	}
	return v
}

func (p *parser) intRange(name string, lo, hi int) int {
	v, err := strconv.Atoi(strings.TrimSpace(*p.vals[name]))
	if err != nil || v < lo || v > hi {
		p.fail(name, fmt.Sprintf("must be a whole number between %d and %d", lo, hi))
		return 0
	}
	return v
}

func (p *parser) float(name string, lo, hi float64) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(*p.vals[name]), 64)
	if err != nil || !(v >= lo && v <= hi) {
		p.fail(name, fmt.Sprintf("must be a number between %g and %g", lo, hi))
		return lo
	}
	return v
}

func (p *parser) bool(name string) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(*p.vals[name]))
	if err != nil {
		p.fail(name, "must be true or false")
	}
	return v
}

func (p *parser) uint(name string) uint64 {
	v, err := strconv.ParseUint(strings.TrimSpace(*p.vals[name]), 0, 64)
	if err != nil {
		p.fail(name, "must be a whole number between 0 and 18446744073709551615")
	}
	return v
}

// gilbertElliott parses "p,r[,lossGood,lossBad]", each a percentage or a
// fraction.
func (p *parser) gilbertElliott(name string) netsim.GilbertElliott {
	parts := strings.Split(*p.vals[name], ",")
	if len(parts) != 2 && len(parts) != 4 {
		p.fail(name, "want p,r or p,r,lossGood,lossBad (percentages or fractions), like 1%,30% or 1%,30%,0%,80%")
		return netsim.GilbertElliott{}
	}
	nums := []float64{0, 0, 0, 1}
	for i, s := range parts {
		v, err := netsim.ParsePercent(s)
		if err != nil {
			var pe *netsim.ParseError
			errors.As(err, &pe)
			p.fail(name, fmt.Sprintf("part %d %q: %s", i+1, strings.TrimSpace(s), pe.Reason))
			return netsim.GilbertElliott{}
		}
		nums[i] = v
	}
	g := netsim.GilbertElliott{GoodToBad: nums[0], BadToGood: nums[1], LossGood: nums[2], LossBad: nums[3]}
	if g.GoodToBad > 0 && g.BadToGood == 0 {
		p.fail(name, "r (bad→good) must be above 0 when p is set, or the link never recovers")
	}
	return g
}
