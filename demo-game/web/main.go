// Command web serves the Tickwire demo to browsers: it runs the demo server
// (the arena on its UDP socket, for native clients and bots) with a
// WebTransport endpoint merged into the same game (package
// netcode/browser), and an HTTP server for the page, wasm_exec.js and the
// demo client compiled to WebAssembly. It prints one URL to open.
//
//	make web                               # builds the wasm into bin/web and runs this
//	go run ./demo-game/web -dir bin/web    # the same, once the wasm is built
//
// For development it makes a new self-signed certificate on every start
// (ECDSA P-256, valid 13 days) and hands its SHA-256 hash to the page,
// which passes it to the browser as serverCertificateHashes. With -cert
// and -key it uses a real certificate instead (production: the page then
// passes no hash, and -host must be the certificate's name).
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tickwire/tickwire/internal/buildinfo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run is the command; it returns the exit status. ready, when not nil,
// receives the running site (for tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(*site)) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 2
	case o.version:
		fmt.Fprintln(stdout, buildinfo.Version("web"))
		return 0
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := start(o, log)
	if err != nil {
		log.Error("web: did not start", "err", err)
		return 1
	}
	fmt.Fprintf(stdout, "open %s\n", s.PageURL())
	log.Info("web: serving", "page", s.PageURL(), "webtransport", s.wtURL, "udp", s.srv.Addr().String(), "admin", s.srv.AdminAddr())
	if ready != nil {
		ready(s)
	}
	if err := s.run(ctx); err != nil {
		log.Error("web: stopped", "err", err)
		return 1
	}
	return 0
}
