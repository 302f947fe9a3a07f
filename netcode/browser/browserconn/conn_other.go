//go:build !(js && wasm)

package browserconn

import (
	"context"
	"net"
)

// Dial opens a datagram route to the server: only in a browser
// (GOOS=js GOARCH=wasm); here it returns ErrUnsupported.
func Dial(ctx context.Context, cfg Config) (net.PacketConn, Transport, error) {
	return nil, "", ErrUnsupported
}
