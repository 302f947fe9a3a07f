package server_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/wire"
)

// instantClock is a Clock whose Sleep advances its time at once, so the
// example runs without waiting.
type instantClock struct{ now time.Time }

func (c *instantClock) Now() time.Time { return c.now }

func (c *instantClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// A Loop at 4 Hz: tick n is due at n × 250 ms from the start, whatever the
// steps cost.
func ExampleLoop() {
	clock := &instantClock{now: time.Unix(0, 0)}
	loop, err := server.NewLoop(server.LoopConfig{TickRate: 4, Clock: clock})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_ = loop.Run(ctx, func(ti server.TickInfo) error {
		fmt.Printf("tick %d at %v\n", ti.Tick, ti.Scheduled.Sub(time.Unix(0, 0)))
		clock.now = clock.now.Add(10 * time.Millisecond) // the step's work
		if ti.Tick == 3 {
			cancel()
		}
		return nil
	}, nil)
	fmt.Printf("%+v\n", loop.Stats())
	// Output:
	// tick 0 at 0s
	// tick 1 at 250ms
	// tick 2 at 500ms
	// tick 3 at 750ms
	// {Ticks:4 Overruns:0 Late:0 Skipped:0}
}

// A client pushes one input per tick and sends each message with the last
// three inputs; the server decodes them and queues them by tick, ignoring
// the repeated copies.
func ExampleInputWriter() {
	w, err := wire.NewInputWriter(3)
	if err != nil {
		panic(err)
	}
	q, err := server.NewInputQueue(server.InputConfig{}, 100)
	if err != nil {
		panic(err)
	}
	var msg wire.InputMessage
	for tick := uint32(100); tick < 103; tick++ {
		w.Push(tick, []byte{byte('a' + tick - 100)})
		packet := w.AppendMessage(nil)
		if err := wire.DecodeInputMessage(packet, &msg); err != nil {
			panic(err)
		}
		for i, in := range msg.Inputs {
			t := msg.NewestTick - uint32(i)
			fmt.Printf("tick %d %q: %v\n", t, in, q.Offer(t, in))
		}
	}
	for tick := uint32(100); tick < 104; tick++ {
		in, src := q.Take(tick)
		fmt.Printf("take %d: %q (%v)\n", tick, in, src)
	}
	// Output:
	// tick 100 "a": accepted
	// tick 101 "b": accepted
	// tick 100 "a": duplicate
	// tick 102 "c": accepted
	// tick 101 "b": duplicate
	// tick 100 "a": duplicate
	// take 100: "a" (fresh)
	// take 101: "b" (fresh)
	// take 102: "c" (fresh)
	// take 103: "c" (repeated)
}
