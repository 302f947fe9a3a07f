package endpoint_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// TestRTTFromAckOnlyPackets: an endpoint that sends no data of its own,
// only acks of what its peer streams, still learns its RTT (from the
// peer's acks of its ack-only packets, whose hold the peer reports); one
// that sends data samples from data packets as before.
func TestRTTFromAckOnlyPackets(t *testing.T) {
	link := netsim.Config{Latency: 40 * time.Millisecond}
	p := newPair(t, endpoint.DefaultConfig(), link, link, 1)
	for i := range 300 { // 5 s at 60 Hz: a streams to b, b sends nothing but acks
		_, _ = p.a.Send(2, numbered(uint32(i), 100))
		p.step(time.Second / 60)
	}
	assert.InDelta(t, 97, float64(p.b.Stats().RTT.Milliseconds()), 12, "the acking side knows its RTT (80 ms of link, up to a 60 Hz step more)")
	assert.InDelta(t, 97, float64(p.a.Stats().RTT.Milliseconds()), 12, "the streaming side too")
}
