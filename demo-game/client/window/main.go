// Command window is the windowed half of the Tickwire demo client: the
// ebiten game. Run demo-game/client instead: it parses and checks the same
// flags, answers -h and -version, and then runs this program (installed
// beside it as demo-client-window), which it keeps apart because ebiten's
// package initialisation needs a display before main runs.
//
// The game connects to a demo server (or, with -offline, runs the rules
// locally), predicts its own player, interpolates everyone else, and shows a
// HUD of the connection with a live network panel. With -screenshot it draws
// a number of frames, writes a PNG of the screen and exits, which is how the
// tests and the README screenshot see it without a desktop (under Xvfb).
//
// Everything that does not need a window lives in
// demo-game/internal/clientui; this package turns it into ebiten calls.
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
	"strings"
	"syscall"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/internal/buildinfo"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		// The prefix once: the options' errors carry clientui's, the
		// window's its own.
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "clientui: "), "client: ")
		fmt.Fprintln(os.Stderr, "client: "+msg)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errUsage marks a bad command line (exit status 2).
var errUsage = errors.New("bad usage")

// usageError is a bad command line: its message is the option's.
type usageError struct{ err error }

func (e usageError) Error() string        { return e.err.Error() }
func (e usageError) Is(target error) bool { return target == errUsage }

// run parses args, opens the window and runs the game until it is closed,
// the screenshot is written or the timeout passes. It must run on the main
// goroutine (ebiten's rule).
func run(args []string, stderr io.Writer) error { return runGame(args, stderr, nil) }

// runGame is run with the game wrapped by wrap when it is not nil (a test
// drives the app through a scenario that way).
func runGame(args []string, stderr io.Writer, wrap func(*app) ebiten.Game) error {
	opts, err := clientui.ParseOptions(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if opts.Version {
		fmt.Fprintln(os.Stdout, buildinfo.Version("client"))
		return nil
	}
	// Connection events (connect, welcome, loss, reconnects) on stderr.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := newApp(opts, log)
	if err != nil {
		return err
	}
	defer a.close()
	// Ctrl-C or SIGTERM end the game through Update, so the connection
	// closes (telling the server) instead of timing out there.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a.quit = ctx.Done()

	ebiten.SetWindowSize(clientui.ScreenWidth, clientui.ScreenHeight)
	ebiten.SetWindowTitle("Tickwire demo")
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetTPS(game.TickRate)
	// Under Xvfb there is no vsync; the frame cap in Draw keeps the CPU use
	// sane there and costs nothing on a real display.
	ebiten.SetRunnableOnUnfocused(true)
	var g ebiten.Game = a
	if wrap != nil {
		g = wrap(a)
	}
	if err := ebiten.RunGame(g); err != nil {
		return err
	}
	return a.err
}
