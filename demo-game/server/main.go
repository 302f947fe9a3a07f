// Command server is the headless Tickwire demo server: the demo arena
// (package arena over demo-game/game) run by package server at a fixed tick
// over the netcode connection layer, on one UDP socket.
//
//	go run ./demo-game/server -addr 127.0.0.1:7777 -admin 127.0.0.1:9100
//	go run ./demo-game/server -loss 5% -latency 50ms -jitter 10ms   # a bad network on the server socket
//
// Flags set the address, tick and snapshot rates, the player limit, NPCs,
// interest management (-view-radius), the admin HTTP address (Prometheus
// /metrics and /debug/pprof/), and netsim conditions on the server's own
// socket (each direction). Logs are structured (log/slog) on stderr.
// SIGTERM drains it, as an orchestrator expects: no new players (the admin
// /readyz answers 503), the players in play go on until they leave or
// -drain-timeout passes, then the rest are kicked with the reason "server
// shutting down" and it exits 0. SIGINT, or a second SIGTERM, shuts it down
// at once, still gracefully: every client is told (the connection layer's
// disconnect packets) before the socket closes. The admin address also
// serves /healthz (the tick loop ticks) and /readyz.
//
// -agones runs it under Agones (package server/agones): Ready once it
// listens, a health ping every -agones-health while it ticks, a "players"
// label, and Shutdown after the drain.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tickwire/tickwire/demo-game/arena"
	"github.com/tickwire/tickwire/demo-game/internal/demoserver"
	"github.com/tickwire/tickwire/internal/buildinfo"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/server/agones"
	"github.com/tickwire/tickwire/server/tokens"
)

// agonesAddr asks the Agones sidecar for the GameServer's public address:
// its status address and the host port of its port named "default" (or
// its first port).
func agonesAddr(ctx context.Context, sdk *agones.Client) (netip.AddrPort, error) {
	gs, err := sdk.GetGameServer(ctx)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(gs.Status.Ports) == 0 {
		return netip.AddrPort{}, fmt.Errorf("the GameServer lists no port (state %q)", gs.Status.State)
	}
	port := gs.Status.Ports[0].Port
	for _, p := range gs.Status.Ports {
		if p.Name == "default" {
			port = p.Port
		}
	}
	ip, err := netip.ParseAddr(gs.Status.Address)
	if err != nil || port < 1 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("the GameServer's address %q port %d is no ip:port (state %q)", gs.Status.Address, port, gs.Status.State)
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	term := make(chan os.Signal, 2)
	signal.Notify(term, syscall.SIGTERM)
	os.Exit(run(ctx, term, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run is the command; it returns the exit status. ctx ending stops the
// server at once; the first value on term drains it, the second stops it
// at once. ready, when not nil, receives the server once it listens (for
// tests).
func run(ctx context.Context, term <-chan os.Signal, args []string, stdout, stderr io.Writer, ready func(*demoserver.Server)) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errVersion) {
		fmt.Fprintln(stdout, buildinfo.Version("server"))
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	hopts := &slog.HandlerOptions{Level: o.logLevel}
	var h slog.Handler = slog.NewTextHandler(stderr, hopts)
	if o.logJSON {
		h = slog.NewJSONHandler(stderr, hopts)
	}
	log := slog.New(h)
	o.cfg.Logger = log
	if o.agones {
		url := o.agonesURL
		if url == "" {
			url = agones.URL(os.Getenv)
		}
		if o.cfg.Agones, err = agones.New(agones.Config{URL: url, Logger: log}); err != nil {
			log.Error("server did not start", "err", err)
			return 1
		}
		log.Info("agones: on", "sidecar", url, "health_interval", o.cfg.HealthInterval)
	}
	if o.tokenKeyFile != "" {
		b, err := os.ReadFile(o.tokenKeyFile)
		var key [netcode.KeySize]byte
		if err == nil {
			key, err = tokens.ParseKey(b)
		}
		if err != nil {
			fmt.Fprintf(stderr, "server: -token-key-file %q: %s\n", o.tokenKeyFile, strings.TrimPrefix(err.Error(), "tokens: "))
			return 2
		}
		o.cfg.TokenKey = &key
		if !o.cfg.PublicAddr.IsValid() && o.cfg.Agones != nil {
			// The address clients reach: the node's, and the host port Agones mapped.
			if o.cfg.PublicAddr, err = agonesAddr(ctx, o.cfg.Agones); err != nil {
				log.Error("server did not start: no public address for the tokens", "err", err)
				return 1
			}
		}
	}
	srv, err := demoserver.Listen(o.cfg)
	if err != nil {
		log.Error("server did not start", "err", err)
		return 1
	}
	l := o.cfg.Link
	log.Info("demo server listening", "addr", srv.Addr().String(), "admin", srv.AdminAddr(), "secure", o.cfg.TokenKey != nil,
		"tick_rate", o.cfg.TickRate, "snapshot_rate", o.cfg.SnapshotRate, "max_players", o.cfg.MaxPlayers, "room_players", o.cfg.RoomPlayers,
		"npcs", o.cfg.Arena.Game.NPCs, "view_radius", o.cfg.Arena.ViewRadius,
		"netsim_loss", l.Loss, "netsim_latency", l.Latency, "netsim_jitter", l.Jitter, "netsim_dup", l.Duplicate)
	if ready != nil {
		ready(srv)
	}
	rctx, stopNow := context.WithCancel(ctx)
	defer stopNow()
	go func() {
		for n := 0; ; n++ {
			select {
			case <-rctx.Done():
				return
			case sig := <-term:
				if n == 0 {
					log.Info("draining", "signal", sig.String(), "drain_timeout", o.cfg.DrainTimeout, "players", srv.Clients())
					srv.Shutdown()
					continue
				}
				log.Info("stopping now", "signal", sig.String(), "players", srv.Clients())
				stopNow()
				return
			}
		}
	}()
	if err := srv.Run(rctx); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	sst := srv.Stats()
	var st arena.Stats
	if a := srv.Arena(); a != nil {
		st = a.Stats()
	} else { // rooms: each room had its own arena
		st.Joined = sst.Connects
	}
	refused := sst.Refused // the game's (arena full, bad id; no room, room full, draining) and the connection layer's (server full, bad token, version…)
	for _, n := range sst.Transport.Refused {
		refused += n
	}
	log.Info("demo server exited", "players_joined", st.Joined, "players_refused", refused, "bad_inputs", st.BadInputs, "rooms_created", sst.RoomsCreated)
	return 0
}
