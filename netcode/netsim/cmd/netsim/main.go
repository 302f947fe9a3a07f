// Command netsim is a UDP proxy that puts a simulated bad network between
// real clients and a real server: loss (independent and bursty), latency,
// jitter, duplication, reordering, a bandwidth cap and an MTU, each way.
//
//	go run ./netcode/netsim/cmd/netsim -listen 127.0.0.1:7001 -target 127.0.0.1:7000 \
//		-loss 10% -latency 80ms -jitter 20ms
//
// Clients send to -listen; every client address gets its own socket towards
// -target (so the server sees one address per client) and its own simulated
// links, which start from -seed. Conditions apply to both directions unless
// -direction says up or down; -latency is one way, so the round trip gains
// twice it. Counters print to stderr every -stats-interval and at exit.
// SIGINT or SIGTERM stops the proxy cleanly. A bad flag prints what is
// wrong and what is allowed, and exits with status 2. Run with -h for every
// flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/internal/buildinfo"
	"github.com/tickwire/tickwire/netcode/netsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errVersion) {
		fmt.Fprintln(stdout, buildinfo.Version("netsim"))
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "netsim: %v (see -h)\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := netsim.ListenProxy(o.proxy)
	if err != nil {
		// The proxy's errors carry the package prefix already.
		fmt.Fprintln(stderr, err)
		return 1
	}
	log.Info("netsim proxying", "listen", p.Addr().String(), "target", o.proxy.Target,
		"up", describe(o.proxy.Up), "down", describe(o.proxy.Down), "seed", o.proxy.Seed,
		"max_clients", o.proxy.MaxClients, "idle_timeout", o.proxy.IdleTimeout)

	done := make(chan struct{})
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		if o.statsInterval <= 0 {
			<-done
			return
		}
		tick := time.NewTicker(o.statsInterval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				log.Info("stats", "proxy", p.Stats())
			case <-done:
				return
			}
		}
	}()
	err = p.Serve(ctx)
	close(done)
	<-statsDone
	log.Info("final stats", "proxy", p.Stats())
	if err != nil {
		log.Error("netsim stopped", "err", err)
		return 1
	}
	return 0
}
