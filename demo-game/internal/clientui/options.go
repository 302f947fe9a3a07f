package clientui

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

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// DefaultAddr is the server address the client dials when -addr is not given.
const DefaultAddr = "127.0.0.1:7777"

// DefaultProtocolID is the demo's netcode protocol id ("TICKWIRE" in ASCII):
// the demo server must use the same one.
const DefaultProtocolID = protocol.ProtocolID

// MaxLoopbackBots bounds Options.Bots: the scripted players of the
// in-process server of -loopback.
const MaxLoopbackBots = 7

// Options are the client's command-line settings.
type Options struct {
	Addr       string        // server address (online mode)
	ProtocolID uint64        // netcode protocol id, the server's
	Offline    bool          // run the rules locally instead of connecting
	Loopback   bool          // run a server in-process over a simulated link
	Screenshot string        // write a PNG of frame Frames here and exit
	Frames     int           // frames to draw before the screenshot (or before exiting, if > 0)
	FPS        int           // frame cap; 0 = uncapped (under Xvfb there is no vsync)
	Timeout    time.Duration // exit with an error after this long; 0 = never
	Script     bool          // play scripted input instead of reading the keyboard
	FixedStep  bool          // advance the clock 1/60 s per tick instead of reading it
	HUD        bool          // start with the HUD shown
	Seed       uint64        // offline world seed
	NPCs       int           // offline NPC count
	Bots       int           // loopback: scripted extra players
	Reconnect  bool          // online: reconnect (with backoff) after losing the server
	Link       netsim.Config // initial conditions on the client's own socket
	Version    bool          // print the version and exit (nothing else is checked)
}

// ParseOptions parses the client's flags from args (without the program
// name). It prints nothing itself except the usage for -h (to out, returning
// flag.ErrHelp); a bad command line is one error naming the flag, the value
// and what is allowed. A screenshot implies scripted input (unless
// -script=false), a fixed time step in the modes without a server (unless
// -fixedstep=false), and 120 frames (unless -frames is given).
func ParseOptions(args []string, out io.Writer) (Options, error) {
	o := Options{}
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Addr, "addr", DefaultAddr, "server `address` (host:port)")
	fs.Uint64Var(&o.ProtocolID, "protocol", DefaultProtocolID, "netcode protocol `id` (must match the server's)")
	fs.BoolVar(&o.Offline, "offline", false, "run the game rules locally, without a server or network")
	fs.BoolVar(&o.Loopback, "loopback", false, "run a demo server inside the client, over a simulated link the network panel controls")
	fs.StringVar(&o.Screenshot, "screenshot", "", "write a PNG of the screen to `path` after -frames frames, then exit")
	fs.IntVar(&o.Frames, "frames", 0, "frames to draw before the screenshot or exit (a `count`; 0: run until closed; 120 with -screenshot)")
	fs.IntVar(&o.FPS, "fps", 60, "frame `rate` cap, 0..1000 (0: uncapped; Xvfb has no vsync)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "give up with an error after this `duration` (0: never)")
	script := fs.Bool("script", false, "play scripted input instead of the keyboard (default on with -screenshot)")
	fixed := fs.Bool("fixedstep", false, "advance time by exactly one tick per update, whatever the machine's speed (-offline and -loopback only; default on with -screenshot)")
	fs.BoolVar(&o.HUD, "hud", true, "start with the HUD shown (toggle with H)")
	fs.Uint64Var(&o.Seed, "seed", game.DefaultConfig().Seed, "world `seed` (offline and loopback) and seed of the socket's netsim")
	fs.IntVar(&o.NPCs, "npcs", game.DefaultConfig().NPCs, fmt.Sprintf("NPC `count` (offline and loopback), 0..%d", game.MaxNPCs))
	fs.IntVar(&o.Bots, "bots", 2, fmt.Sprintf("loopback: scripted extra players (a `count`, 0..%d), to see remote players interpolated", MaxLoopbackBots))
	fs.BoolVar(&o.Reconnect, "reconnect", true, "reconnect (with backoff) after losing the server; the HUD shows the countdown")
	fs.BoolVar(&o.Version, "version", false, "print the version and exit")
	loss := fs.String("loss", "0%", "initial loss on the client socket, each direction: a `percentage` like 5% or a fraction like 0.05")
	latency := fs.String("latency", "0ms", "initial one-way `delay` on the client socket, e.g. 50ms")
	jitter := fs.String("jitter", "0ms", "initial jitter on the client socket: each datagram takes latency ± this `duration`")
	dup := fs.String("dup", "0%", "initial duplication on the client socket: a `percentage` like 1% or a fraction")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "client: the Tickwire demo's window: plays on a demo server (or -offline, or -loopback with a server inside).\n\n")
		fmt.Fprintf(w, "Usage: client [-addr 127.0.0.1:7777] [-loss 5%%] [-latency 40ms] ...\n       client -loopback [-bots 2] | -offline\n       client ... -screenshot out.png [-frames 120]   (under xvfb-run without a desktop)\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fs.Usage()
			return Options{}, err
		}
		return Options{}, fmt.Errorf("clientui: %w (see -h)", err)
	}
	if o.Version {
		return o, nil
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("clientui: unexpected argument %q: the client takes only flags (see -h)", fs.Arg(0))
	}
	var err error
	if o.Link.Loss, err = parsePercent("loss", *loss); err != nil {
		return Options{}, err
	}
	if o.Link.Duplicate, err = parsePercent("dup", *dup); err != nil {
		return Options{}, err
	}
	if o.Link.Latency, err = parseDuration("latency", *latency); err != nil {
		return Options{}, err
	}
	if o.Link.Jitter, err = parseDuration("jitter", *jitter); err != nil {
		return Options{}, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.Script = *script || (o.Screenshot != "" && !set["script"])
	o.FixedStep = *fixed || (o.Screenshot != "" && (o.Offline || o.Loopback) && !set["fixedstep"])
	if o.Screenshot != "" && !set["frames"] {
		o.Frames = 120
	}
	return o, o.Validate()
}

