package browserconn

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ServerAddr is the address a Conn gives its one peer, the server: pass it
// to netcode.DialConn. It is in the discard-only prefix 100::/64, like the
// session addresses of netcode/browser's Conn on the server.
var ServerAddr = netip.MustParseAddrPort("[100::1]:443")

// ErrUnsupported is returned by Dial where the browser has neither route
// configured and available (or outside js/wasm).
var ErrUnsupported = errors.New("browserconn: no WebTransport or WebRTC here")

// Config says which server endpoints to open. Dial tries WebTransport
// first and falls back to WebRTC when the browser has no WebTransport or
// its session fails to open.
type Config struct {
	// WebTransportURL is the server's WebTransport URL, e.g.
	// "https://127.0.0.1:4433/tickwire" (netcode/browser's
	// WebTransport.URL); "" skips WebTransport.
	WebTransportURL string
	// CertHash, when not nil, is the SHA-256 hash of the server's
	// certificate (serverCertificateHashes): a self-signed development
	// certificate valid for at most 14 days is then accepted. nil means
	// the certificate must chain to an authority the browser trusts (in
	// production).
	CertHash []byte
	// WebRTCURL is where the page POSTs its WebRTC offer (netcode/browser's
	// WebRTC handler), e.g. "/webrtc" on the page's origin; "" skips
	// WebRTC.
	WebRTCURL string
	// Queue bounds the received datagrams waiting for ReadFrom (more are
	// dropped and counted); 0 means 256.
	Queue int
}

// Transport names the route a Conn took.
type Transport string

// The routes.
const (
	WebTransport Transport = "webtransport"
	WebRTC       Transport = "webrtc"
)

// ParseCertHash decodes a SHA-256 certificate hash written as 64 hex
// digits, optionally in pairs separated by colons (as openssl prints
// fingerprints). The error names what is wrong.
func ParseCertHash(s string) ([]byte, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	if len(t) != 64 {
		return nil, fmt.Errorf("browserconn: certificate hash %q has %d characters without colons, want 64 hex digits (SHA-256)", clip(s), len(t))
	}
	b, err := hex.DecodeString(t)
	if err != nil {
		return nil, fmt.Errorf("browserconn: certificate hash %q is not hex: %w", clip(s), err)
	}
	return b, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
