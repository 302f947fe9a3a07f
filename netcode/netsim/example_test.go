package netsim_test

import (
	"fmt"
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
