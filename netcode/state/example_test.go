package state_test

import (
	"fmt"
	"math"
	"time"

	"github.com/tickwire/tickwire/netcode/state"
)

// The server quantizes positions, encodes a full snapshot, then a delta
// against the snapshot the client acknowledged; the client decodes both with
// its History.
func Example_snapshots() {
	pos := state.Quantizer{Min: -512, Max: 512, Bits: 16} // ~0.016 units
	schema := state.Schema{Fields: []state.Field{
		{Name: "x", Bits: 16},
		{Name: "y", Bits: 16},
		{Name: "hp", Bits: 7},
	}}
	cfg := state.CodecConfig{Schema: schema}
	enc, _ := state.NewEncoder(cfg)
	dec, _ := state.NewDecoder(cfg)
	tracker, _ := state.NewBaselineTracker(32) // server, per client
	history, _ := state.NewHistory(32)         // client

	world := func(tick uint32, x float64) *state.Snapshot {
		s := state.NewSnapshot(tick, schema.NumFields(), 100)
		for id := uint32(1); id <= 100; id++ {
			f := s.Add(id)
			f[0], f[1], f[2] = pos.Quantize(float64(id)), pos.Quantize(0), 100
		}
		f := s.Fields(0) // entity 1 moves
		f[0] = pos.Quantize(x)
		return s
	}

	for tick, x := range []float64{1, 1.5, 2} {
		s := world(uint32(tick+1), x)
		payload, _ := enc.Encode(nil, s, tracker.Baseline())
		tracker.Sent(s)

		got, err := history.Decode(dec, payload)
		if err != nil {
			fmt.Println(err)
			return
		}
		tracker.Ack(got.Tick) // in a real game: when the transport acks the packet
		h, _ := dec.ReadHeader(payload)
		fmt.Printf("tick %d delta=%v %d bytes, entity 1 at x=%.1f\n",
			got.Tick, h.Delta, len(payload), pos.Dequantize(got.Fields(0)[0]))
	}
	// Output:
	// tick 1 delta=false 558 bytes, entity 1 at x=1.0
	// tick 2 delta=true 21 bytes, entity 1 at x=1.5
	// tick 3 delta=true 21 bytes, entity 1 at x=2.0
}

func ExampleQuantizer() {
	q := state.Quantizer{Min: -512, Max: 512, Bits: 16}
	l := q.Quantize(100.3)
	fmt.Printf("level %d of %d, step %.4f, max error %.4f\n", l, q.Levels(), q.Step(), q.MaxError())
	fmt.Printf("round trip %.4f\n", q.Dequantize(l))
	fmt.Println("clamped:", q.Quantize(1e9) == q.Levels())
	// Output:
	// level 39187 of 65535, step 0.0156, max error 0.0078
	// round trip 100.3062
	// clamped: true
}

func ExampleAngleQuantizer() {
	a := state.AngleQuantizer{Bits: 8}
	fmt.Println(a.Quantize(math.Pi/2), a.Quantize(-math.Pi/2), a.Quantize(2*math.Pi))
	fmt.Printf("%.4f rad max error\n", a.MaxError())
	// Output:
	// 64 192 0
	// 0.0123 rad max error
}

// A 1D integer game: the client predicts three moves; the server, which
// found a wall, acks the first with another position; the client rewinds
// and replays the other two.
func ExamplePredictor() {
	type pstate struct{ X int32 }
	type input struct{ DX int32 }
	step := func(s pstate, in input) pstate { s.X += in.DX; return s }

	p, _ := state.NewPredictor(state.PredictorConfig[pstate, input]{
		Step: step, Equal: state.EqualComparable[pstate],
	}, 100, pstate{X: 0})
	for range 3 {
		tick := p.Predict(input{DX: 10})
		_ = tick // send the input tagged with tick
	}
	fmt.Println("predicted", p.State(), "at tick", p.Tick())

	r := p.Reconcile(100, pstate{X: 5}) // server applied input 100 and got X=5
	fmt.Println("corrected", r.Corrected, "replayed", r.Replayed, "now", p.State(), "was", r.Before)
	r = p.Reconcile(101, pstate{X: 15})
	fmt.Println("corrected", r.Corrected)
	// Output:
	// predicted {30} at tick 103
	// corrected true replayed 2 now {25} was {30}
	// corrected false
}

func ExampleClock() {
	clock, _ := state.NewClock(state.ClockConfig{TickInterval: time.Second / 60})
	start := time.Unix(0, 0)
	// Snapshots of every second tick, arriving 40 ms after they were made;
	// the transport measures an 80 ms RTT.
	for i := range 30 {
		tick := uint32(600 + 2*i)
		now := start.Add(time.Duration(i) * time.Second / 30)
		clock.Observe(now, tick, 80*time.Millisecond)
	}
	now := start.Add(time.Second)
	fmt.Printf("server tick %.1f, snapshots arriving now are of tick %.1f\n",
		clock.ServerTick(now), float64(clock.SnapshotTime(now))/float64(time.Second/60))
	fmt.Printf("lead %v: predict up to tick %d\n", clock.Lead().Round(time.Millisecond), clock.PredictionTick(now))
	// Output:
	// server tick 662.4, snapshots arriving now are of tick 660.0
	// lead 73ms: predict up to tick 666
}

