//go:build !(js && wasm)

package browserconn

import (
	"context"
	"net"
)

// Dial opens a WebTransport session to cfg.URL: only in a browser
// (GOOS=js GOARCH=wasm); here it returns ErrUnsupported.
func Dial(ctx context.Context, cfg Config) (net.PacketConn, error) {
	return nil, ErrUnsupported
}
