package netcode

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/netip"
	"time"
)

// cookieJar mints and checks the server's stateless challenge cookies.
//
// A cookie is a timestamp and an HMAC-SHA256 (truncated to 16 bytes), under
// a secret that never leaves the server, of the client's address, the
// timestamp, and the request's nonce, protocol, version and token nonce. The
// server keeps nothing between sending a challenge and receiving the
// response: a response whose cookie verifies proves the client receives
// packets at its claimed address and echoes them within the lifetime.
//
// Not safe for concurrent use (it reuses its hash and buffers).
type cookieJar struct {
	mac      hash.Hash
	lifetime time.Duration
	in       [18 + 8 + 8 + 8 + 2 + 1 + tokenNonceSize]byte
	sum      [sha256.Size]byte
}

func newCookieJar(secret [KeySize]byte, lifetime time.Duration) *cookieJar {
	return &cookieJar{mac: hmac.New(sha256.New, secret[:]), lifetime: lifetime}
}

func (j *cookieJar) compute(ts int64, addr netip.AddrPort, h *hello) []byte {
	b := j.in[:0]
	ip := addr.Addr().Unmap().As16()
	b = append(b, ip[:]...)
	b = binary.BigEndian.AppendUint16(b, addr.Port())
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	b = binary.BigEndian.AppendUint64(b, h.ClientNonce)
	b = binary.BigEndian.AppendUint64(b, h.ProtocolID)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	if h.Secure {
		b = append(b, 1)
		b = append(b, h.TokenNonce[:]...)
	} else {
		b = append(b, 0)
	}
	j.mac.Reset()
	j.mac.Write(b)
	return j.mac.Sum(j.sum[:0])[:cookieMACSize]
}

// mint returns the cookie for a request from addr at now.
func (j *cookieJar) mint(now time.Time, addr netip.AddrPort, h *hello) cookie {
	c := cookie{Timestamp: now.UnixMilli()}
	copy(c.MAC[:], j.compute(c.Timestamp, addr, h))
	return c
}

// expect returns the cookie this jar would have minted for the response h
// from addr at the timestamp it carries, or expired when that timestamp is
// older than lifetime (or more than a second ahead of now). The caller
// compares it with h's cookie in constant time (see tagEqual): as it is in
// plain mode; in secure mode the response carries a proof computed from it.
func (j *cookieJar) expect(now time.Time, addr netip.AddrPort, h *hello) (c cookie, expired bool) {
	ts := h.Cookie.Timestamp
	nowMs := now.UnixMilli()
	if ts > nowMs+1000 || nowMs-ts > j.lifetime.Milliseconds() {
		return c, true
	}
	c.Timestamp = ts
	copy(c.MAC[:], j.compute(ts, addr, h))
	return c, false
}
