package endpoint_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// memoryEndpoints is how many endpoints a memory benchmark holds at once,
// so that the heap delta divided by it is a per-endpoint figure with the
// allocator's rounding and the runtime's noise averaged out.
const memoryEndpoints = 1000

// heapPerObject returns the heap, in bytes, that each of n objects made by
// build keeps live: the in-use heap after a GC with them held, minus the
// same before, over n.
func heapPerObject(n int, build func(i int) any) float64 {
	held := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range held {
		held[i] = build(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(held)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// memoryPair is two endpoints with the default config that have exchanged
// rounds messages each way on every channel: send, flush, receive, read,
// and the acks back.
func memoryPair(rounds int) [2]*endpoint.Endpoint {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)
	if err != nil {
		panic(err)
	}
	b, err := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)
	if err != nil {
		panic(err)
	}
	msg := make([]byte, 32)
	toA := func(p []byte) { _ = a.Receive(now, p) }
	toB := func(p []byte) { _ = b.Receive(now, p) }
	for range rounds {
		for _, e := range [2]*endpoint.Endpoint{a, b} {
			for ch := range 4 {
				if _, err := e.Send(ch, msg); err != nil {
					panic(err)
				}
			}
		}
		now = now.Add(30 * time.Millisecond)
		a.Flush(now, toB)
		b.Flush(now, toA)
		for _, e := range [2]*endpoint.Endpoint{a, b} {
			for ch := range 4 {
				for _, ok := e.ReadMessage(ch); ok; _, ok = e.ReadMessage(ch) {
				}
			}
		}
	}
	now = now.Add(30 * time.Millisecond)
	a.Flush(now, toB) // the last acks
	b.Flush(now, toA)
	return [2]*endpoint.Endpoint{a, b}
}

// BenchmarkMemoryPerEndpoint reports the heap one endpoint with the
// default config holds (B/endpoint), measured over 1000 of them:
// idle (just made), after a short exchange (10 rounds of one 32-byte
// message each way on each of the four channels), and after a burst (256
// reliable messages sent at once, the default send window). Its allocs/op
// are those of making 1000 endpoints; it is a measurement, not a hot path.
//
//	go test -run '^$' -bench MemoryPerEndpoint -benchtime 1x ./netcode/endpoint/
func BenchmarkMemoryPerEndpoint(b *testing.B) {
	b.Run("idle", func(b *testing.B) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var per float64
		for b.Loop() {
			per = heapPerObject(memoryEndpoints, func(int) any {
				e, err := endpoint.NewEndpoint(endpoint.DefaultConfig(), now)
				if err != nil {
					panic(err)
				}
				return e
			})
		}
		b.ReportMetric(per, "B/endpoint")
	})
	b.Run("exchange", func(b *testing.B) {
		var per float64
		for b.Loop() {
			per = heapPerObject(memoryEndpoints/2, func(int) any { return memoryPair(10) }) / 2
		}
		b.ReportMetric(per, "B/endpoint")
	})
	b.Run("burst", func(b *testing.B) {
		var per float64
		for b.Loop() {
			per = heapPerObject(memoryEndpoints/10, func(int) any { return memoryBurst() }) / 2
		}
		b.ReportMetric(per, "B/endpoint")
	})
}

// memoryBurst is two endpoints after one side sent 256 reliable-ordered
// messages in one Flush and the other read them and acked.
func memoryBurst() [2]*endpoint.Endpoint {
	p := memoryPair(1)
	now := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	msg := make([]byte, 32)
	for range endpoint.DefaultMaxQueuedMessages {
		if _, err := p[0].Send(0, msg); err != nil {
			panic(err)
		}
	}
	p[0].Flush(now, func(pkt []byte) { _ = p[1].Receive(now, pkt) })
	for _, ok := p[1].ReadMessage(0); ok; _, ok = p[1].ReadMessage(0) {
	}
	p[1].Flush(now.Add(30*time.Millisecond), func(pkt []byte) { _ = p[0].Receive(now, pkt) })
	return p
}
