// Package browserconn is the browser's half of package netcode/browser:
// in a Go program compiled with GOOS=js GOARCH=wasm, Dial opens a
// WebTransport session, or where that is missing or fails a WebRTC data
// channel (unordered, no retransmits), through the browser's own APIs
// (syscall/js: no net/http, no WebRTC library in the wasm) and returns it
// as a net.PacketConn, which netcode.DialConn takes like a UDP socket:
//
//	pc, route, err := browserconn.Dial(ctx, browserconn.Config{WebTransportURL: url, CertHash: hash, WebRTCURL: "/webrtc"})
//	c, err := netcode.DialConn(ctx, pc, browserconn.ServerAddr, cfg)
//
// On js/wasm, net.ListenUDP is Go's in-process fake network, so a game
// client compiled as it is never reaches a server: this is the route out.
// Datagrams are unreliable and unordered, as over UDP; the netcode layer
// above numbers, acknowledges and resends them.
//
// Outside js/wasm only the parts that need no browser build: Config,
// ParseCertHash and ServerAddr; Dial returns ErrUnsupported there.
//
// A Conn is safe for concurrent use; the zero Conn is not usable (Dial).
package browserconn
