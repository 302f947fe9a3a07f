// Command bots runs N headless demo clients in one process against a demo
// server, each playing scripted input through the public client runtime
// (server/client: prediction, reconciliation, interpolation, reconnects),
// and prints their stats every -interval and at exit: connections lost and
// remade, RTT, loss, snapshots, prediction corrections per second and
// interpolation stalls, then the checks (every bot connected and welcomed,
// no connection lost, stalls within bound), exiting 1 when one prints FAIL.
// A bot whose server died shows it and, with -reconnect (the default),
// reconnects once a server answers on the address again. With -soak it also
// samples the server's heap, goroutines and tick overruns through its admin
// address and checks them too.
//
//	go run ./demo-game/bots -addr 127.0.0.1:7777 -n 20 -duration 1m
//	go run ./demo-game/bots -soak -addr 127.0.0.1:7777 -admin 127.0.0.1:9100 -n 200 -duration 10m
//
// It is bounded (at most 1000 bots, 2 h) and refuses non-loopback addresses
// unless -allow-remote is given. SIGINT/SIGTERM end the run early, with the
// summary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tickwire/tickwire/demo-game/internal/botswarm"
	"github.com/tickwire/tickwire/internal/buildinfo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errVersion) {
		fmt.Fprintln(stdout, buildinfo.Version("bots"))
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := play(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if !rep.OK() {
		fmt.Fprintln(stderr, "bots: checks failed (the FAIL lines above)")
		return 1
	}
	return 0
}

// play dials the swarm, runs it for o.duration while reporting, and closes
// it.
func play(ctx context.Context, o options, stdout, stderr io.Writer) (botswarm.SoakReport, error) {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	o.swarm.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	fmt.Fprintf(stdout, "bots: %d bots → %s for %v (seed %d, %d fps)", o.swarm.Bots, o.swarm.Addr, o.duration, o.swarm.Seed, o.swarm.FrameRate)
	if o.linkSet() {
		fmt.Fprintf(stdout, ", own link loss %.1f%% latency %v jitter %v dup %.1f%%", 100*o.swarm.Link.Loss, o.swarm.Link.Latency, o.swarm.Link.Jitter, 100*o.swarm.Link.Duplicate)
	}
	fmt.Fprintln(stdout)
	dialStart := time.Now()
	s, err := botswarm.Dial(ctx, o.swarm)
	if err != nil {
		return botswarm.SoakReport{}, fmt.Errorf("bots: %s", strings.TrimPrefix(err.Error(), "botswarm: "))
	}
	defer s.Close()
	if errs := s.DialErrors(); len(errs) > 0 {
		fmt.Fprintf(stderr, "bots: %d of %d failed to connect; first: %v\n", len(errs), o.swarm.Bots, errs[0])
	}
	fmt.Fprintf(stdout, "bots: %d connected in %v\n", o.swarm.Bots-len(s.DialErrors()), time.Since(dialStart).Round(time.Millisecond))

	var sample botswarm.Sampler
	if o.admin != "" {
		url := "http://" + o.admin + "/metrics"
		hc := &http.Client{Timeout: 5 * time.Second}
		sample = func(ctx context.Context) (botswarm.ServerSample, error) { return botswarm.ScrapeMetrics(ctx, hc, url) }
	}
	rctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	rep := botswarm.Monitor(rctx, s, sample, o.interval, o.limits, stdout)
	if o.perBot {
		writeBots(stdout, s.Bots())
	}
	return rep, nil
}

// writeBots prints one line per bot.
func writeBots(w io.Writer, bots []botswarm.BotStats) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bot\twelcomed\trtt\tloss\tsnapshots\tcorrections\tstalls\tframes\tmissing baselines\tlost\tstatus\t")
	for i, b := range bots {
		cs := b.Client
		fmt.Fprintf(tw, "%d\t%v\t%v\t%.1f%%\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", i, b.Welcomed, b.RTT.Round(time.Millisecond),
			100*b.Loss, cs.Snapshots, cs.Corrections, cs.Stalls, cs.Frames, cs.MissingBaselines, b.Lost, b.Status)
	}
	_ = tw.Flush()
}
