package sync_test

import (
	"fmt"

	netsync "github.com/tickwire/tickwire/netcode/sync"
)

// The server quantizes positions, encodes a full snapshot, then a delta
// against the snapshot the client acknowledged; the client decodes both with
// its History.
func Example_snapshots() {
	pos := netsync.Quantizer{Min: -512, Max: 512, Bits: 16} // ~0.016 units
	schema := netsync.Schema{Fields: []netsync.Field{
		{Name: "x", Bits: 16},
		{Name: "y", Bits: 16},
		{Name: "hp", Bits: 7},
	}}
	cfg := netsync.CodecConfig{Schema: schema}
	enc, _ := netsync.NewEncoder(cfg)
	dec, _ := netsync.NewDecoder(cfg)
	tracker, _ := netsync.NewBaselineTracker(32) // server, per client
	history, _ := netsync.NewHistory(32)         // client

	world := func(tick uint32, x float64) *netsync.Snapshot {
		s := netsync.NewSnapshot(tick, schema.NumFields(), 100)
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
