package endpoint

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probeConfig probes up to 1452 bytes.
func probeConfig() Config {
	c := fuzzConfig()
	c.MaxPathMTU = 1452
	return c
}

// probePacket returns the first path MTU probe a new endpoint sends, and
// the endpoint.
func probePacket(t testing.TB) ([]byte, *Endpoint) {
	t.Helper()
	a, err := NewEndpoint(probeConfig(), fuzzEpoch)
	require.NoError(t, err)
	var probe []byte
	a.Flush(fuzzEpoch, func(p []byte) {
		if len(p) > DefaultMaxPacketSize {
			probe = bytes.Clone(p)
		}
	})
	require.NotNil(t, probe, "the first Flush sends a probe")
	return probe, a
}

func FuzzMTUProbe(f *testing.F) {
	probe, _ := probePacket(f)
	f.Add(probe)
	f.Add(probe[:len(probe)-1])
	f.Add(append(bytes.Clone(probe), 0))
	short := bytes.Clone(probe[:20])
	short[len(short)-1] = 1
	f.Add(short)
	f.Fuzz(func(t *testing.T, p []byte) {
		b, _ := NewEndpoint(probeConfig(), fuzzEpoch)
		before := b.Stats()
		err := b.Receive(fuzzEpoch, p)
		after := b.Stats()
		counted := after.PacketsReceived + after.PacketsMalformed + after.PacketsDuplicate + after.PacketsStale -
			before.PacketsReceived - before.PacketsMalformed - before.PacketsDuplicate - before.PacketsStale
		if counted != 1 {
			t.Fatalf("Receive (err %v) counted the packet %d times", err, counted)
		}
		if len(p) > 1452 && err == nil {
			t.Fatalf("accepted a %d-byte packet; MaxPathMTU is 1452", len(p))
		}
		checkBounds(t, b)
		// Whatever arrived, the reply is within bounds.
		b.Flush(fuzzEpoch.Add(time.Second), func(r []byte) {
			if len(r) > 1452 {
				t.Fatalf("replied with %d bytes", len(r))
			}
		})
		if b.mtu.size < b.mtu.base || b.mtu.size > 1452 {
			t.Fatalf("path MTU %d outside [%d, 1452]", b.mtu.size, b.mtu.base)
		}
	})
}

// TestMTUProbeAbuse replays, mutates and spoofs probes: a replay is a
// duplicate, non-zero padding or an oversize probe is malformed, and
// acknowledgements of packets never sent move nothing.
func TestMTUProbeAbuse(t *testing.T) {
	probe, a := probePacket(t)
	b, err := NewEndpoint(probeConfig(), fuzzEpoch)
	require.NoError(t, err)

	require.NoError(t, b.Receive(fuzzEpoch, probe))
	assert.ErrorIs(t, b.Receive(fuzzEpoch, probe), ErrDuplicatePacket, "a replayed probe")

	mutated := bytes.Clone(probe)
	mutated[len(mutated)-10] = 0x42
	mutated[1]++ // another sequence number, so that only the padding is wrong
	err = b.Receive(fuzzEpoch, mutated)
	assert.ErrorIs(t, err, ErrMalformedPacket, "padding must be zero")

	huge := append(bytes.Clone(probe), make([]byte, 100)...)
	huge[1] += 2
	assert.ErrorIs(t, b.Receive(fuzzEpoch, huge), ErrMalformedPacket, "over MaxPathMTU")
	assert.Equal(t, uint64(2), b.Stats().PacketsMalformed)

	// A spoofed ack of packets a never sent changes nothing.
	spoof := packetHeader{Seq: 7, Ack: 500, AckBits: ^uint32(0), HasAck: true}
	require.NoError(t, a.Receive(fuzzEpoch.Add(10*time.Millisecond), spoof.Append(nil)))
	assert.Equal(t, DefaultMaxPacketSize, a.Stats().PathMTU, "an ack of unsent packets raises nothing")
	assert.Equal(t, uint64(0), a.Stats().PacketsAcked)

	// The genuine ack raises it to the probe's size, and no further.
	b.Flush(fuzzEpoch.Add(50*time.Millisecond), func(p []byte) {
		require.NoError(t, a.Receive(fuzzEpoch.Add(60*time.Millisecond), p))
	})
	assert.Equal(t, len(probe), a.Stats().PathMTU)
	assert.Equal(t, 1452, len(probe))
}
