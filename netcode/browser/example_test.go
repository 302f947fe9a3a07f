package browser_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
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

// chanSession is a session whose datagrams travel over channels: a
// stand-in for a WebTransport session in this example.
type chanSession struct {
	in, out chan []byte
	done    chan struct{}
}

func (s *chanSession) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	select {
	case b := <-s.in:
		return b, nil
	case <-s.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *chanSession) SendDatagram(b []byte) error {
	select {
	case s.out <- append([]byte(nil), b...):
	default:
	}
	return nil
}

func (s *chanSession) Close() error { return nil }

// A netcode server over a Conn serves UDP and browser clients alike: a
// session is one more address. (ListenWebTransport and ListenWebRTC call
// AddSession for each session a browser opens.)
func ExampleNewConn() {
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		panic(err)
	}
	conn := browser.NewConn(udp, browser.Config{})
	defer conn.Close()

	s := &chanSession{in: make(chan []byte, 8), out: make(chan []byte, 8), done: make(chan struct{})}
	addr, err := conn.AddSession(s, "192.0.2.7:50000")
	if err != nil {
		panic(err)
	}
	s.in <- []byte("hello from a browser")
	buf := make([]byte, 1500)
	n, from, _ := conn.ReadFrom(buf)
	fmt.Printf("%q from a session: %v\n", buf[:n], browser.IsSessionAddr(from.(*net.UDPAddr).AddrPort()))
	_, _ = conn.WriteTo([]byte("welcome"), addr)
	fmt.Printf("the session got %q\n", <-s.out)

	close(s.done) // the tab closed
	n, from, _ = conn.ReadFrom(buf)
	fmt.Println("end marker:", n, from.String() == addr.String(), conn.SessionEnded(from.(*net.UDPAddr).AddrPort()))
	// Output:
	// "hello from a browser" from a session: true
	// the session got "welcome"
	// end marker: 0 true true
}