// parsePercent parses flag name's value, a percentage or a fraction.
func parsePercent(name, v string) (float64, error) {
	p, err := netsim.ParsePercent(v)
	if err != nil {
		return 0, fmt.Errorf("clientui: -%s %q: %s", name, v, parseReason(err))
	}
	return p, nil
}

// parseDuration parses flag name's value, a non-negative duration.
func parseDuration(name, v string) (time.Duration, error) {
	d, err := netsim.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("clientui: -%s %q: %s", name, v, parseReason(err))
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

// validHostPort reports whether s is host:port with a non-empty host and a
// port 1..65535 (whether the host resolves is the dialer's to find out).
func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// Validate reports the first bad option, naming the flag, its value and what
// is allowed.
func (o Options) Validate() error {
	switch {
	case o.Frames < 0:
		return fmt.Errorf("clientui: -frames %d: must be 0 or positive", o.Frames)
	case o.Screenshot != "" && o.Frames < 1:
		return fmt.Errorf("clientui: -frames %d: must be at least 1 with -screenshot", o.Frames)
	case o.FPS < 0 || o.FPS > 1000:
		return fmt.Errorf("clientui: -fps %d: must be 0 (uncapped) to 1000", o.FPS)
	case o.Timeout < 0:
		return fmt.Errorf("clientui: -timeout %v: must not be negative", o.Timeout)
	case o.Offline && o.Loopback:
		return errors.New("clientui: -offline and -loopback: choose one")
	case o.NPCs < 0 || o.NPCs > game.MaxNPCs:
		return fmt.Errorf("clientui: -npcs %d: must be 0..%d", o.NPCs, game.MaxNPCs)
	case !o.Offline && !o.Loopback && o.Addr == "":
		return errors.New("clientui: -addr \"\": give the server's host:port, or -offline or -loopback")
	case !o.Offline && !o.Loopback && !validHostPort(o.Addr):
		return fmt.Errorf("clientui: -addr %q: want host:port with a port from 1 to 65535, like 127.0.0.1:7777", o.Addr)
	case o.FixedStep && !o.Offline && !o.Loopback:
		return errors.New("clientui: -fixedstep needs -offline or -loopback: a server keeps real time")
	case o.Bots < 0 || o.Bots > MaxLoopbackBots:
		return fmt.Errorf("clientui: -bots %d: must be 0..%d", o.Bots, MaxLoopbackBots)
	case o.Bots != 2 && !o.Loopback:
		return fmt.Errorf("clientui: -bots %d: only with -loopback (the scripted players of the server inside the client)", o.Bots)
	}
	if o.Offline || o.Loopback {
		cfg := game.DefaultConfig()
		cfg.NPCs, cfg.Seed = o.NPCs, o.Seed
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("clientui: -npcs %d / -seed %d: %w", o.NPCs, o.Seed, err)
		}
	}
	if err := o.Link.Validate(); err != nil {
		return fmt.Errorf("clientui: -loss/-latency/-jitter/-dup: %s", strings.TrimPrefix(err.Error(), "netsim: "))
	}
	return nil
}

// Script returns the scripted input of a tick: the player walks out and back
// along two sides of an L from its spawn point (right, left, down, up, one
// leg every scriptLeg ticks, dashing at the start of each), holds fire, and
// turns its aim a full circle every two seconds. The legs cancel out, so the
// player stays near its spawn point however long the script runs, and the
// script is a pure function of the tick, so a test can replay it. It suits a
// player spawned in the top-left quarter; see ScriptFrom.
func Script(tick uint32) game.Input { return ScriptFrom(tick, 0, 0) }

// ScriptFrom is Script for a player that spawned at (x, y) (fixed point):
// the legs of the L go toward the arena's centre, so a player spawned at a
// wall walks into the arena rather than into the wall.
func ScriptFrom(tick uint32, x, y int32) game.Input {
	right, left := game.ButtonRight, game.ButtonLeft
	if x > game.Fixed(game.ArenaWidth/2) {
		right, left = left, right
	}
	down, up := game.ButtonDown, game.ButtonUp
	if y > game.Fixed(game.ArenaHeight/2) {
		down, up = up, down
	}
	in := game.Input{Buttons: game.ButtonFire}
	switch (tick / scriptLeg) % 4 {
	case 0:
		in.Buttons |= right
	case 1:
		in.Buttons |= left
	case 2:
		in.Buttons |= down
	case 3:
		in.Buttons |= up
	}
	if tick%scriptLeg == 0 {
		in.Buttons |= game.ButtonDash
	}
	angle := 2 * math.Pi * float64(tick%120) / 120
	in.AimX, in.AimY = quantizeAim(math.Cos(angle), math.Sin(angle))
	return in
}

// scriptLeg is the length of one leg of Script, in ticks.
const scriptLeg = 60
