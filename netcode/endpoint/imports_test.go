package endpoint

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

// forbiddenImport reports whether the endpoint may not depend on package
// path: it is pure logic, so no socket and no crypto, directly or through a
// dependency. The standard library's vendored copies of x/net and x/crypto
// (vendor/golang.org/x/...) count as themselves.
func forbiddenImport(path string) bool {
	path = strings.TrimPrefix(path, "vendor/")
	for _, root := range []string{"net", "crypto", "golang.org/x/net", "golang.org/x/sys", "golang.org/x/crypto"} {
		if path == root || strings.HasPrefix(path, root+"/") {
			return true
		}
	}
	return false
}

func TestForbiddenImport(t *testing.T) {
	for path, want := range map[string]bool{
		"net":                                    true,
		"net/netip":                              true,
		"net/http":                               true,
		"crypto":                                 true,
		"crypto/rand":                            true,
		"crypto/internal/fips140":                true,
		"golang.org/x/net/ipv4":                  true,
		"golang.org/x/sys/unix":                  true,
		"golang.org/x/crypto/chacha20poly1305":   true,
		"vendor/golang.org/x/net/dns/dnsmessage": true,
		"vendor/golang.org/x/crypto/chacha20":    true,
		"golang.org/x/sys":                       true,
		"netip":                                  false,
		"network":                                false,
		"encoding/binary":                        false,
		"math/rand/v2":                           false,
		"golang.org/x/time/rate":                 false,
		"golang.org/x/network":                   false,
		"github.com/vmihailenco/msgpack/v5":      false,
		"github.com/tickwire/tickwire/netcode/netsim": false,
	} {
		assert.Equal(t, want, forbiddenImport(path), path)
	}
}

// TestNoSocketOrCryptoImports checks the package's own files, whatever
// their build constraints (a socket_linux.go would not show on another
// GOOS), for a forbidden import. It needs no go tool.
func TestNoSocketOrCryptoImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue // tests may use netsim, which wraps sockets
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			assert.False(t, forbiddenImport(path), "%s imports %q: the endpoint takes bytes and time, never a socket or a key", name, path)
		}
		checked++
	}
	require.NotZero(t, checked, "no source files found: is the test running in the package directory?")
}

// TestNoSocketOrCryptoDependencies runs go list -deps, so that a
// dependency that pulls in net or crypto fails too. It is skipped where the
// go tool is not installed.
func TestNoSocketOrCryptoDependencies(t *testing.T) {
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
	require.Contains(t, deps, "github.com/tickwire/tickwire/netcode/endpoint", "go list listed the package itself")
	for _, dep := range deps {
		assert.False(t, forbiddenImport(dep), "netcode/endpoint depends on %q: the endpoint takes bytes and time, never a socket or a key", dep)
	}
}
