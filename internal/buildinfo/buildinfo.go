// Package buildinfo is the -version line every Tickwire command prints,
// read from the binary's build info.
package buildinfo

import (
	"fmt"
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
	return Format(name, bi)
}

// Format is Version for the given build info.
func Format(name string, bi *debug.BuildInfo) string {
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
