package endpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tickwire/tickwire/internal/importcheck"
)

// forbiddenImport reports whether the endpoint may not depend on package
// path: it is pure logic, so no socket and no crypto, directly or through a
// dependency. The standard library's vendored copies of x/net and x/crypto
// (vendor/golang.org/x/...) count as themselves.
func forbiddenImport(path string) bool {
	return importcheck.Under(path, "net", "crypto", "golang.org/x/net", "golang.org/x/sys", "golang.org/x/crypto")
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
	importcheck.Files(t, forbiddenImport, "the endpoint takes bytes and time, never a socket or a key")
}

// TestNoSocketOrCryptoDependencies runs go list -deps, so that a
// dependency that pulls in net or crypto fails too. It is skipped where the
// go tool is not installed.
func TestNoSocketOrCryptoDependencies(t *testing.T) {
	importcheck.Deps(t, "github.com/tickwire/tickwire/netcode/endpoint", forbiddenImport, "the endpoint takes bytes and time, never a socket or a key")
}
