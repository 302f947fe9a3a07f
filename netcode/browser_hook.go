package netcode

import (
	"net"
	"net/netip"
)

// SessionConn is implemented by a net.PacketConn whose peers are sessions
// that can end, such as package netcode/browser's Conn, which merges a UDP
// socket with browser sessions (WebTransport), each session a distinct
// address. When a session ends (the tab closed, the page called close),
// its ReadFrom returns a zero-length datagram from the session's address,
// and SessionEnded reports true for that address, once. A Server over such
// a conn then ends the session's connection at once (an EventDisconnect
// with ReasonClosed), without waiting for Timeout.
//
// A conn that wraps another (netsim.Conn) and has an Unwrap() net.PacketConn
// method is looked through. A plain UDP socket does not implement it: a zero-length datagram from
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
	sc, ok := sessionConn(s.sock.pc)
	if !ok || !sc.SessionEnded(from) {
		return false
	}
	if c := s.byAddr[from]; c != nil {
		s.remove(c, ReasonClosed, false)
	}
	return true
}

// sessionConn finds a SessionConn in pc or beneath it: a wrapper (a link
// conditioner such as netsim.Conn) exposes what it wraps through an Unwrap
// method.
func sessionConn(pc net.PacketConn) (SessionConn, bool) {
	for range 8 { // a chain of wrappers, bounded
		if sc, ok := pc.(SessionConn); ok {
			return sc, true
		}
		u, ok := pc.(interface{ Unwrap() net.PacketConn })
		if !ok {
			return nil, false
		}
		pc = u.Unwrap()
	}
	return nil, false
}
