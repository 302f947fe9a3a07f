// Package loopback runs the real demo server inside the client: the
// client's -loopback mode. A Loopback is the arena (package arena, the demo
// server's game) on a server.Server whose transport is one end of an
// in-memory netsim.Pipe (server.NewNetcodeTransport), and a client runtime
// (clientui.Client) whose Dial is netcode.DialConn over the other end, so
// that the whole networked path runs, without sockets: handshake, Welcome,
// delta snapshots against acknowledged baselines, inputs with redundancy,
// prediction and reconciliation, interpolation, and a link whose loss,
// latency, jitter and duplication the network panel changes live.
//
// # Stepping
//
// The server has no goroutine of its own: Update steps it from the client's
// frame loop with Step, once for every tick due by the frame's now (tick n
// is due at the start time plus n/game.TickRate s), before the client's
// own update, so server and client share one clock (the frame's now, which
// -fixedstep makes a tick per frame). After a stall longer than
// MaxCatchUp ticks the schedule moves forward, as server.Loop does, rather
// than running a burst of ticks. Only the pipe's link delays run on real
// time (timers), as a network would.
//
// Bots: Config.Bots extra players are added to the arena before the client
// connects, with player IDs from BotIDBase+1 up (the server numbers its
// connected players from 1, and a loopback has one), and each tick they
// play clientui.ScriptFrom from their spawn points, each a little out of
// step with the others. They are no network clients: the client sees them
// as remote players in its snapshots.
//
// The zero Loopback is not usable (New). A Loopback is not safe for
// concurrent use: call it from the client's game loop.
package loopback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/client"
)

// BotIDBase is the player ID below the bots': bot b (1, 2, …) is player
// BotIDBase+b.
const BotIDBase = 100

// MaxCatchUp is how many overdue server ticks one Update runs at most.
const MaxCatchUp = 5

// ErrInvalidConfig is wrapped by the errors of a bad Config.
var ErrInvalidConfig = errors.New("loopback: invalid config")

// Config configures a Loopback. The zero value is a perfect link, the
// default world and no bots.
type Config struct {
	// Link conditions each direction of the pipe (the network panel
	// changes it live).
	Link netsim.Config
	// Seed seeds the world (NPC movement) and the pipe's links.
	Seed uint64
	// NPCs is the number of wandering NPCs, 0..game.MaxNPCs.
	NPCs int
	// Bots is the number of scripted players, 0..clientui.MaxLoopbackBots.
	Bots int
	// Logger receives the server's and the client's logs; nil discards
	// them.
	Logger *slog.Logger
}

// Validate reports the first bad field, naming it, its value and what is
// allowed; the error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	if err := c.Link.Validate(); err != nil {
		return fmt.Errorf("%w: Link: %w", ErrInvalidConfig, err)
	}
	if c.NPCs < 0 || c.NPCs > game.MaxNPCs {
		return fmt.Errorf("%w: NPCs = %d, want 0..%d", ErrInvalidConfig, c.NPCs, game.MaxNPCs)
	}
	if c.Bots < 0 || c.Bots > clientui.MaxLoopbackBots {
		return fmt.Errorf("%w: Bots = %d, want 0..%d", ErrInvalidConfig, c.Bots, clientui.MaxLoopbackBots)
	}
	return nil
}

// Loopback is a demo server and a client joined by an in-memory pipe; it is
// the client's Source in -loopback mode.
type Loopback struct {
	game   *scripted
	srv    *server.Server
	online *clientui.Online
	srvEnd *netsim.PipeConn // the server's transport; conditions what the server sends
	cliEnd *netsim.PipeConn // the client's connection; conditions what the client sends

	start  time.Time     // tick n is due at start + n·tickDt
	tickDt time.Duration // the server's tick interval
	ticks  uint64        // ticks run
	closed bool
}

