package netcode_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tickwire/tickwire/netcode"
)

// Example_connection runs a server and a client over loopback UDP. The
// server's tick loop runs on its own goroutine; the client is driven by the
// example's goroutine. Each owns its Server or Client: no locks needed.
func Example_connection() {
	const protocol = 0x7469636b // any id shared by the game's client and server
	srv, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{ProtocolID: protocol})
	if err != nil {
		panic(err)
	}
	serverDone := make(chan struct{})
	go func() { // the server's game loop
		defer close(serverDone)
		defer srv.Close()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var ids []netcode.ClientID
		for {
			select {
			case <-tick.C:
			case <-srv.Wake(): // datagrams arrived: no need to wait for the tick
			}
			for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
				fmt.Printf("server: client %d %s\n", ev.Client, ev.Kind)
				if ev.Kind == netcode.EventDisconnect {
					return
				}
			}
			for _, id := range srv.AppendClients(ids[:0]) {
				for msg, ok := srv.ReadMessage(id, 0); ok; msg, ok = srv.ReadMessage(id, 0) {
					fmt.Printf("server: got %q\n", msg)
					srv.Send(id, 0, []byte(strings.ToUpper(string(msg))))
				}
			}
			srv.Update(time.Now()) // receive, time out, keep alive, send
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cli, err := netcode.Dial(ctx, srv.Addr().String(), netcode.ClientConfig{ProtocolID: protocol})
	if err != nil {
		panic(err)
	}
	cli.Send(0, []byte("hello")) // channel 0 is reliable-ordered
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for reply := false; !reply; {
		select {
		case <-tick.C:
		case <-cli.Wake():
		}
		if err := cli.Update(time.Now()); err != nil {
			panic(err)
		}
		if msg, ok := cli.ReadMessage(0); ok {
			fmt.Printf("client: got %q\n", msg)
			reply = true
		}
	}
	cli.Close() // tells the server, redundantly
	<-serverDone
	// Output:
	// server: client 1 connect
	// server: got "hello"
	// client: got "HELLO"
	// server: client 1 disconnect
}

// ExampleServer_Wait is an echo server that answers each message as soon
// as it arrives. With ReceiveInline (and SendInline) the loop's own
// goroutine reads and writes the socket: no goroutine switch lies between
// a datagram and the answer, so a round trip costs about what one over
// plain UDP does. Wait returns when datagrams came or at the deadline, so
// the loop still ticks (timeouts, keepalives) when nothing arrives.
func ExampleServer_Wait() {
	const protocol = 0x6563686f
	srv, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{ProtocolID: protocol, ReceiveInline: true, SendInline: true})
	if err != nil {
		panic(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { // the echo loop
		defer close(done)
		var ids []netcode.ClientID
		for {
			select {
			case <-stop:
				return
			default:
			}
			srv.Wait(time.Now().Add(10 * time.Millisecond))
			now := time.Now()
			srv.Receive(now)
			for _, id := range srv.AppendClients(ids[:0]) {
				for msg, ok := srv.ReadMessage(id, 0); ok; msg, ok = srv.ReadMessage(id, 0) {
					srv.Send(id, 0, msg) // channel 0: reliable-ordered
				}
			}
			srv.Flush(now)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cli, err := netcode.Dial(ctx, srv.Addr().String(), netcode.ClientConfig{ProtocolID: protocol, ReceiveInline: true})
	if err != nil {
		panic(err)
	}
	for _, word := range []string{"ping", "pong"} {
		cli.Send(0, []byte(word))
		cli.Update(time.Now()) // sends it
		for got := false; !got; {
			cli.Wait(time.Now().Add(100 * time.Millisecond))
			if err := cli.Update(time.Now()); err != nil {
				panic(err)
			}
			if msg, ok := cli.ReadMessage(0); ok {
				fmt.Printf("echo: %s\n", msg)
				got = true
			}
		}
	}
	cli.Close()
	close(stop)
	<-done
	srv.Close()
	// Output:
	// echo: ping
	// echo: pong
}
