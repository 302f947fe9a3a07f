// Package importcheck holds the tests that keep a package's dependencies
// inside its layer (the endpoint imports no socket or crypto package; the
// server core no Prometheus, HTTP or profiler). It is for tests only.
package importcheck

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

// Under reports whether path is one of roots or a package below one; the
// standard library's vendored copies (vendor/golang.org/x/...) count as
// themselves.
func Under(path string, roots ...string) bool {
	path = strings.TrimPrefix(path, "vendor/")
	for _, root := range roots {
		if path == root || strings.HasPrefix(path, root+"/") {
			return true
		}
	}
	return false
}

// Files checks the imports of the non-test Go files of the current
// directory (the package under test), whatever their build constraints (a
// socket_linux.go would not show on another GOOS): none may be forbidden.
// why ends the message of a failure. It needs no go tool.
func Files(t *testing.T, forbidden func(path string) bool, why string) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue // tests may use what the package may not
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			assert.False(t, forbidden(path), "%s imports %q: %s", name, path, why)
		}
		checked++
	}
	require.NotZero(t, checked, "no source files found: is the test running in the package directory?")
}

// Deps runs go list -deps on the current directory, whose import path is
// self, so that a dependency that pulls in a forbidden package fails too.
// It skips the test where the go tool is not installed.
func Deps(t *testing.T, self string, forbidden func(path string) bool, why string) {
	t.Helper()
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
	require.Contains(t, deps, self, "go list listed the package itself")
	for _, dep := range deps {
		assert.False(t, forbidden(dep), "%s depends on %q: %s", self, dep, why)
	}
}
