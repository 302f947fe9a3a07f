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
package demoserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/protocol"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/admin"
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
	a, err := arena.New(acfg)
	if err != nil {
		return nil, err // names the bad field, wrapping arena.ErrInvalidConfig
	}
	scfg := server.Config{
		TickRate: cfg.TickRate, SnapshotRate: cfg.SnapshotRate, Codec: protocol.Codec(),
		SnapshotWorkers: cfg.SnapshotWorkers, Logger: cfg.Logger, OnTick: cfg.OnTick,
	}
	if err := scfg.Validate(); err != nil {
		return nil, err
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("demoserver: listen %q: %w", cfg.Addr, err)
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("demoserver: listen %q: %w", cfg.Addr, err)
	}
	var pc net.PacketConn = udp
	var link *netsim.Conn
	if cfg.Link != (netsim.Config{}) {
		// Closing it lets what the link still delays (the disconnects of
		// a graceful shutdown) reach the clients.
		link = netsim.WrapDuplex(udp, cfg.Link, cfg.Link, cfg.LinkSeed)
		pc = link
	}
	tr, err := server.NewNetcodeTransport(pc, netcode.ServerConfig{
		ProtocolID: protocol.ProtocolID, MaxClients: cfg.MaxPlayers, Logger: cfg.Logger,
		ReceiveQueue: max(netcode.DefaultServerQueue, 16*cfg.MaxPlayers),
	})
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	srv, err := server.New(scfg, a, tr)
	if err != nil {
		_ = tr.Close()
		return nil, err
	}
	s := &Server{Server: srv, arena: a, tr: tr, link: link, adminLn: cfg.AdminListener, reg: cfg.Registry, logger: cfg.Logger}
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

// Arena returns the game the server runs.
func (s *Server) Arena() *arena.Arena { return s.arena }

// Link returns the conditioner on the server's socket (nil when
// ServerConfig.Link was the zero Config); its SetConfig changes the send
// direction live and SetReceiveConfig the receive direction.
func (s *Server) Link() *netsim.Conn { return s.link }

// Run runs the server until ctx is done, then shuts down gracefully: every
// client is told (the transport sends its disconnect packets) and the admin
// server stops. See server.Server.Run.
func (s *Server) Run(ctx context.Context) error {
	if s.adminLn != nil {
		actx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- admin.Serve(actx, s.adminLn, admin.Handler(s.reg)) }()
		defer func() {
			stop()
			if err := <-served; err != nil && s.logger != nil {
				s.logger.Error("admin server", "err", err)
			}
		}()
	}
	err := s.Server.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Close releases the socket (and the admin listener) of a server whose
// Run was never called (Run closes them itself when it returns).
func (s *Server) Close() error {
	if s.adminLn != nil {
		_ = s.adminLn.Close()
	}
	return s.tr.Close()
}
