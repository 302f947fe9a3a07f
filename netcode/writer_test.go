package netcode

import (
	"net"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriterBatchesSizedToBacklog: the writer allocates a batch only when
// none written is free, so a server whose writer keeps up holds a few
// batches, not sendBatches; a writer that stalls makes hand allocate up
// to sendBatches and then wait; every datagram handed over is written, in
// order.
func TestWriterBatchesSizedToBacklog(t *testing.T) {
	synctest.Test(t, testWriterBatches)
}

func testWriterBatches(t *testing.T) {
	gate := make(chan struct{})
	var got []byte
	pc := &captureConn{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7000}, closed: make(chan struct{})}
	pc.onSend = func(_ *net.UDPAddr, p []byte) {
		<-gate
		got = append(got, p[0])
	}
	w := newWriter(newSocket(pc, false))
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	b := newOutBatch()
	next := byte(0)
	fill := func() {
		for !b.add(outDatagram{buf: append(b.next(), next), to: to.AddrPort(), addr: to}) {
			next++
		}
		next++
	}
	// The writer is stuck on its first datagram: every hand-over but the
	// first finds no free batch and allocates one, up to sendBatches.
	for range sendBatches - 1 {
		fill()
		b = w.hand(b)
	}
	assert.Equal(t, sendBatches, w.made)
	fill()
	handed := make(chan struct{})
	go func() { b = w.hand(b); close(handed) }()
	synctest.Wait() // every goroutine blocked: the writer on the gate, hand on a free batch
	select {
	case <-handed:
		t.Fatal("hand returned a batch with sendBatches in flight")
	default:
	}
	close(gate)
	<-handed
	assert.Equal(t, sendBatches, w.made, "the wait ended with a written batch, not a new one")
	w.stop()
	require.Len(t, got, sendBatches*socketBatchSize)
	for i, v := range got {
		require.Equal(t, byte(i), v, "datagram %d", i)
	}
	_ = pc.Close()
}