func ExampleInterpolator() {
	ip, _ := state.NewInterpolator(state.InterpolatorConfig{
		TickInterval: time.Second / 60,
		Stride:       1, // one field: x
		Delay:        50 * time.Millisecond,
		JitterFactor: -1, // fixed delay for the example
	})
	now := time.Unix(0, 0)
	for _, tk := range []uint32{60, 62, 64} { // x moves 10 per tick
		s := state.NewSnapshot(tk, 1, 1)
		s.Add(7)[0] = int32(tk) * 10
		ip.Add(now, s)
	}
	var f state.Frame
	tick := time.Second / 60
	for _, serverNow := range []time.Duration{64 * tick, 66 * tick, 80 * tick} {
		ip.Sample(serverNow, &f)
		fmt.Printf("render tick %.1f: entity %d at x=%.1f extrapolated=%v stalled=%v\n",
			float64(f.RenderTime)/float64(tick), f.IDs[0], f.Fields(0)[0], f.Extrapolated, f.Stalled)
	}
	// Output:
	// render tick 61.0: entity 7 at x=610.0 extrapolated=false stalled=false
	// render tick 63.0: entity 7 at x=630.0 extrapolated=false stalled=false
	// render tick 77.0: entity 7 at x=770.0 extrapolated=true stalled=false
}

func ExampleSmoother() {
	sm, _ := state.NewSmoother(state.SmootherConfig{Dims: 2, SmoothTime: 100 * time.Millisecond, SnapDistance: 64})
	now := time.Unix(0, 0)
	// Reconcile moved the predicted player from (100, 50) to (96, 53):
	// draw it at the corrected position plus a fading offset.
	sm.Correct(now, []float64{100 - 96, 50 - 53})
	var off []float64
	for _, ms := range []int{0, 20, 100} {
		off = sm.Offset(now.Add(time.Duration(ms)*time.Millisecond), off)
		fmt.Printf("%3d ms: draw at (%.2f, %.2f)\n", ms, 96+off[0], 53+off[1])
	}
	// Output:
	//   0 ms: draw at (100.00, 50.00)
	//  20 ms: draw at (97.47, 51.90)
	// 100 ms: draw at (96.00, 53.00)
}

// Two kinds of entities declared by meaning: the server fills a snapshot
// with typed values, encodes a delta against the snapshot the client acked,
// and the client reads the values back. The pickup taken (7) is removed and
// a new one (9) added: only its kind and its own three fields are sent.
func Example_kinds() {
	x := state.FloatField("x", -1000, 1000, 0.01) // 18 bits, steps of 0.01
	y := state.FloatField("y", -1000, 1000, 0.01)
	alive := state.BoolField("alive")  // 1 bit
	team := state.EnumField("team", 3) // 2 bits
	item := state.EnumField("item", 5) // 3 bits
	const player, pickup uint8 = 0, 1  // indices into Kinds
	cfg := state.CodecConfig{Kinds: []state.Kind{
		player: {Name: "player", Fields: []state.Field{x, y, alive, team}},
		pickup: {Name: "pickup", Fields: []state.Field{x, y, item}},
	}}
	enc, _ := state.NewEncoder(cfg)
	dec, _ := state.NewDecoder(cfg)

	// The server's Snapshot hook.
	world := func(tick uint32, px float64, pickupID uint32, it int) *state.Snapshot {
		s := state.NewSnapshot(tick, cfg.Stride(), 2)
		f := s.AddKind(1, player)
		f[0], f[1], f[2], f[3] = x.PutFloat(px), y.PutFloat(-20.5), alive.PutBool(true), team.PutInt(2)
		f = s.AddKind(pickupID, pickup)
		f[0], f[1], f[2] = x.PutFloat(300), y.PutFloat(40.257), item.PutInt(it)
		return s
	}
	base := world(10, 12.34, 7, 4)
	full, _ := enc.Encode(nil, base, nil)
	acked := &state.Snapshot{} // the client's copy of tick 10
	if _, err := dec.Decode(acked, full, nil); err != nil {
		fmt.Println(err)
		return
	}

	delta, _ := enc.Encode(nil, world(12, 12.5, 9, 1), base)
	got := &state.Snapshot{}
	if _, err := dec.Decode(got, delta, acked); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("full %d bytes, delta %d bytes\n", len(full), len(delta))
	for i, id := range got.IDs {
		f := got.Fields(i)
		switch got.Kind(i) {
		case player:
			fmt.Printf("player %d at (%.2f, %.2f) alive=%v team=%d\n", id, x.Float(f[0]), y.Float(f[1]), alive.Bool(f[2]), team.Int(f[3]))
		case pickup:
			fmt.Printf("pickup %d at (%.2f, %.2f) item=%d\n", id, x.Float(f[0]), y.Float(f[1]), item.Int(f[2]))
		}
	}
	// Output:
	// full 17 bytes, delta 15 bytes
	// player 1 at (12.50, -20.50) alive=true team=2
	// pickup 9 at (300.00, 40.26) item=1
}

func ExampleFloatField() {
	x := state.FloatField("x", -1000, 1000, 0.01)
	fmt.Printf("%d bits, step %v\n", x.Bits, x.Step())
	q := x.PutFloat(12.345678)
	fmt.Printf("12.345678 is level %d, read back as %v\n", q, x.Float(q))
	fmt.Println("5000 is clamped to", x.Float(x.PutFloat(5000)))
	// Output:
	// 18 bits, step 0.01
	// 12.345678 is level 101235, read back as 12.35
	// 5000 is clamped to 1000
}
