// Package demoserver builds a complete demo server from one ServerConfig:
// a UDP socket (with optional netsim conditions on it), the netcode
// transport, and server.Server running the demo's arena (package arena),
// for the demo server command, the bots' and the client's tests and the
// soak run. It is apart from package arena so that the arena (the demo's
// server.Game, which the client's -loopback mode runs in-process) does not
// carry the admin HTTP server and its metrics registry.
//
// The zero ServerConfig is valid. A Server is run once (Run); Addr, the
// arena's Stats and the server's Stats are safe from any goroutine.
//
// # Shutting down
//
// Cancelling Run's context stops the server at once (every client is told).
// Shutdown instead drains it, the way an orchestrator wants on SIGTERM:
// no new players from the next tick on (the admin /readyz turns 503), the
// players in play go on until they all left or ServerConfig.DrainTimeout
// passed, then the rest are kicked with the reason "server shutting down"
// (from the tick's goroutine, in the server's OnTick), and once their kick
// had server.DefaultKickGrace to arrive, Run returns nil.
//
// # Agones
//
// With ServerConfig.Agones, Run also drives the GameServer's lifecycle
// through the SDK sidecar (package server/agones): Ready once it runs,
// a health ping every HealthInterval while the tick loop ticks (the admin
// probes' Healthy), the "players" label kept at the player count (and a
// "draining" annotation once Shutdown was called), the
// GameServer watched (an allocation is logged and Allocated turns true),
// and Shutdown once the server has stopped, after the drain. Sidecar errors
// are retried and logged, never fatal to the game.
package demoserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/admin"
	"github.com/tickwire/tickwire/server/agones"
)

// Defaults of ServerConfig.
const (
	DefaultHealthInterval = 2 * time.Second
	// ShutdownReason is the kick reason of the players still in play when
	// a drain times out.
	ShutdownReason = "server shutting down"
)

// ErrInvalidConfig is wrapped by the errors of a bad ServerConfig (with
// arena.ErrInvalidConfig for a bad Arena).
var ErrInvalidConfig = errors.New("demoserver: invalid config")

