// Command client is the Tickwire demo's client: it connects to a demo server
// (or, with -offline, runs the rules locally; with -loopback, runs the demo
// server inside itself over a simulated link), predicts its own player,
// interpolates everyone else, and shows a HUD of the connection with a live
// network panel. With -screenshot it draws a number of frames, writes a PNG
// of the screen and exits (under Xvfb without a desktop).
//
//	go run ./demo-game/client -addr 127.0.0.1:7777
//	go run ./demo-game/client -loopback -loss 5% -latency 40ms
//
// This program reads and checks the flags, answers -h and -version, and
// prints one message for a bad command line (exit status 2), all without a
// display. Then it runs the window, demo-game/client/window: ebiten
// initialises its window system when its package is loaded, before main, and
// panics without a display, so the window is a second program. It is found,
// in this order, in $TICKWIRE_CLIENT_WINDOW, as demo-client-window beside
// this executable, as demo-client-window on $PATH, or else built and run
// with "go run" from the module (what "go run ./demo-game/client" needs).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/internal/buildinfo"
)

// WindowName is the file name of the window program beside this one.
const WindowName = "demo-client-window"

// windowPackage is what "go run" builds when no window program is found.
const windowPackage = "github.com/tickwire/tickwire/demo-game/client/window"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, execWindow))
}

// launcher runs the window program with args and returns its exit status.
type launcher func(cmd []string, stderr io.Writer) int

// run is the command: it checks args and hands them to launch. It returns
// the exit status.
func run(args []string, stdout, stderr io.Writer, launch launcher) int {
	o, err := clientui.ParseOptions(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "client: "+strings.TrimPrefix(err.Error(), "clientui: "))
		return 2
	case o.Version:
		fmt.Fprintln(stdout, buildinfo.Version("client"))
		return 0
	}
	exe, _ := os.Executable()
	cmd := windowCommand(os.Getenv("TICKWIRE_CLIENT_WINDOW"), exe, exec.LookPath)
	return launch(append(cmd, args...), stderr)
}

// windowCommand is the command line that runs the window program: override
// when set, else WindowName beside exe, else WindowName on $PATH (lookPath),
// else "go run" of the window package.
func windowCommand(override, exe string, lookPath func(string) (string, error)) []string {
	if override != "" {
		return []string{override}
	}
	if exe != "" {
		beside := filepath.Join(filepath.Dir(exe), WindowName)
		if st, err := os.Stat(beside); err == nil && !st.IsDir() {
			return []string{beside}
		}
	}
	if p, err := lookPath(WindowName); err == nil {
		return []string{p}
	}
	return []string{"go", "run", windowPackage}
}

// hasDisplay reports whether a window can open: on the X11/Wayland systems
// one of $DISPLAY and $WAYLAND_DISPLAY must be set (ebiten panics without);
// elsewhere there is always one.
func hasDisplay(goos string, getenv func(string) string) bool {
	switch goos {
	case "darwin", "windows", "ios", "android", "js", "wasip1":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// execWindow runs cmd with this process's standard streams and returns its
// exit status. SIGINT and SIGTERM reach it too (the same process group, and
// forwarded).
func execWindow(cmd []string, stderr io.Writer) int {
	if !hasDisplay(runtime.GOOS, os.Getenv) {
		fmt.Fprintln(stderr, "client: no display ($DISPLAY and $WAYLAND_DISPLAY are empty): the window needs one; without a desktop run it under xvfb-run -a (e.g. with -screenshot out.png)")
		return 1
	}
	if cmd[0] == "go" {
		fmt.Fprintf(stderr, "client: %s not found beside this program or on $PATH; running the window with go run %s\n", WindowName, windowPackage)
	}
	return runChild(cmd, stderr)
}
