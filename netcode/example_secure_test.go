package netcode_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/tickwire/tickwire/netcode"
)

// Example_secureMode shows the three parties of secure mode: a backend
// that issues connect tokens, a server that accepts only tokens sealed with
// the backend's key, and clients that connect with them. The server sees the
// user data the backend put in the token; a token sealed with another key is
// refused.
//
// It runs over loopback UDP rather than a netsim.Pipe because two clients
// connect to the one server socket, and a Pipe joins exactly two ends.
func Example_secureMode() {
	const protocol = 0x7469636b
	// The backend and the game servers share this key. Use crypto/rand.Reader
	// in production; a seeded generator keeps the example reproducible.
	rnd := rand.NewChaCha8([32]byte{7})
	key, err := netcode.GenerateKey(rnd)
	if err != nil {
		panic(err)
	}

	srv, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{ProtocolID: protocol, TokenKey: &key})
	if err != nil {
		panic(err)
	}
	serverAddr := srv.Addr().(*net.UDPAddr).AddrPort()
	joined := make(chan netcode.ClientInfo, 1) // what the server saw, for this goroutine to print
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() { // the server's game loop owns srv
		defer close(stopped)
		defer srv.Close()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			case <-srv.Wake():
			}
			srv.Update(time.Now())
			for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
				if info, ok := srv.Client(ev.Client); ok && ev.Kind == netcode.EventConnect {
					joined <- info
				}
			}
		}
	}()

	// The backend, once it has authenticated the player, issues a token
	// and hands it to the client over HTTPS.
	issue := func(key [netcode.KeySize]byte) []byte {
		tok, err := netcode.IssueConnectToken(key, netcode.ConnectToken{
			ProtocolID:  protocol,
			ClientID:    42, // the player's account id, say
			Expires:     time.Now().Add(time.Minute),
			ServerAddrs: []netip.AddrPort{serverAddr},
			UserData:    []byte("name=ana;team=blue"),
		}, rnd)
		if err != nil {
			panic(err)
		}
		return tok
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	cli, err := netcode.Dial(ctx, serverAddr.String(), netcode.ClientConfig{ProtocolID: protocol, Token: issue(key)})
	if err != nil {
		panic(err)
	}
	fmt.Println("client: connected as", cli.ID())
	info := <-joined
	fmt.Printf("server: client %d joined with %q\n", info.ID, info.UserData)

	var otherKey [netcode.KeySize]byte // not the server's key
	_, err = netcode.Dial(ctx, serverAddr.String(), netcode.ClientConfig{ProtocolID: protocol, Token: issue(otherKey)})
	var denied *netcode.DeniedError
	if errors.As(err, &denied) {
		fmt.Println("refused:", errors.Is(err, netcode.ErrTokenDenied), denied.Reason)
	}

	cli.Close()
	close(stop)
	<-stopped
	// Output:
	// client: connected as 42
	// server: client 42 joined with "name=ana;team=blue"
	// refused: true token invalid
}