// ServerConfig is a whole demo server: socket, link conditions, transport,
// tick loop and game. The zero value listens on 127.0.0.1 on a free port
// with the server's defaults (60 Hz ticks, 30 Hz snapshots), 64 players at
// most, the default world, a perfect link and no admin address.
type ServerConfig struct {
	// Addr is the UDP address to listen on; "" means "127.0.0.1:0".
	Addr string
	// TickRate and SnapshotRate: see server.Config (0 means 60 and 30).
	TickRate, SnapshotRate int
	// MaxPlayers bounds the connected clients (the transport's MaxClients)
	// and the world's players; 0 means netcode.DefaultMaxClients (64);
	// at most game.MaxPlayersLimit.
	MaxPlayers int
	// Arena configures the game; its Game.MaxPlayers is set to MaxPlayers.
	Arena arena.Config
	// Link, when not the zero Config, conditions both directions of the
	// server's socket (netsim.WrapDuplex seeded with LinkSeed). At
	// shutdown the socket closes only once the datagrams the link still
	// delays have left (at most Latency+Jitter+100 ms), so that the
	// disconnect packets reach the clients.
	Link     netsim.Config
	LinkSeed uint64
	// AdminAddr, when not empty, is the TCP address Run serves the admin
	// handler on (metrics and pprof: package server/admin), e.g.
	// "127.0.0.1:9100"; Listen opens it. AdminListener, when not nil, is
	// used instead (Run closes it when it returns).
	AdminAddr     string
	AdminListener net.Listener
	// Registry, when not nil, receives the server's metrics
	// (admin.Register), and is what the admin handler serves; nil means a
	// new admin.NewRegistry when there is an admin address, and no
	// metrics otherwise.
	Registry *prometheus.Registry
	// Logger and OnTick: see server.Config.
	Logger *slog.Logger
	OnTick func(ti server.TickInfo, took time.Duration)
	// SnapshotWorkers: see server.Config.
	SnapshotWorkers int
	// Wrap, when not nil, wraps the UDP socket before Link and the
	// transport see it (netcode/browser's Conn, which merges browser
	// sessions into it); the server owns what it returns.
	Wrap func(udp net.PacketConn) net.PacketConn
	// PacketConn, when not nil, is the socket to serve on instead of
	// listening on Addr (a netsim.Pipe end in tests); the Server owns it.
	// Wrap and Link apply to it as to the UDP socket.
	PacketConn net.PacketConn
	// Clock is the tick loop's clock, which also times the drain, the
	// admin probes and the Agones calls; nil means server.SystemClock.
	Clock server.Clock
	// DrainTimeout is how long the players may go on after Shutdown before
	// the rest are kicked; 0 kicks them at the first tick.
	DrainTimeout time.Duration
	// Agones, when not nil, drives the GameServer's lifecycle (see the
	// package documentation); nil: no Agones.
	Agones *agones.Client
	// HealthInterval is the time between Agones health pings and label
	// updates; 0 means DefaultHealthInterval (2 s).
	HealthInterval time.Duration
	// TokenKey, when not nil, turns on secure mode: clients need a connect
	// token sealed with this key (package server/tokens issues them) that
	// lists PublicAddr, and the token's user data reaches the game as
	// PlayerInfo.UserData. nil: plain mode.
	TokenKey *[netcode.KeySize]byte
	// PublicAddr is the address tokens must list for this server (what the
	// clients dial); the zero value means the socket's own address.
	PublicAddr netip.AddrPort
	// SendRate, when not 0, gives each player's connection a send budget
	// of at most this many bytes per second, moved by the congestion
	// response (endpoint.Config.SendRate and CongestionControl), which the
	// snapshots follow (fewer, more important entities on a thin link).
	// 0: no budget.
	SendRate int
	// RoomPlayers, when not 0, turns on rooms: the server runs one arena
	// per room, of at most RoomPlayers players (1..MaxPlayers), and a
	// client joins the room its connect token's user data names
	// (server.RoomFromUserData; a plain-mode client, without user data,
	// joins the room ""). A room is made when its first player comes and
	// closed when its last one leaves; at most ⌈MaxPlayers/RoomPlayers⌉
	// rooms run at once. 0: one arena for everyone (Arena).
	RoomPlayers int
}

// Server is a demo server: the server.Server running an arena.Arena over a
// netcode transport. Run it once; Addr, Arena's Stats and the server's
// metrics are safe from any goroutine.
type Server struct {
	*server.Server
	arena   *arena.Arena
	tr      *server.NetcodeTransport
	link    *netsim.Conn // nil without link conditions
	adminLn net.Listener // nil without an admin address
	reg     *prometheus.Registry
	logger  *slog.Logger // nil: none
	probes  *admin.Probes
	clock   server.Clock

	sdk            *agones.Client // nil: no Agones
	healthInterval time.Duration
	allocated      atomic.Bool

	// The drain: shutdown is set by Shutdown; the rest belongs to the
	// tick's goroutine (onTick).
	shutdown     atomic.Bool
	drainTimeout time.Duration
	userOnTick   func(server.TickInfo, time.Duration)
	stop         context.CancelFunc // ends Run's server loop
	drainStart   time.Time
	kickedAt     time.Time
	stopped      bool
}

