// Package cli holds what the demo's commands (server, bots, client) share on
// the command line: the -version text from the binary's build info, and
// flag parsing that leaves the one error message to the command.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the one line a command prints for -version: its name, the
// module version ("(devel)" for a build from a work tree), the VCS revision,
// "+dirty" when the tree had changes, the commit time, and the Go version,
// all from runtime/debug.ReadBuildInfo. It is safe for concurrent use.
func Version(name string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("%s (no build info) %s", name, runtime.Version())
	}
	return FormatVersion(name, bi)
}

// FormatVersion is Version for the given build info.
func FormatVersion(name string, bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{name, v}
	var rev, when string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		parts = append(parts, "rev "+rev)
	}
	if when != "" {
		parts = append(parts, when)
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	return strings.Join(append(parts, goVersion), " ")
}

// Parse parses args with fs, keeping the flag package from printing: a
// command prints one message of its own for a bad command line. For -h it
// writes fs.Usage to out and returns flag.ErrHelp. fs.Usage must write to
// fs.Output().
func Parse(fs *flag.FlagSet, args []string, out io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(out)
		fs.Usage()
	}
	return err
}
