//go:build !linux

package netcode

import "net"

// newBatchReader has no allocation-free batch reader outside Linux; the
// socket reads with x/net's ReadBatch instead.
func newBatchReader(*net.UDPConn) batchReader { return nil }
