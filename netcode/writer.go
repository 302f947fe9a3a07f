package netcode

import (
	"sync"
	"sync/atomic"
)

// sendBatches is how many batches of socketBatchSize datagrams a Server's
// writer goroutine may have waiting: 64 × 32 = 2048 datagrams, a tick's
// worth for 2048 clients, and about 3 MiB of buffers at most (they are
// allocated as the writer falls behind).
const sendBatches = 64

// outBatch is one batch of datagrams to write, with the buffers its
// datagrams are built in (bufs[i] backs out[i].buf).
type outBatch struct {
	out  []outDatagram
	bufs [][]byte
}

func newOutBatch() *outBatch {
	b := &outBatch{out: make([]outDatagram, 0, socketBatchSize), bufs: make([][]byte, socketBatchSize)}
	mem := make([]byte, socketBatchSize*maxDatagramSize)
	for i := range b.bufs {
		b.bufs[i] = mem[i*maxDatagramSize : i*maxDatagramSize : (i+1)*maxDatagramSize]
	}
	return b
}

// next returns an empty buffer for the batch's next datagram.
func (b *outBatch) next() []byte { return b.bufs[len(b.out)][:0] }

// add appends d and reports whether the batch is now full.
func (b *outBatch) add(d outDatagram) (full bool) {
	b.out = append(b.out, d)
	return len(b.out) == cap(b.out)
}

func (b *outBatch) reset() {
	clear(b.out)
	b.out = b.out[:0]
}

// writer writes batches on its own goroutine, so that the goroutine that
// drives Update hands a tick's datagrams over and goes on instead of
// waiting in sendmmsg (on loopback the sender's system call also pays for
// delivering to the receiving socket). Batches are written in the order
// they are handed over. When every batch is waiting to be written, the
// next hand-over blocks: the writer's backlog is bounded.
type writer struct {
	sock   *socket
	queue  chan *outBatch // full batches, in order
	free   chan *outBatch // written batches, for reuse
	made   int            // batches allocated so far, up to sendBatches; see hand
	done   chan struct{}
	failed atomic.Uint64 // datagrams the socket refused
	once   sync.Once
}

func newWriter(sock *socket) *writer {
	w := &writer{
		sock:  sock,
		queue: make(chan *outBatch, sendBatches),
		free:  make(chan *outBatch, sendBatches),
		done:  make(chan struct{}),
		made:  1, // the caller's
	}
	go w.run()
	return w
}

func (w *writer) run() {
	defer close(w.done)
	for b := range w.queue {
		sent, _ := w.sock.write(b.out)
		if sent < len(b.out) {
			w.failed.Add(uint64(len(b.out) - sent))
		}
		b.reset()
		w.free <- b // never blocks: there are sendBatches batches in all
	}
}

// hand queues b for writing and returns an empty batch: a written one, or
// a new one while fewer than sendBatches exist (so a server allocates as
// many as its ticks keep in flight), else it waits for one.
func (w *writer) hand(b *outBatch) *outBatch {
	w.queue <- b
	select {
	case nb := <-w.free:
		return nb
	default:
	}
	if w.made < sendBatches {
		w.made++
		return newOutBatch()
	}
	return <-w.free
}

// stop writes what was handed over, then ends the goroutine.
func (w *writer) stop() {
	w.once.Do(func() { close(w.queue) })
	<-w.done
}
