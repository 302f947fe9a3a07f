package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/cli"
	"github.com/tickwire/tickwire/demo-game/internal/demoserver"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
)

// options is what the command line sets.
type options struct {
	cfg          demoserver.ServerConfig
	tokenKeyFile string
	logLevel     slog.Level
	logJSON      bool
	// agones turns the Agones integration on; agonesURL is the sidecar's
	// address ("": from AGONES_SDK_HTTP_PORT).
	agones    bool
	agonesURL string
}

// errVersion is parseFlags' answer to -version.
var errVersion = errors.New("server: -version")

// flagError is a bad command line (exit status 2).
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

// parser keeps the first error, naming the flag, its value and what is
// allowed.
type parser struct {
	fs  *flag.FlagSet
	err error
}

func (p *parser) fail(name, value, allowed string) {
	if p.err == nil {
		p.err = &flagError{msg: fmt.Sprintf("server: -%s %q: %s", name, value, allowed)}
	}
}

func (p *parser) value(name string) string { return p.fs.Lookup(name).Value.String() }

func (p *parser) intRange(name string, lo, hi int, allowed string) int {
	v, err := strconv.Atoi(strings.TrimSpace(p.value(name)))
	if err != nil || v < lo || v > hi {
		p.fail(name, p.value(name), allowed)
	}
	return v
}

func (p *parser) percent(name string) float64 {
	v, err := netsim.ParsePercent(p.value(name))
	if err != nil {
		var pe *netsim.ParseError
		if errors.As(err, &pe) {
			p.fail(name, p.value(name), pe.Reason)
		} else {
			p.fail(name, p.value(name), err.Error())
		}
	}
	return v
}

func (p *parser) duration(name string, hi time.Duration) time.Duration {
	v, err := netsim.ParseDuration(p.value(name))
	switch {
	case err != nil:
		var pe *netsim.ParseError
		if errors.As(err, &pe) {
			p.fail(name, p.value(name), pe.Reason)
		} else {
			p.fail(name, p.value(name), err.Error())
		}
	case v > hi:
		p.fail(name, p.value(name), fmt.Sprintf("must be at most %v", hi))
	}
	return v
}

