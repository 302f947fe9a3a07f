package netcode

import "net/netip"

// SessionConn is implemented by a net.PacketConn whose peers are sessions
// that can end, such as package netcode/browser's Conn, which merges a UDP
// socket with browser sessions (WebTransport), each session a distinct
// address. When a session ends (the tab closed, the page called close),
// its ReadFrom returns a zero-length datagram from the session's address,
// and SessionEnded reports true for that address, once. A Server over such
// a conn then ends the session's connection at once (an EventDisconnect
// with ReasonClosed), without waiting for Timeout.
//
// A plain UDP socket does not implement it: a zero-length datagram from
// a UDP address is malformed and dropped, so a spoofed one ends nothing.
// The conn must never deliver a datagram of zero length from a session
// that has not ended.
type SessionConn interface {
	SessionEnded(addr netip.AddrPort) bool
}

// endSession handles a zero-length datagram from from: when the socket
// says that session ended, its connection (if any) is removed at once and
// it reports true. It reports false otherwise (the datagram is malformed).
func (s *Server) endSession(from netip.AddrPort) bool {
	sc, ok := s.sock.pc.(SessionConn)
	if !ok || !sc.SessionEnded(from) {
		return false
	}
	if c := s.byAddr[from]; c != nil {
		s.remove(c, ReasonClosed, false)
	}
	return true
}
