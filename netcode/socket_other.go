//go:build !linux

package netcode

import "net"

// newBatchReader has no allocation-free batch reader outside Linux; the
// socket reads with x/net's ReadBatch instead.
func newBatchReader(*net.UDPConn) batchReader { return nil }

// setDontFragment is not implemented outside Linux: the OS's default
// applies (path MTU probes may then succeed as IP fragments).
func setDontFragment(*net.UDPConn) error { return nil }
