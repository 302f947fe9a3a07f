// Package browser lets browsers play on a netcode server: it serves
// WebTransport sessions (github.com/quic-go/webtransport-go) and, as the
// fallback for browsers without WebTransport, WebRTC data channels
// (github.com/pion/webrtc), and hands their datagrams to the connection
// layer as if they came over UDP.
//
// A browser cannot send raw UDP, but a WebTransport session carries
// unreliable datagrams, and so does a WebRTC data channel opened unordered
// with no retransmits, which is all the connection layer needs. Conn is a
// net.PacketConn that merges the game's UDP socket with every session:
// each session appears as its own address (a synthetic *net.UDPAddr in
// the discard-only prefix 100::/64, RFC 6666, never reused), so
// netcode.NewServer over a Conn serves native and browser clients in the
// same game at once, with the same handshake, tokens, amplification and
// flood rules: those hold per address, and a session is one address.
// When a session ends (the tab closed), Conn reports it through
// netcode.SessionConn and the server drops that connection at once
// instead of timing it out.
//
//	udp, _ := net.ListenUDP("udp", addr)
//	conn := browser.NewConn(udp, browser.Config{})
//	cert, hash, _ := browser.DevCertificate(time.Now(), []string{"127.0.0.1", "localhost"}, rand.Reader)
//	wt, _ := browser.ListenWebTransport(conn, browser.WebTransportConfig{Addr: "127.0.0.1:4433", Certificate: cert})
//	rtc, _ := browser.ListenWebRTC(conn, browser.WebRTCConfig{Addr: "127.0.0.1:4434"})
//	http.Handle("POST /webrtc", rtc) // on the page's origin
//	srv, _ := netcode.NewServer(conn, cfg) // or server.NewNetcodeTransport(conn, cfg)
//	// hand wt.URL(host), hash and "/webrtc" to the page
//
// The browser's half is package netcode/browser/browserconn (GOOS=js);
// demo-game/web puts both together.
//
// A conditioner between the Conn and the server (netsim) hides
// netcode.SessionConn: a closed session then ends by the connection's
// timeout.
//
// # Certificates
//
// WebTransport needs TLS. For development, DevCertificate makes a
// self-signed ECDSA P-256 certificate valid for 13 days, which browsers
// accept without a certificate authority when the page passes its SHA-256
// hash in serverCertificateHashes (they refuse such a certificate valid
// for more than 14 days). Make a new one on every start. In production
// use a certificate from a public authority for the server's host name,
// and pass no hash.
//
// # Concurrency and zero values
//
// Conn, WebTransport and WebRTC are safe for concurrent use; their zero
// values are not usable (NewConn, ListenWebTransport, ListenWebRTC). The
// zero Config, WebRTCConfig and WebTransportConfig (but for Certificate)
// take the defaults their fields document.
package browser
