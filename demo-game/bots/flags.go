package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tickwire/tickwire/demo-game/internal/botswarm"
	"github.com/tickwire/tickwire/demo-game/internal/cli"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// Bounds of the flags.
const (
	maxDuration = 2 * time.Hour
	minInterval = 100 * time.Millisecond
)

// options is what the command line sets.
type options struct {
	swarm       botswarm.Config
	duration    time.Duration
	interval    time.Duration
	soak        bool
	admin       string // server admin address (host:port), for server samples
	allowRemote bool
	verbose     bool
	perBot      bool
	limits      botswarm.SoakLimits
}

// errVersion is parseFlags' answer to -version.
var errVersion = errors.New("bots: -version")

// percent parses a percentage ("5%") or a fraction ("0.05") of flag name.
func percent(name, v string) (float64, error) {
	p, err := netsim.ParsePercent(v)
	if err != nil {
		return 0, bad(name, fmt.Sprintf("%q", v), parseReason(err))
	}
	return p, nil
}

// duration parses a non-negative duration of flag name.
func duration(name, v string) (time.Duration, error) {
	d, err := netsim.ParseDuration(v)
	if err != nil {
		return 0, bad(name, fmt.Sprintf("%q", v), parseReason(err))
	}
	return d, nil
}

// parseReason is what is allowed, from a netsim parse error.
func parseReason(err error) string {
	var pe *netsim.ParseError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return strings.TrimPrefix(err.Error(), "netsim: ")
}

// flagError is a bad command line (exit status 2).
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

func bad(name string, value any, allowed string) error {
	return &flagError{msg: fmt.Sprintf("bots: -%s %v: %s", name, value, allowed)}
}

