package server

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forbiddenImport reports whether package server may not depend on path:
// a program that runs a server in-process (the demo client's loopback
// mode, a test) must not link Prometheus, an HTTP server or the profiler.
// Those belong to package server/admin.
func forbiddenImport(path string) bool {
	for _, root := range []string{"github.com/prometheus", "net/http", "runtime/pprof", "github.com/tickwire/tickwire/server/admin"} {
		if path == root || strings.HasPrefix(path, root+"/") {
			return true
		}
	}
	return false
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
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			assert.False(t, forbiddenImport(path), "%s imports %q: metrics, pprof and HTTP belong to package server/admin", name, path)
		}
		checked++
	}
	require.NotZero(t, checked, "no source files found: is the test running in the package directory?")
}

// TestNoAdminDependencies runs go list -deps, so that a dependency that
// pulls in Prometheus, net/http or pprof fails too. It is skipped where
// the go tool is not installed.
func TestNoAdminDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/tickwire/tickwire/server", "go list listed the package itself")
	for _, dep := range deps {
		assert.False(t, forbiddenImport(dep), "package server depends on %q: metrics, pprof and HTTP belong to package server/admin", dep)
	}
}
