package browser_test

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"time"

	"github.com/tickwire/tickwire/netcode/browser"
)

// A development certificate for WebTransport: the page passes hash to
// new WebTransport(url, {serverCertificateHashes: [{algorithm: "sha-256",
// value: hash}]}).
func ExampleDevCertificate() {
	now := time.Now()
	cert, hash, err := browser.DevCertificate(now, []string{"127.0.0.1", "localhost"}, rand.Reader)
	if err != nil {
		panic(err)
	}
	leaf := cert.Leaf
	fmt.Println("key:", leaf.PublicKeyAlgorithm)
	fmt.Println("valid for at most 14 days:", leaf.NotAfter.Sub(leaf.NotBefore) <= 14*24*time.Hour)
	fmt.Println("hash bytes:", len(hash))
	fmt.Println("names:", leaf.IPAddresses[0], leaf.DNSNames[0])
	// Output:
	// key: ECDSA
	// valid for at most 14 days: true
	// hash bytes: 32
	// names: 127.0.0.1 localhost
}

// Browser sessions have addresses of their own, which a game sees in
// netcode's events and ClientInfo.
func ExampleIsSessionAddr() {
	fmt.Println(browser.IsSessionAddr(netip.MustParseAddrPort("[100::1]:1")))
	fmt.Println(browser.IsSessionAddr(netip.MustParseAddrPort("192.0.2.7:40000")))
	// Output:
	// true
	// false
}
