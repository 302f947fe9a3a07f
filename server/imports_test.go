package server

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tickwire/tickwire/internal/importcheck"
)

// forbiddenImport reports whether package server may not depend on path:
// a program that runs a server in-process (the demo client's loopback
// mode, a test) must not link Prometheus, an HTTP server or the profiler.
// Those belong to package server/admin.
func forbiddenImport(path string) bool {
	return importcheck.Under(path, "github.com/prometheus", "net/http", "runtime/pprof", "github.com/tickwire/tickwire/server/admin")
}

func TestForbiddenImport(t *testing.T) {
	for path, want := range map[string]bool{
		"github.com/prometheus/client_golang/prometheus": true,
		"github.com/prometheus/client_model/go":          true,
		"net/http":                                       true,
		"net/http/pprof":                                 true,
		"net/http/httptrace":                             true,
		"runtime/pprof":                                  true,
		"github.com/tickwire/tickwire/server/admin":      true,
		"net":                          false,
		"net/netip":                    false,
		"runtime":                      false,
		"internal/runtime/pprof/label": false, // every program's (the runtime's)
		"github.com/prometheus_fan/x":  false,
		"github.com/tickwire/tickwire/server/wire": false,
		"github.com/tickwire/tickwire/netcode":     false,
	} {
		assert.Equal(t, want, forbiddenImport(path), path)
	}
}

// TestNoAdminImports checks the package's own non-test files, whatever
// their build constraints. It needs no go tool.
func TestNoAdminImports(t *testing.T) {
	importcheck.Files(t, forbiddenImport, "metrics, pprof and HTTP belong to package server/admin")
}

// TestNoAdminDependencies runs go list -deps, so that a dependency that
// pulls in Prometheus, net/http or pprof fails too. It is skipped where
// the go tool is not installed.
func TestNoAdminDependencies(t *testing.T) {
	importcheck.Deps(t, "github.com/tickwire/tickwire/server", forbiddenImport, "metrics, pprof and HTTP belong to package server/admin")
}
