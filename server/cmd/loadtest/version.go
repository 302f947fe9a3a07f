package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version is the -version line: the module version ("(devel)" from a work
// tree), the VCS revision and time when the build recorded them, and the Go
// version.
func version(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "loadtest (no build info) " + runtime.Version()
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{"loadtest", v}
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
		rev = rev[:min(12, len(rev))]
		if dirty {
			rev += "+dirty"
		}
		parts = append(parts, "rev "+rev)
	}
	if when != "" {
		parts = append(parts, when)
	}
	gv := bi.GoVersion
	if gv == "" {
		gv = runtime.Version()
	}
	return strings.Join(append(parts, gv), " ")
}