// New builds the server and the client at now; the client dials at the
// first Update.
func New(now time.Time, cfg Config) (*Loopback, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wcfg := game.DefaultConfig()
	wcfg.Seed, wcfg.NPCs = cfg.Seed, cfg.NPCs
	a, err := arena.New(arena.Config{Game: wcfg})
	if err != nil {
		return nil, err
	}
	g, err := newScripted(a, cfg.Bots)
	if err != nil {
		return nil, err
	}
	cliEnd, srvEnd := netsim.Pipe(cfg.Link, cfg.Link, cfg.Seed)
	tr, err := server.NewNetcodeTransport(srvEnd, netcode.ServerConfig{ProtocolID: protocol.ProtocolID, MaxClients: 4, Logger: log})
	if err != nil {
		_ = cliEnd.Close()
		_ = srvEnd.Close()
		return nil, err
	}
	srv, err := server.New(server.Config{TickRate: game.TickRate, Codec: protocol.Codec(), Logger: log}, g, tr)
	if err != nil {
		_ = cliEnd.Close()
		_ = tr.Close()
		return nil, err
	}
	static := a.World().Static()
	ccfg := clientui.ClientConfig(static)
	ccfg.Logger = log
	ncfg := ccfg.Netcode
	serverAddr := netip.MustParseAddrPort(srvEnd.LocalAddr().String())
	ccfg.Dial = func(ctx context.Context) (*netcode.Client, error) {
		return netcode.DialConn(ctx, cliEnd, serverAddr, ncfg)
	}
	c, err := client.New(ccfg)
	if err != nil {
		_ = cliEnd.Close()
		_ = srv.Close()
		return nil, err
	}
	l := &Loopback{
		game: g, srv: srv, srvEnd: srvEnd, cliEnd: cliEnd,
		start: now, tickDt: time.Second / game.TickRate,
	}
	l.online = clientui.NewOnline(c, static, l, "loopback")
	return l, nil
}

// Update runs every server tick due by now, then the client's frame with
// the local input. It fails only when the server does (a Step error).
func (l *Loopback) Update(now time.Time, in game.Input, t clientui.Toggles) error {
	if l.closed {
		return errors.New("loopback: Update after Close")
	}
	if behind := now.Sub(l.due()) / l.tickDt; behind > MaxCatchUp {
		// Too far behind (a stall): drop the excess from the schedule.
		l.start = l.start.Add((behind - MaxCatchUp) * l.tickDt)
	}
	for due := l.due(); !due.After(now); due = l.due() {
		if err := l.srv.Step(due); err != nil {
			return fmt.Errorf("loopback: server tick %d: %w", l.ticks, err)
		}
		l.ticks++
	}
	return l.online.Update(now, in, t)
}

// due returns when the next server tick is due.
func (l *Loopback) due() time.Time { return l.start.Add(time.Duration(l.ticks) * l.tickDt) }

// View returns the client's view (see clientui.Online.View).
func (l *Loopback) View(now time.Time, t clientui.Toggles) clientui.View {
	return l.online.View(now, t)
}

// Static returns the arena geometry.
func (l *Loopback) Static() *game.Static { return l.online.Static() }

// SetLink changes the conditions of both directions of the pipe, live
// (datagrams already in flight keep the delay they were given); it is also
// the client's Conditioner.
func (l *Loopback) SetLink(cfg netsim.Config) error { return l.SetConfig(cfg) }

// SetConfig is SetLink.
func (l *Loopback) SetConfig(cfg netsim.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := l.cliEnd.SetConfig(cfg); err != nil {
		return err
	}
	return l.srvEnd.SetConfig(cfg)
}

// Client returns the client runtime.
func (l *Loopback) Client() *clientui.Client { return l.online.Client() }

// Server returns the in-process server (its Stats are safe to read).
func (l *Loopback) Server() *server.Server { return l.srv }

// Arena returns the server's game.
func (l *Loopback) Arena() *arena.Arena { return l.game.Arena }

// Ticks returns the number of server ticks run.
func (l *Loopback) Ticks() uint64 { return l.ticks }

// Close closes the client (telling the server) and shuts the server down.
// Close is idempotent.
func (l *Loopback) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	err := l.online.Close()
	if cerr := l.srv.Close(); cerr != nil && !errors.Is(cerr, server.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}

// scripted is the arena with scripted bot players: before each tick it
// gives every bot its input from clientui.ScriptFrom.
type scripted struct {
	*arena.Arena
	bots []bot
}

type bot struct {
	id   uint32
	x, y int32 // spawn point, fixed point
}

func newScripted(a *arena.Arena, bots int) (*scripted, error) {
	g := &scripted{Arena: a}
	for b := 1; b <= bots; b++ {
		id := uint32(BotIDBase + b)
		if err := a.AddPlayer(server.PlayerID(id)); err != nil {
			return nil, err
		}
		p, _ := a.World().Player(id)
		g.bots = append(g.bots, bot{id: id, x: p.X, y: p.Y})
	}
	return g, nil
}

// Step gives the bots their scripted input for tick, then steps the arena.
func (g *scripted) Step(tick uint32) {
	for i, b := range g.bots {
		// Each bot a little out of step with the others (and the client's
		// own script), so that they spread out.
		_ = g.World().SetInput(b.id, clientui.ScriptFrom(tick+uint32(i+1)*37, b.x, b.y))
	}
	g.Arena.Step(tick)
}
