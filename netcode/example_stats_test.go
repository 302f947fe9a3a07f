package netcode_test

import (
	"fmt"

	"github.com/tickwire/tickwire/netcode"
)

// ExampleServerStats_Refusals exports a server's counters, every reason
// from the start (zeros included), as a metrics endpoint would: refusals
// by reason and drops by reason. A game reads Stats on its loop's
// goroutine.
func ExampleServerStats_Refusals() {
	srv, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{ProtocolID: 1})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	st := srv.Stats()
	for reason, n := range st.Refusals() {
		fmt.Printf("refused{reason=%q} %d\n", reason, n)
	}
	for reason, n := range st.Drops() {
		fmt.Printf("dropped{reason=%q} %d\n", reason, n)
	}
	// Output:
	// refused{reason="server_full"} 0
	// refused{reason="version_mismatch"} 0
	// refused{reason="protocol_mismatch"} 0
	// refused{reason="token_invalid"} 0
	// refused{reason="token_expired"} 0
	// refused{reason="token_wrong_server"} 0
	// refused{reason="addr_in_use"} 0
	// refused{reason="client_id_in_use"} 0
	// refused{reason="token_in_use"} 0
	// refused{reason="key_proof"} 0
	// dropped{reason="queue_full"} 0
	// dropped{reason="malformed"} 0
	// dropped{reason="unknown_addr"} 0
	// dropped{reason="wrong_conn"} 0
	// dropped{reason="replayed"} 0
	// dropped{reason="auth"} 0
	// dropped{reason="bad_cookie"} 0
	// dropped{reason="expired_cookie"} 0
	// dropped{reason="endpoint"} 0
	// dropped{reason="unproven"} 0
	// dropped{reason="rate_limited"} 0
	// dropped{reason="handshake_queue_full"} 0
}