// address checks host:port with a port 0..65535 (0 = any free port).
func (p *parser) address(name string, optional bool) string {
	v := strings.TrimSpace(p.value(name))
	if v == "" && optional {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 0 || n > 65535 {
		p.fail(name, v, "want host:port with a port from 0 to 65535, like 127.0.0.1:7777")
	}
	return v
}

// parseFlags parses args (without the program name); usage goes to out.
func parseFlags(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.String("addr", "127.0.0.1:7777", "UDP `address` to listen on (host:port; port 0 picks a free one; use 0.0.0.0:7777 for a LAN)")
	fs.String("tick-rate", strconv.Itoa(game.TickRate), fmt.Sprintf("simulation `rate` in ticks per second, 1..%d (the demo's rules and prediction assume %d)", server.MaxTickRate, game.TickRate))
	fs.String("snapshot-rate", strconv.Itoa(server.DefaultSnapshotRate), "snapshot `rate` to each client per second, 1..tick rate")
	fs.String("max-players", "64", fmt.Sprintf("most connected players (a `count`), 1..%d", game.MaxPlayersLimit))
	fs.String("send-budget", "0", "each player's send budget ceiling in `kbit/s` (9..8000000), moved by the congestion response; snapshots follow it, nearest entities first; 0: no budget")
	fs.String("room-players", "0", "rooms: one arena per room of at most this many players (a `count`, 1..max-players), the room named by the connect token's user data (plain-mode clients share the room \"\"); 0: one arena for everyone")
	fs.String("admin", "", "TCP `address` of the admin HTTP server: Prometheus /metrics and /debug/pprof/ (e.g. 127.0.0.1:9100); empty: none")
	fs.String("npcs", strconv.Itoa(game.DefaultConfig().NPCs), fmt.Sprintf("wandering NPCs (a `count`), 0..%d", game.MaxNPCs))
	fs.String("seed", "1", "world `seed` (NPC movement) and netsim seed")
	fs.String("view-radius", "0", fmt.Sprintf("interest management: each client sees entities within this many world `units` of its player, 1..%d; 0 = the whole arena", arena.MaxViewRadius))
	fs.String("loss", "0%", "netsim on the server socket: loss per direction, a `percentage` like 5% or a fraction like 0.05")
	fs.String("latency", "0ms", "netsim on the server socket: one-way `delay` per direction, e.g. 50ms")
	fs.String("jitter", "0ms", "netsim on the server socket: each datagram takes latency ± this `duration`")
	fs.String("dup", "0%", "netsim on the server socket: duplication `percentage` per direction")
	fs.String("token-key-file", "", "secure mode: the `file` holding the token key the token backend shares (64 hex digits, tokend -gen-key); clients then need its connect tokens. Empty: plain mode")
	fs.String("public-addr", "", "secure mode: the `address` (ip:port) tokens name for this server; empty: the -addr socket's, or with -agones the GameServer's address and port")
	fs.String("drain-timeout", "30s", "on SIGTERM, how long players may finish before the rest are kicked (a `duration`, 0s..1h; 0s: kick at once); a second SIGTERM or SIGINT stops at once")
	fs.Bool("agones", false, "run under Agones: Ready once listening, health pings, a players label, Shutdown after the drain (through the SDK sidecar's REST gateway)")
	fs.String("agones-url", "", "the Agones SDK sidecar's `URL`; empty: http://localhost:$AGONES_SDK_HTTP_PORT (default port 9358)")
	fs.String("agones-health", "2s", "with -agones, the `interval` between health pings, 100ms..1m (below the GameServer's health periodSeconds)")
	fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	fs.Bool("log-json", false, "log JSON lines instead of text")
	fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "server: the headless Tickwire demo server (authoritative arena over UDP).\n\n")
		fmt.Fprintf(out, "Usage: server [-addr 127.0.0.1:7777] [-admin 127.0.0.1:9100] [-loss 5%%] [-latency 50ms] ...\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, out); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return options{}, err
		}
		return options{}, &flagError{msg: "server: " + err.Error() + " (see -h)"}
	}
	if fs.Lookup("version").Value.String() == "true" {
		return options{}, errVersion
	}
	if fs.NArg() > 0 {
		return options{}, &flagError{msg: fmt.Sprintf("server: unexpected argument %q: every setting is a flag (see -h)", fs.Arg(0))}
	}
	p := &parser{fs: fs}
	var o options
	c := &o.cfg
	c.Addr = p.address("addr", false)
	c.TickRate = p.intRange("tick-rate", 1, server.MaxTickRate, fmt.Sprintf("want a whole number of ticks per second, 1..%d", server.MaxTickRate))
	c.SnapshotRate = p.intRange("snapshot-rate", 1, server.MaxTickRate, "want a whole number of snapshots per second, 1..tick rate")
	if p.err == nil && c.SnapshotRate > c.TickRate {
		p.fail("snapshot-rate", p.value("snapshot-rate"), fmt.Sprintf("must be at most -tick-rate (%d)", c.TickRate))
	}
	c.MaxPlayers = p.intRange("max-players", 1, game.MaxPlayersLimit, fmt.Sprintf("want 1..%d players", game.MaxPlayersLimit))
	if kbit := p.intRange("send-budget", 0, 8_000_000, "want 0 (no budget) or 9..8000000 kbit/s"); kbit > 0 {
		if kbit < 9 {
			p.fail("send-budget", p.value("send-budget"), "want 0 (no budget) or 9..8000000 kbit/s (at least 1024 bytes/s)")
		}
		c.SendRate = kbit * 1000 / 8
	}
	c.RoomPlayers = p.intRange("room-players", 0, game.MaxPlayersLimit, "want 0 (one arena) or 1..max-players")
	if p.err == nil && c.RoomPlayers > c.MaxPlayers {
		p.fail("room-players", p.value("room-players"), fmt.Sprintf("must be at most -max-players (%d)", c.MaxPlayers))
	}
	c.AdminAddr = p.address("admin", true)
	g := game.DefaultConfig()
	g.NPCs = p.intRange("npcs", 0, game.MaxNPCs, fmt.Sprintf("want 0..%d NPCs", game.MaxNPCs))
	seed, err := strconv.ParseUint(strings.TrimSpace(p.value("seed")), 10, 64)
	if err != nil {
		p.fail("seed", p.value("seed"), "want a whole number 0..18446744073709551615")
	}
	g.Seed, c.LinkSeed = seed, seed
	c.Arena = arena.Config{Game: g}
	c.Arena.ViewRadius = p.intRange("view-radius", 0, arena.MaxViewRadius, fmt.Sprintf("want 0 (whole arena) or 1..%d world units", arena.MaxViewRadius))
	c.Link.Loss = p.percent("loss")
	c.Link.Latency = p.duration("latency", 10*time.Second)
	c.Link.Jitter = p.duration("jitter", 10*time.Second)
	c.Link.Duplicate = p.percent("dup")
	o.tokenKeyFile = strings.TrimSpace(p.value("token-key-file"))
	if v := strings.TrimSpace(p.value("public-addr")); v != "" {
		a, err := netip.ParseAddrPort(v)
		if err != nil || a.Port() == 0 {
			p.fail("public-addr", v, "want ip:port with a port from 1 to 65535, like 203.0.113.7:7777")
		} else if o.tokenKeyFile == "" {
			p.fail("public-addr", v, "only with -token-key-file (plain mode has no tokens to name it)")
		}
		c.PublicAddr = a
	}
	c.DrainTimeout = p.duration("drain-timeout", time.Hour)
	o.agones = p.value("agones") == "true"
	o.agonesURL = strings.TrimSpace(p.value("agones-url"))
	if o.agonesURL != "" && !strings.HasPrefix(o.agonesURL, "http://") && !strings.HasPrefix(o.agonesURL, "https://") {
		p.fail("agones-url", o.agonesURL, "want http://host:port, like http://localhost:9358")
	}
	if c.HealthInterval = p.duration("agones-health", time.Minute); p.err == nil && c.HealthInterval < 100*time.Millisecond {
		p.fail("agones-health", p.value("agones-health"), "must be at least 100ms")
	}
	if lv := p.value("log-level"); o.logLevel.UnmarshalText([]byte(lv)) != nil {
		p.fail("log-level", lv, "want debug, info, warn or error")
	}

	o.logJSON = p.value("log-json") == "true"
	if p.err != nil {
		return options{}, p.err
	}
	return o, nil
}
