package netsim_test

import (
	"fmt"
	"net"
	"time"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// A Link is driven by explicit time, so a loop can simulate seconds of
// traffic instantly and reproducibly.
func ExampleLink() {
	link, err := netsim.NewLink(netsim.Config{Loss: 0.25, Latency: 40 * time.Millisecond}, 1)
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		link.Send(start.Add(time.Duration(i)*time.Millisecond), []byte("state"))
	}
	next, _ := link.NextDelivery()
	fmt.Println("first arrival after", next.Sub(start))
	link.Deliver(start.Add(time.Hour), func(b []byte) {})
	s := link.Stats()
	fmt.Println("sent", s.Sent, "delivered+lost", s.Delivered+s.DroppedLoss)
	fmt.Println("loss within 5 points of 25%:", s.DroppedLoss > 200 && s.DroppedLoss < 300)
	// Output:
	// first arrival after 40ms
	// sent 1000 delivered+lost 1000
	// loss within 5 points of 25%: true
}

// Pipe gives two connected net.PacketConn ends for tests; each direction
// has its own conditions. (Inside a testing/synctest bubble, latencies run
// in fake time: see TestPipeLatencyInFakeTime.)
func ExamplePipe() {
	a, b := netsim.Pipe(netsim.Config{MaxDatagramSize: 8}, netsim.Config{}, 1)
	defer a.Close()
	defer b.Close()

	for _, msg := range []string{"hello", "far too long"} {
		if _, err := a.WriteTo([]byte(msg), b.LocalAddr()); err != nil {
			panic(err)
		}
	}
	buf := make([]byte, 64)
	n, from, err := b.ReadFrom(buf)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s from %v\n", buf[:n], from)
	s := a.Stats()
	fmt.Println("sent", s.Sent, "oversize dropped", s.DroppedOversize)
	// Output:
	// hello from 192.0.2.1:10001
	// sent 2 oversize dropped 1
}

// Wrap conditions what any net.PacketConn writes; the Conn's goroutine
// writes delayed datagrams when they fall due.
func ExampleWrap() {
	server, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer server.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	conn := netsim.Wrap(pc, netsim.Config{Latency: 20 * time.Millisecond}, 1)
	defer conn.Close() // also closes pc

	start := time.Now()
	if _, err := conn.WriteTo([]byte("hello"), server.LocalAddr()); err != nil {
		panic(err)
	}
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, _, err := server.ReadFrom(buf)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s, at least 20ms later: %v\n", buf[:n], time.Since(start) >= 20*time.Millisecond)
	// Output:
	// hello, at least 20ms later: true
}

// BurstLoss builds a Gilbert–Elliott model from the two numbers people
// think in: how much is lost, and how long the bursts are.
func ExampleBurstLoss() {
	ge := netsim.BurstLoss(0.05, 4)
	fmt.Printf("enter bad state: %.4f, leave it: %.2f, loss rate: %.2f\n", ge.GoodToBad, ge.BadToGood, ge.LossRate())
	// Output:
	// enter bad state: 0.0132, leave it: 0.25, loss rate: 0.05
}

// The parsers behind the netsim command's flags say what is allowed.
func ExampleParsePercent() {
	for _, s := range []string{"10%", "0.25", "150%"} {
		v, err := netsim.ParsePercent(s)
		fmt.Println(v, err)
	}
	bw, _ := netsim.ParseBandwidth("1mbit")
	fmt.Println(bw, "bytes/s")
	// Output:
	// 0.1 <nil>
	// 0.25 <nil>
	// 0 netsim: percentage "150%": must be between 0% and 100%
	// 125000 bytes/s
}
