package netsim

import "net"

// Unwrap returns the net.PacketConn c conditions, so that code looking for
// what the socket beneath can do (netcode's SessionConn: browser sessions
// that end) finds it through the conditioner.
func (c *Conn) Unwrap() net.PacketConn { return c.pc }
