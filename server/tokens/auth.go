package tokens

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tickwire/tickwire/netcode"
)

// Caller is who a request comes from, as an Authenticator says.
type Caller struct {
	// ID names the caller; the rate limit is kept per ID. It must not be
	// empty.
	ID string
}

// An Authenticator says who sent a request, or why it is refused (401).
// It must be safe for concurrent use and must not read the request body
// (the handler reads it afterwards).
type Authenticator interface {
	Authenticate(r *http.Request) (Caller, error)
}

// AuthFunc adapts a function to an Authenticator.
type AuthFunc func(r *http.Request) (Caller, error)

// Authenticate calls f(r).
func (f AuthFunc) Authenticate(r *http.Request) (Caller, error) { return f(r) }

// MaxCallerID is the longest caller id SharedSecret takes from the
// X-Player-ID header.
const MaxCallerID = 64

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", errors.New(`no "Authorization: Bearer <token>" header`)
	}
	return strings.TrimSpace(tok), nil
}

// SharedSecret is the Authenticator of a trusted caller, such as a game's
// own web backend that authenticated the player itself: the request must
// carry "Authorization: Bearer <secret>", and it names the player it asks
// for in the X-Player-ID header (1..MaxCallerID printable ASCII bytes),
// which becomes the caller id (so the rate limit is per player). The
// comparison takes the same time whatever the secret. It panics on an
// empty secret.
func SharedSecret(secret string) Authenticator {
	if secret == "" {
		panic("tokens: SharedSecret needs a non-empty secret")
	}
	want := sha256.Sum256([]byte(secret))
	return AuthFunc(func(r *http.Request) (Caller, error) {
		tok, err := bearer(r)
		if err != nil {
			return Caller{}, err
		}
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return Caller{}, errors.New("the bearer token is not the shared secret")
		}
		id := r.Header.Get("X-Player-ID")
		if err := checkCallerID(id); err != nil {
			return Caller{}, fmt.Errorf("X-Player-ID %w", err)
		}
		return Caller{ID: id}, nil
	})
}

func checkCallerID(id string) error {
	if id == "" || len(id) > MaxCallerID {
		return fmt.Errorf("%q: want 1..%d bytes", id, MaxCallerID)
	}
	for i := range len(id) {
		if c := id[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%q: byte %d is %q, want printable ASCII without spaces", id, i, c)
		}
	}
	return nil
}

// BearerTokens is the Authenticator of callers that each hold a bearer
// token of their own: tokens maps a token to its caller id. Lookups take
// the same time whatever the token (tokens are compared by their SHA-256).
func BearerTokens(tokens map[string]string) Authenticator {
	byHash := make(map[[sha256.Size]byte]string, len(tokens))
	for tok, id := range tokens {
		byHash[sha256.Sum256([]byte(tok))] = id
	}
	return AuthFunc(func(r *http.Request) (Caller, error) {
		tok, err := bearer(r)
		if err != nil {
			return Caller{}, err
		}
		id, ok := byHash[sha256.Sum256([]byte(tok))]
		if !ok {
			return Caller{}, errors.New("unknown bearer token")
		}
		return Caller{ID: id}, nil
	})
}

// ParseKey decodes a token key file's text: 2·netcode.KeySize hex digits
// (surrounding space ignored), not all zero. The backend and the game
// servers read the same file (netcode.ServerConfig.TokenKey).
func ParseKey(text []byte) ([netcode.KeySize]byte, error) {
	var key [netcode.KeySize]byte
	s := strings.TrimSpace(string(text))
	if len(s) != 2*netcode.KeySize { // checked first: hex.Decode must not overrun key
		return key, fmt.Errorf("tokens: a key of %d characters, want %d hex digits (tokend -gen-key makes one)", len(s), 2*netcode.KeySize)
	}
	if _, err := hex.Decode(key[:], []byte(s)); err != nil {
		return key, fmt.Errorf("tokens: a key of %d characters, want %d hex digits (tokend -gen-key makes one)", len(s), 2*netcode.KeySize)
	}
	if key == [netcode.KeySize]byte{} {
		return key, errors.New("tokens: the key is all zero, want a random one (tokend -gen-key)")
	}
	return key, nil
}

// ParseTokenFile reads a bearer-token file for BearerTokens: one
// "<token> <caller-id>" pair a line, blank lines and lines starting with
// '#' skipped. Tokens must be unique and at least 16 bytes; caller ids
// 1..MaxCallerID printable ASCII bytes. An error names the line.
func ParseTokenFile(r io.Reader) (map[string]string, error) {
	tokens := make(map[string]string)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch {
		case len(f) != 2:
			return nil, fmt.Errorf("tokens: line %d: %d fields, want \"<token> <caller-id>\"", n, len(f))
		case len(f[0]) < 16:
			return nil, fmt.Errorf("tokens: line %d: a token of %d bytes, want at least 16", n, len(f[0]))
		}
		if err := checkCallerID(f[1]); err != nil {
			return nil, fmt.Errorf("tokens: line %d: caller id %w", n, err)
		}
		if _, dup := tokens[f[0]]; dup {
			return nil, fmt.Errorf("tokens: line %d: a token listed before, want each token once", n)
		}
		tokens[f[0]] = f[1]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens: read the token file: %w", err)
	}
	if len(tokens) == 0 {
		return nil, errors.New("tokens: the token file lists no token")
	}
	return tokens, nil
}
