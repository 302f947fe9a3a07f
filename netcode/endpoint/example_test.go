package endpoint_test

import (
	"fmt"
	"time"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// Two endpoints exchange a message. In a game each side runs on its own
// machine and the packets travel over UDP; here Flush hands them straight
// to the other side's Receive.
func Example() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	client, _ := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)
	server, _ := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)

	_, _ = client.Send(0, []byte("join red team")) // channel 0: reliable-ordered
	client.Flush(now, func(packet []byte) { _ = server.Receive(now, packet) })

	msg, _ := server.ReadMessage(0)
	fmt.Printf("server got %q\n", msg)

	// The server's next packet acknowledges the client's, 40 ms later.
	now = now.Add(40 * time.Millisecond)
	server.Flush(now, func(packet []byte) { _ = client.Receive(now, packet) })

	s := client.Stats()
	fmt.Printf("client: %d packet acked, RTT %v\n", s.PacketsAcked, s.RTT)
	// Output:
	// server got "join red team"
	// client: 1 packet acked, RTT 40ms
}

// A game sends its own structs; the endpoint's Codec encodes them as msgpack.
func ExampleEndpoint_SendValue() {
	type Chat struct {
		From, Text string
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a, _ := endpoint.NewEndpoint(endpoint.Config{}, now)
	b, _ := endpoint.NewEndpoint(endpoint.Config{}, now)

	_, _ = a.SendValue(0, Chat{From: "ana", Text: "gg"})
	a.Flush(now, func(p []byte) { _ = b.Receive(now, p) })

	var c Chat
	ok, err := b.ReadValue(0, &c)
	fmt.Println(ok, err, c.From+": "+c.Text)
	// Output:
	// true <nil> ana: gg
}

// The ack handler reports which messages the peer received; a server uses
// it to know which snapshot a client has, to delta-encode against it.
func ExampleEndpoint_SetAckHandler() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	server, _ := endpoint.NewEndpoint(endpoint.Config{}, now)
	client, _ := endpoint.NewEndpoint(endpoint.Config{}, now)
	server.SetAckHandler(func(channel int, id endpoint.MessageID) {
		fmt.Printf("client has snapshot %d (channel %d)\n", id, channel)
	})
	for range 3 {
		_, _ = server.Send(2, []byte("snapshot")) // channel 2: unreliable-sequenced
		server.Flush(now, func(p []byte) { _ = client.Receive(now, p) })
	}
	client.Flush(now, func(p []byte) { _ = server.Receive(now, p) })
	// Output:
	// client has snapshot 0 (channel 2)
	// client has snapshot 1 (channel 2)
	// client has snapshot 2 (channel 2)
}

func ExampleSeq_Newer() {
	fmt.Println(endpoint.Seq(2).Newer(1), endpoint.Seq(0).Newer(65535), endpoint.Seq(65535).Newer(0))
	fmt.Println(endpoint.Seq(1).Diff(65534))
	// Output:
	// true true false
	// 3
}

func ExampleHeader_Append() {
	h := endpoint.Header{Seq: 100, Ack: 57, AckBits: 0xffffffff, HasAck: true}
	buf := h.Append(make([]byte, 0, endpoint.MaxHeaderSize))
	fmt.Printf("% x\n", buf)
	got, n, err := endpoint.ParseHeader(buf)
	fmt.Println(got == h, n, err)
	// Output:
	// 10 64 00 39 00
	// true 5 <nil>
}

func ExampleConfig_Validate() {
	cfg := endpoint.DefaultConfig()
	cfg.MaxPacketSize = 40
	fmt.Println(cfg.Validate())
	// Output:
	// endpoint: Config.MaxPacketSize = 40; allowed 0 (default) or 64..65507
}