// parseFlags parses args (without the program name); usage goes to out.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bots", flag.ContinueOnError)
	fs.StringVar(&o.swarm.Addr, "addr", "127.0.0.1:7777", "demo server (or netsim proxy) UDP `address`")
	fs.IntVar(&o.swarm.Bots, "n", 4, fmt.Sprintf("number of bots (a `count`), 1..%d", botswarm.MaxBots))
	fs.DurationVar(&o.duration, "duration", 30*time.Second, fmt.Sprintf("how long the bots play, 1s..%v", maxDuration))
	fs.IntVar(&o.swarm.Rooms, "rooms", 0, "spread the bots over this many `rooms` (room-0, room-1, …) of a server run with -room-players; 0: no room named")
	fs.Uint64Var(&o.swarm.Seed, "seed", 1, "`seed` of the bots' scripted input (bot i plays seed+i)")
	fs.DurationVar(&o.interval, "interval", 5*time.Second, "print stats every `duration` (at least 100ms)")
	fs.IntVar(&o.swarm.FrameRate, "fps", botswarm.DefaultFrameRate, "frame `rate` per bot: input ticks and drawn views per second, 1..240")
	fs.BoolVar(&o.soak, "soak", false, "soak mode: sample the server through -admin and check heap, goroutines, overruns, stalls and connections; exit 1 when a check fails")
	fs.StringVar(&o.admin, "admin", "", "the server's admin `address` (host:port of its -admin flag) to sample its heap, goroutines and overruns; required with -soak")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback -addr (the bots are a load tool: point them at your own server only)")
	fs.BoolVar(&o.verbose, "v", false, "log the bots' connection events")
	fs.BoolVar(&o.perBot, "per-bot", false, "print a line per bot at exit")
	fs.BoolVar(&o.swarm.Reconnect.Enabled, "reconnect", true, "reconnect (with backoff) after losing the server")
	loss := fs.String("loss", "0%", "loss on each bot's own socket, each direction: a `percentage` like 5% or a fraction like 0.05")
	latency := fs.String("latency", "0ms", "one-way `delay` on each bot's own socket, e.g. 50ms")
	jitter := fs.String("jitter", "0ms", "each datagram on a bot's socket takes latency ± this `duration`")
	dup := fs.String("dup", "0%", "duplication on each bot's own socket: a `percentage` like 1% or a fraction")
	fs.Float64Var(&o.limits.StallRatio, "max-stalls", 0.01, "soak bound: interpolation stalls per frame (a `fraction` 0..1)")
	fs.Float64Var(&o.limits.OverrunRatio, "max-overruns", 0.01, "soak bound: server tick overruns per tick after warm-up (a `fraction` 0..1)")
	fs.Float64Var(&o.limits.SkipRatio, "max-skipped", 0.001, "soak bound: server ticks skipped (loop over 5 ticks behind) per tick after warm-up (a `fraction` 0..1)")
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "bots: N headless demo clients in one process, with scripted input; prints their RTT, loss,\nprediction corrections and interpolation stalls every -interval and at exit.\n\n")
		fmt.Fprintf(out, "Usage: bots -addr 127.0.0.1:7777 -n 20 -duration 1m\n       bots -soak -addr 127.0.0.1:7777 -admin 127.0.0.1:9100 -n 200 -duration 10m\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, out); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &flagError{msg: "bots: " + err.Error() + " (see -h)"}
	}
	if *version {
		return o, errVersion
	}
	if fs.NArg() > 0 {
		return o, &flagError{msg: fmt.Sprintf("bots: unexpected argument %q: every setting is a flag (see -h)", fs.Arg(0))}
	}
	var err error
	if o.swarm.Link.Loss, err = percent("loss", *loss); err != nil {
		return o, err
	}
	if o.swarm.Link.Duplicate, err = percent("dup", *dup); err != nil {
		return o, err
	}
	if o.swarm.Link.Latency, err = duration("latency", *latency); err != nil {
		return o, err
	}
	if o.swarm.Link.Jitter, err = duration("jitter", *jitter); err != nil {
		return o, err
	}
	switch {
	case o.swarm.Bots < 1 || o.swarm.Bots > botswarm.MaxBots:
		return o, bad("n", o.swarm.Bots, fmt.Sprintf("want 1..%d bots", botswarm.MaxBots))
	case o.duration < time.Second || o.duration > maxDuration:
		return o, bad("duration", o.duration, fmt.Sprintf("want 1s..%v", maxDuration))
	case o.interval < minInterval:
		return o, bad("interval", o.interval, "want at least 100ms")
	case o.swarm.FrameRate < 1 || o.swarm.FrameRate > 240:
		return o, bad("fps", o.swarm.FrameRate, "want 1..240")
	case o.soak && o.admin == "":
		return o, bad("admin", `""`, "-soak needs the server's admin address (host:port), e.g. 127.0.0.1:9100")
	case o.limits.StallRatio < 0 || o.limits.StallRatio > 1:
		return o, bad("max-stalls", o.limits.StallRatio, "want a fraction 0..1")
	case o.limits.OverrunRatio < 0 || o.limits.OverrunRatio > 1:
		return o, bad("max-overruns", o.limits.OverrunRatio, "want a fraction 0..1")
	case o.limits.SkipRatio < 0 || o.limits.SkipRatio > 1:
		return o, bad("max-skipped", o.limits.SkipRatio, "want a fraction 0..1")
	}
	if err := o.swarm.Link.Validate(); err != nil { // a combination the single values did not catch
		return o, &flagError{msg: fmt.Sprintf("bots: -loss/-latency/-jitter/-dup: %s", strings.TrimPrefix(err.Error(), "netsim: "))}
	}
	if o.swarm.Rooms < 0 || o.swarm.Rooms > o.swarm.Bots {
		return o, bad("rooms", o.swarm.Rooms, fmt.Sprintf("want 0 (no rooms) or 1..-n (%d)", o.swarm.Bots))
	}
	o.limits.RequireSamples = o.soak
	if err := o.swarm.Validate(); err != nil {
		return o, bad("addr", fmt.Sprintf("%q", o.swarm.Addr), "want host:port of the server, like 127.0.0.1:7777")
	}
	if !o.allowRemote && !botswarm.IsLoopback(o.swarm.Addr) {
		return o, bad("addr", fmt.Sprintf("%q", o.swarm.Addr), "not a loopback address; the bots are a local load tool (add -allow-remote for your own server on a LAN)")
	}
	if o.admin != "" && !o.allowRemote && !botswarm.IsLoopback(o.admin) {
		return o, bad("admin", fmt.Sprintf("%q", o.admin), "want a loopback host:port like 127.0.0.1:9100 (or -allow-remote)")
	}
	return o, nil
}

// linkSet reports whether any client-side condition was given.
func (o options) linkSet() bool { return o.swarm.Link != (netsim.Config{}) }
