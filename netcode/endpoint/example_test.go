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

	// The server's reply, 15 ms later (its next tick), carries the ack of
	// the client's packet and says it held it 15 ms; it takes 20 ms to
	// arrive, and the client measures the 20 ms path.
	now = now.Add(15 * time.Millisecond)
	_, _ = server.Send(0, []byte("welcome, red"))
	var reply []byte
	server.Flush(now, func(packet []byte) { reply = append(reply, packet...) })
	now = now.Add(20 * time.Millisecond)
	_ = client.Receive(now, reply)

	msg, _ = client.ReadMessage(0)
	s := client.Stats()
	fmt.Printf("client got %q: %d packet acked, RTT %v, the server held the ack %v\n", msg, s.PacketsAcked, s.RTT, s.PeerAckDelay)
	// Output:
	// server got "join red team"
	// client got "welcome, red": 1 packet acked, RTT 20ms, the server held the ack 15ms
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
	// The client's one ack packet reports all three. It leaves once twice
	// its AckDelay has passed: they carried unreliable data only, which
	// nothing resends (reliable data is acknowledged within AckDelay).
	now = now.Add(2 * endpoint.DefaultAckDelay)
	client.Flush(now, func(p []byte) { _ = server.Receive(now, p) })
	// Output:
	// client has snapshot 0 (channel 2)
	// client has snapshot 1 (channel 2)
	// client has snapshot 2 (channel 2)
}

// Message ids wrap from 65535 to 0: compare them with Newer and Diff, as an
// ack handler does to keep the newest snapshot a client has.
func ExampleMessageID_Newer() {
	newest := endpoint.MessageID(65534)
	for _, id := range []endpoint.MessageID{65535, 0, 65533, 1} {
		if id.Newer(newest) {
			newest = id
		}
	}
	fmt.Println(newest, endpoint.MessageID(1).Diff(65534))
	// Output:
	// 1 3
}

func ExampleConfig_Validate() {
	cfg := endpoint.DefaultConfig()
	cfg.MaxPacketSize = 40
	fmt.Println(cfg.Validate())
	// Output:
	// endpoint: Config.MaxPacketSize = 40; allowed 0 (default) or 64..65507
}

// A small reliable message rides again in the room left in the next packets
// that leave while it is unacknowledged (ChannelConfig.Redundancy, 2 copies
// by default), so losing the packet that first carried it costs no round
// trip: the next packet, a tick later, delivers it.
func ExampleChannelConfig_redundancy() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	client, _ := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)
	server, _ := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)

	_, _ = client.Send(0, []byte("fire")) // channel 0: reliable-ordered
	client.Flush(now, func([]byte) {})    // this packet is lost

	now = now.Add(16 * time.Millisecond) // the next tick sends the state
	_, _ = client.Send(2, []byte("state"))
	client.Flush(now, func(p []byte) { _ = server.Receive(now, p) })

	msg, _ := server.ReadMessage(0)
	s := client.Stats()
	fmt.Printf("server got %q; copies sent %d, resends %d\n", msg, s.MessagesRedundant, s.MessagesResent)
	// Output:
	// server got "fire"; copies sent 1, resends 0
}

// A send budget of 16 000 bytes per second (128 kbit/s): a server queues a
// 1000-byte latest-state snapshot every tick and flushes at 60 Hz, faster
// than the budget allows; each Flush sends what the budget has earned (the
// first second also spends the bucket's initial burst), and snapshots that
// could not leave are replaced by newer ones (the last still waits).
func ExampleConfig_sendRate() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cfg := endpoint.DefaultConfig()
	cfg.SendRate = 16_000
	server, _ := endpoint.NewEndpoint(cfg, now)
	snapshot := make([]byte, 1000)
	sent := 0
	for range 60 { // one second
		_, _ = server.Send(2, snapshot) // channel 2: unreliable-sequenced
		server.Flush(now, func(packet []byte) { sent += len(packet) })
		now = now.Add(time.Second / 60)
	}
	s := server.Stats()
	fmt.Printf("budget %d B/s: %d snapshots sent (%d bytes), %d replaced by newer ones\n",
		s.SendRate, s.MessagesSent, sent, s.MessagesSuperseded)
	// Output:
	// budget 16000 B/s: 17 snapshots sent (17136 bytes), 42 replaced by newer ones
}
