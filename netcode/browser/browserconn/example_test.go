package browserconn_test

import (
	"context"
	"fmt"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/browser/browserconn"
)

// A game's client in the browser dials through browserconn and runs the
// netcode handshake over the route, as it would over a UDP socket (set
// this function as server/client's Config.Dial). Outside a browser Dial
// says it cannot.
func ExampleDial() {
	cfg := browserconn.Config{
		WebTransportURL: "https://127.0.0.1:4433/tickwire",
		CertHash:        make([]byte, 32), // the page's certificate hash (development)
		WebRTCURL:       "/webrtc",
	}
	dial := func(ctx context.Context) (*netcode.Client, error) {
		pc, _, err := browserconn.Dial(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return netcode.DialConn(ctx, pc, browserconn.ServerAddr, netcode.ClientConfig{ProtocolID: 7})
	}
	_, err := dial(context.Background())
	fmt.Println(err)
	// Output:
	// browserconn: no WebTransport or WebRTC here
}