// Listen opens the socket and builds the server; Run starts it.
func Listen(cfg ServerConfig) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MaxPlayers == 0 {
		cfg.MaxPlayers = netcode.DefaultMaxClients
	}
	if cfg.MaxPlayers < 1 || cfg.MaxPlayers > game.MaxPlayersLimit {
		return nil, fmt.Errorf("%w: ServerConfig.MaxPlayers = %d, want 1..%d", ErrInvalidConfig, cfg.MaxPlayers, game.MaxPlayersLimit)
	}
	if err := cfg.Link.Validate(); err != nil {
		return nil, fmt.Errorf("%w: ServerConfig.Link: %w", ErrInvalidConfig, err)
	}
	acfg := cfg.Arena
	if acfg.Game == (game.Config{}) {
		acfg.Game = game.DefaultConfig()
	}
	acfg.Game.MaxPlayers = cfg.MaxPlayers
	if cfg.SendRate != 0 && (cfg.SendRate < 1024 || cfg.SendRate > 1<<30) {
		return nil, fmt.Errorf("%w: ServerConfig.SendRate = %d, want 0 (no budget) or 1024..%d bytes/s", ErrInvalidConfig, cfg.SendRate, 1<<30)
	}
	if cfg.RoomPlayers < 0 || cfg.RoomPlayers > cfg.MaxPlayers {
		return nil, fmt.Errorf("%w: ServerConfig.RoomPlayers = %d, want 0 (no rooms) or 1..MaxPlayers (%d)", ErrInvalidConfig, cfg.RoomPlayers, cfg.MaxPlayers)
	}
	var a *arena.Arena
	var err error
	if cfg.RoomPlayers == 0 {
		if a, err = arena.New(acfg); err != nil {
			return nil, err // names the bad field, wrapping arena.ErrInvalidConfig
		}
	} else {
		roomCfg := acfg
		roomCfg.Game.MaxPlayers = cfg.RoomPlayers
		if _, err := arena.New(roomCfg); err != nil {
			return nil, err
		}
	}
	if cfg.DrainTimeout < 0 {
		return nil, fmt.Errorf("%w: ServerConfig.DrainTimeout = %v, want ≥ 0", ErrInvalidConfig, cfg.DrainTimeout)
	}
	if cfg.HealthInterval < 0 {
		return nil, fmt.Errorf("%w: ServerConfig.HealthInterval = %v, want ≥ 0 (0: default %v)", ErrInvalidConfig, cfg.HealthInterval, DefaultHealthInterval)
	}
	if cfg.Clock == nil {
		cfg.Clock = server.SystemClock{}
	}
	if cfg.HealthInterval == 0 {
		cfg.HealthInterval = DefaultHealthInterval
	}
	s := &Server{
		arena: a, adminLn: cfg.AdminListener, reg: cfg.Registry, logger: cfg.Logger, clock: cfg.Clock,
		sdk: cfg.Agones, healthInterval: cfg.HealthInterval, drainTimeout: cfg.DrainTimeout, userOnTick: cfg.OnTick,
	}
	scfg := server.Config{
		TickRate: cfg.TickRate, SnapshotRate: cfg.SnapshotRate, Codec: protocol.Codec(), Clock: cfg.Clock,
		SnapshotWorkers: cfg.SnapshotWorkers, Logger: cfg.Logger, OnTick: s.onTick,
	}
	var game server.Game // nil in rooms mode: NewRoom makes an arena per room
	if a != nil {
		game = a
	} else {
		scfg.RoomOf = server.RoomFromUserData
		scfg.MaxRooms = (cfg.MaxPlayers + cfg.RoomPlayers - 1) / cfg.RoomPlayers
		roomCfg := acfg
		roomCfg.Game.MaxPlayers = cfg.RoomPlayers
		scfg.NewRoom = func(r *server.Room) (server.Game, error) {
			ra, err := arena.New(roomCfg)
			if err != nil {
				return nil, err
			}
			r.SetLabel(fmt.Sprintf("arena max_players=%d", cfg.RoomPlayers))
			r.SetMaxPlayers(cfg.RoomPlayers) // refused with the reason, before the arena would refuse

			return &roomArena{Arena: ra, room: r}, nil
		}
	}
	if err := scfg.Validate(); err != nil {
		return nil, err
	}
	pc := cfg.PacketConn
	if pc == nil {
		ua, err := net.ResolveUDPAddr("udp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("demoserver: listen %q: %w", cfg.Addr, err)
		}
		if pc, err = net.ListenUDP("udp", ua); err != nil {
			return nil, fmt.Errorf("demoserver: listen %q: %w", cfg.Addr, err)
		}
	}
	if cfg.Wrap != nil {
		pc = cfg.Wrap(pc)
	}
	var link *netsim.Conn
	if cfg.Link != (netsim.Config{}) {
		// Closing it lets what the link still delays (the disconnects of
		// a graceful shutdown) reach the clients.
		link = netsim.WrapDuplex(pc, cfg.Link, cfg.Link, cfg.LinkSeed)
		pc = link
	}
	ncfg := netcode.ServerConfig{
		ProtocolID: protocol.ProtocolID, MaxClients: cfg.MaxPlayers, Logger: cfg.Logger,
		TokenKey: cfg.TokenKey, PublicAddr: cfg.PublicAddr,
		ReceiveQueue: max(netcode.DefaultServerQueue, 16*cfg.MaxPlayers),
	}
	if cfg.SendRate > 0 { // a budget per player, moved by the congestion response
		ncfg.Endpoint = endpoint.DefaultConfig()
		ncfg.Endpoint.MaxPacketSize = 0 // netcode's default, as with no Endpoint config
		ncfg.Endpoint.SendRate = cfg.SendRate
		ncfg.Endpoint.CongestionControl = true
	}
	tr, err := server.NewNetcodeTransport(pc, ncfg)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	srv, err := server.New(scfg, game, tr)
	if err != nil {
		_ = tr.Close()
		return nil, err
	}
	s.Server, s.tr, s.link = srv, tr, link
	if s.probes, err = admin.NewProbes(srv, admin.ProbeConfig{Capacity: cfg.MaxPlayers, Now: cfg.Clock.Now}); err != nil {
		_ = tr.Close()
		return nil, err
	}
	if s.adminLn == nil && cfg.AdminAddr != "" {
		if s.adminLn, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			_ = tr.Close()
			return nil, fmt.Errorf("demoserver: admin listen on %q: %w", cfg.AdminAddr, err)
		}
	}
	if s.reg == nil && s.adminLn != nil {
		s.reg = admin.NewRegistry()
	}
	if s.reg != nil {
		if err := admin.Register(s.reg, srv); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Addr returns the server's UDP address.
func (s *Server) Addr() net.Addr { return s.tr.Addr() }

// AdminAddr is the address the admin HTTP server listens on (the port
// chosen when the configured one was 0), or "" without one.
func (s *Server) AdminAddr() string {
	if s.adminLn == nil {
		return ""
	}
	return s.adminLn.Addr().String()
}

// Arena returns the game the server runs, or nil in rooms mode
// (ServerConfig.RoomPlayers), where each room runs its own arena.
func (s *Server) Arena() *arena.Arena { return s.arena }

// roomArena is the Game of one room in rooms mode: an arena that closes
// its room when its last player leaves.
type roomArena struct {
	*arena.Arena
	room *server.Room
}

func (r *roomArena) RemovePlayer(id server.PlayerID) {
	r.Arena.RemovePlayer(id)
	if r.Stats().Players == 0 {
		r.room.Close("the room is empty")
	}
}

// Link returns the conditioner on the server's socket (nil when
// ServerConfig.Link was the zero Config); its SetConfig changes the send
// direction live and SetReceiveConfig the receive direction.
func (s *Server) Link() *netsim.Conn { return s.link }

// Probes returns the server's liveness and readiness (served at /healthz
// and /readyz on the admin address).
func (s *Server) Probes() *admin.Probes { return s.probes }

// Allocated reports whether Agones allocated this server (always false
// without ServerConfig.Agones). Safe from any goroutine.
func (s *Server) Allocated() bool { return s.allocated.Load() }

// Run runs the server until ctx is done or a Shutdown has drained it, then
// shuts down gracefully: every client still connected is told (the
// transport sends its disconnect packets), the admin server stops and,
// with Agones, the sidecar is told Shutdown. See server.Server.Run and the
// package documentation.
func (s *Server) Run(ctx context.Context) error {
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	s.stop = stop
	if s.adminLn != nil {
		actx, stopAdmin := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- admin.Serve(actx, s.adminLn, admin.NewHandler(s.reg, s.probes)) }()
		defer func() {
			stopAdmin()
			if err := <-served; err != nil && s.logger != nil {
				s.logger.Error("admin server", "err", err)
			}
		}()
	}
	var bg sync.WaitGroup
	bgctx, stopBG := context.WithCancel(context.Background())
	if s.sdk != nil {
		s.startAgones(bgctx, &bg)
	}
	err := s.Server.Run(sctx)
	stopBG()
	bg.Wait()
	if s.sdk != nil {
		// After the drain (or the immediate stop): the players are gone.
		actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if aerr := s.sdk.Shutdown(actx); aerr != nil {
			s.log().Error("agones: shutdown not acknowledged", "err", aerr)
		} else {
			s.log().Info("agones: shutdown requested")
		}
		cancel()
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Shutdown drains the server: no new players from the next tick on, and
// Run returns once the players left, or DrainTimeout after this call (the
// first tick after it) and the kick of the rest. Safe from any goroutine;
// a second call does nothing. To stop at once, cancel Run's context.
func (s *Server) Shutdown() {
	s.Server.Drain()
	s.shutdown.Store(true)
}

// onTick is the server's Config.OnTick: the game's, then the drain.
func (s *Server) onTick(ti server.TickInfo, took time.Duration) {
	if s.userOnTick != nil {
		s.userOnTick(ti, took)
	}
	if !s.shutdown.Load() || s.stopped || s.stop == nil { // no drain without Run
		return
	}
	now := ti.Start
	if s.drainStart.IsZero() {
		s.drainStart = now
		s.log().Info("draining: waiting for the players to leave", "players", s.Server.Clients(), "timeout", s.drainTimeout)
	}
	switch {
	case !s.kickedAt.IsZero():
		if now.Sub(s.kickedAt) >= server.DefaultKickGrace {
			s.stopped = true
			s.stop()
		}
	case s.Server.Clients() == 0:
		s.log().Info("drained: every player left", "after", now.Sub(s.drainStart))
		s.stopped = true
		s.stop()
	case now.Sub(s.drainStart) >= s.drainTimeout:
		players := s.Server.Players()
		s.log().Info("drain timed out: kicking the players left", "players", len(players), "reason", ShutdownReason)
		for _, p := range players {
			_ = s.Server.Kick(p, ShutdownReason) // a player that left meanwhile is no error worth more
		}
		s.kickedAt = now
	}
}

// startAgones starts the Agones goroutines: Ready, health pings, labels
// and the watch, until ctx is done.
func (s *Server) startAgones(ctx context.Context, wg *sync.WaitGroup) {
	log := s.log()
	wg.Go(func() {
		for {
			err := s.sdk.Ready(ctx)
			if err == nil {
				log.Info("agones: ready")
				return
			}
			if ctx.Err() != nil {
				return
			}
			log.Error("agones: ready not acknowledged; trying again", "err", err)
			if s.clock.Sleep(ctx, agones.MaxBackoff) != nil {
				return
			}
		}
	})
	wg.Go(func() { _ = s.sdk.KeepHealthy(ctx, s.healthInterval, s.probes.Healthy) })
	wg.Go(func() {
		last, lastRooms, draining := -1, -1, false
		for {
			if n := s.Server.Clients(); n != last {
				if err := s.sdk.SetLabel(ctx, "players", fmt.Sprint(n)); err == nil {
					last = n
				} else if ctx.Err() == nil {
					log.Warn("agones: players label not set", "err", err)
				}
			}
			if n := s.Server.Stats().Rooms; n != lastRooms {
				if err := s.sdk.SetLabel(ctx, "rooms", fmt.Sprint(n)); err == nil {
					lastRooms = n
				} else if ctx.Err() == nil {
					log.Warn("agones: rooms label not set", "err", err)
				}
			}
			if !draining && s.shutdown.Load() {
				if err := s.sdk.SetAnnotation(ctx, "draining", "true"); err == nil {
					draining = true
				} else if ctx.Err() == nil {
					log.Warn("agones: draining annotation not set", "err", err)
				}
			}
			if s.clock.Sleep(ctx, s.healthInterval) != nil {
				return
			}
		}
	})
	wg.Go(func() {
		state := ""
		_ = s.sdk.Watch(ctx, func(gs agones.GameServer) {
			if gs.Status.State == state {
				return
			}
			state = gs.Status.State
			log.Info("agones: game server state", "state", state, "name", gs.ObjectMeta.Name)
			if state == agones.StateAllocated && !s.allocated.Swap(true) {
				log.Info("agones: allocated", "name", gs.ObjectMeta.Name, "players", s.Server.Clients())
			}
		})
	})
}

func (s *Server) log() *slog.Logger {
	if s.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.logger
}

// Close releases the socket (and the admin listener) of a server whose
// Run was never called (Run closes them itself when it returns).
func (s *Server) Close() error {
	if s.adminLn != nil {
		_ = s.adminLn.Close()
	}
	return s.tr.Close()
}
