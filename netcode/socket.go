package netcode

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Socket I/O. A *net.UDPConn is read and written in batches: written with
// sendmmsg through golang.org/x/net/ipv4 (or ipv6) WriteBatch, read with
// recvmmsg — on Linux by mmsgReader, which does not allocate, elsewhere by
// x/net's ReadBatch (one datagram per call where the platform has no
// batching). Any other net.PacketConn (a netsim-wrapped conn, a pipe) is
// read with ReadFrom and written with WriteTo.

const (
	maxDatagramSize = 1500 // larger datagrams are truncated and then fail to decode
	udpIPv4Header   = 28   // bytes IPv4 and UDP add to every datagram
	socketBatchSize = 32
)

// batchConn is what ipv4.PacketConn and ipv6.PacketConn share.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// batchReader reads up to len(ds) datagrams in one system call.
type batchReader interface {
	read(ds []*datagram) (int, error)
}

// loopReader is a batchReader that also runs a whole read loop itself
// (see mmsgReader.readLoop).
type loopReader interface {
	readLoop(ds []*datagram, got func(n int) []*datagram, untilDrained bool) error
}

// inlineReader reads a socket from the goroutine that drives Update
// (receiver.inline): readNow without waiting, readWait until at least one
// datagram came or the socket's read deadline passed.
type inlineReader interface {
	readNow(ds []*datagram) (int, error)
	readWait(ds []*datagram) (int, error)
}

// socket wraps a net.PacketConn. read is called by the reader goroutine
// only; write by the goroutine that drives Update only.
type socket struct {
	pc    net.PacketConn
	udp   *net.UDPConn // nil when pc is not a *net.UDPConn
	batch batchConn    // nil when not batching
	mmsg  batchReader  // Linux: allocation-free recvmmsg; nil elsewhere or when not batching
	rmsgs []ipv4.Message
	wmsgs []ipv4.Message
	// connected: udp was connected to its one peer (Dial does that), so
	// writes name no address: the kernel skips the route lookup, and
	// datagrams from anyone else never reach the reader.
	connected bool
}

// refuseFragmentation asks the OS not to fragment the socket's datagrams
// (Linux: IP_MTU_DISCOVER = IP_PMTUDISC_DO, IPV6_DONTFRAG), for path MTU
// discovery (Endpoint.MaxPathMTU). Sockets that are not a *net.UDPConn,
// and other systems, are left as they are.
func (s *socket) refuseFragmentation() error {
	if s.udp == nil {
		return nil
	}
	return setDontFragment(s.udp)
}

func newSocket(pc net.PacketConn, batching bool) *socket {
	s := &socket{pc: pc}
	if u, ok := pc.(*net.UDPConn); ok {
		s.udp = u
		s.connected = u.RemoteAddr() != nil
		_ = u.SetReadBuffer(4 << 20)
		_ = u.SetWriteBuffer(4 << 20)
		if batching {
			if la, ok := u.LocalAddr().(*net.UDPAddr); ok && la.IP.To4() == nil && len(la.IP) != 0 {
				s.batch = ipv6.NewPacketConn(u)
			} else {
				s.batch = ipv4.NewPacketConn(u)
			}
			s.mmsg = newBatchReader(u)
		}
	}
	s.rmsgs = make([]ipv4.Message, socketBatchSize)
	s.wmsgs = make([]ipv4.Message, socketBatchSize)
	for i := range s.rmsgs {
		s.rmsgs[i].Buffers = make([][]byte, 1)
		s.wmsgs[i].Buffers = make([][]byte, 1)
	}
	return s
}

// datagram is one received datagram; buf has maxDatagramSize capacity.
type datagram struct {
	buf  []byte
	n    int
	from netip.AddrPort
	at   time.Time
}

// readLoop reads into ds until a read fails, and returns that error, or,
// with untilDrained, until a read leaves the socket empty (it returns nil
// then). After each read, got(n) is handed the n datagrams read (at the
// front of ds; n may be 0) and returns the buffers of the next read.
func (s *socket) readLoop(ds []*datagram, got func(n int) []*datagram, untilDrained bool) error {
	if lr, ok := s.mmsg.(loopReader); ok {
		return lr.readLoop(ds, got, untilDrained)
	}
	for {
		n, err := s.read(ds)
		want := len(ds)
		if n > 0 || err == nil {
			ds = got(n)
		}
		if err != nil {
			return err
		}
		if untilDrained && n < want {
			return nil
		}
	}
}

// read fills ds[:k] with received datagrams (at most len(ds)) and returns k.
// Datagrams from an address that is not UDP are dropped (k may be 0).
func (s *socket) read(ds []*datagram) (int, error) {
	if s.mmsg != nil {
		return s.mmsg.read(ds)
	}
	if s.batch != nil {
		ms := s.rmsgs[:min(len(ds), len(s.rmsgs))]
		for i := range ms {
			ms[i].Buffers[0] = ds[i].buf[:maxDatagramSize]
			ms[i].Addr = nil
		}
		n, err := s.batch.ReadBatch(ms, 0)
		k := 0
		for i := 0; i < n; i++ {
			ua, ok := ms[i].Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			if k != i {
				ds[k], ds[i] = ds[i], ds[k]
			}
			ds[k].n = ms[i].N
			ds[k].from = normalizeAddr(ua.AddrPort())
			k++
		}
		return k, err
	}
	d := ds[0]
	if s.udp != nil {
		n, from, err := s.udp.ReadFromUDPAddrPort(d.buf[:maxDatagramSize])
		if err != nil {
			return 0, err
		}
		d.n, d.from = n, normalizeAddr(from)
		return 1, nil
	}
	n, from, err := s.pc.ReadFrom(d.buf[:maxDatagramSize])
	if err != nil {
		return 0, err
	}
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return 0, nil
	}
	d.n, d.from = n, normalizeAddr(ua.AddrPort())
	return 1, nil
}

func normalizeAddr(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}

// outDatagram is one datagram to send.
type outDatagram struct {
	buf  []byte
	to   netip.AddrPort
	addr *net.UDPAddr // the same address as to, cached by the connection
}

// write sends the datagrams. Errors on single datagrams (e.g. ICMP
// unreachable reported on a later write) are counted by the caller and do
// not stop the rest.
func (s *socket) write(out []outDatagram) (sent int, err error) {
	if s.connected {
		for i := range out {
			if _, werr := s.udp.Write(out[i].buf); werr != nil {
				err = werr
				continue
			}
			sent++
		}
		return sent, err
	}
	if s.batch != nil {
		for len(out) > 0 {
			ms := s.wmsgs[:min(len(out), len(s.wmsgs))]
			for i := range ms {
				ms[i].Buffers[0] = out[i].buf
				ms[i].Addr = out[i].netAddr()
			}
			n, werr := s.batch.WriteBatch(ms, 0)
			if werr != nil {
				err = werr
				if n <= 0 {
					n = 1 // skip the datagram that failed
				}
			} else {
				sent += n
			}
			out = out[n:]
		}
		return sent, err
	}
	for i := range out {
		var werr error
		if s.udp != nil {
			_, werr = s.udp.WriteToUDPAddrPort(out[i].buf, out[i].to)
		} else {
			_, werr = s.pc.WriteTo(out[i].buf, out[i].netAddr())
		}
		if werr != nil {
			err = werr
			continue
		}
		sent++
	}
	return sent, err
}

func (o *outDatagram) netAddr() *net.UDPAddr {
	if o.addr == nil {
		o.addr = net.UDPAddrFromAddrPort(o.to)
	}
	return o.addr
}

// receiver runs the reader goroutine of one socket: it reads datagrams into
// a bounded pool of buffers (allocated as the traffic needs them, up to the
// queue length) and queues them for the goroutine that calls
// Update, which takes the whole queue at once and gives the buffers back
// when it has handled them. When every buffer is queued or being handled
// (the game is not keeping up), new datagrams are read into a scratch
// buffer and dropped, and counted: the queue never grows and the kernel
// buffer keeps draining.
//
// A server's receiver also sorts datagrams by source (see sourceFilter):
// those of established connections go to the main queue; the rest, which
// can only be handshakes, to a small bounded queue of their own after a
// per-source rate limit, so that a flood from unknown sources never costs
// an established connection a datagram while any of the flood is queued.
//
// Free buffers are reused last-in first-out, so the few a tick needs stay
// in the CPU caches instead of the reads cycling through the whole pool;
// and a batch of datagrams costs two lock round trips, not two channel
// operations per datagram.
type receiver struct {
	sock   *socket
	clock  func() time.Time
	filter *sourceFilter // nil on a client: every datagram is queued alike
	// coalesce: after a read that emptied the socket, wait this long
	// before reading again (ServerConfig.ReceiveCoalesce); 0: read at
	// every arrival.
	coalesce time.Duration

	// The buffers of the read in progress (owned by whichever goroutine
	// reads: the reader goroutine, or, inline, the one driving Update):
	// bufs holds up to a batch of the pool's; cur is bufs, or scratch when
	// the pool had none free.
	bufs, cur, scratch []*datagram

	// inline: no reader goroutine reads (any more); take and wait read the
	// socket from the calling goroutine (see ServerConfig.ReceiveInline).
	inline  bool
	running bool // the reader goroutine was started
	batch   int  // buffers the next read asks for; see deliver
	// drainedAt: when wait's read last emptied the socket (inline); a take
	// within inlineFresh of it skips its read, which could only find what
	// arrived in those microseconds.
	drainedAt time.Time
	timer     *time.Timer // wait's, reused
	handoff   atomic.Bool // the reader goroutine is to return at its next timeout

	mu     sync.Mutex
	free   []*datagram // stack of free buffers
	unmade int         // buffers of the pool not allocated yet; see refill
	queue  []*datagram // received, oldest first (a server's: from connected addresses)
	spare  []*datagram // the other queue slice; nil while its datagrams are taken
	unver  []*datagram // a server's datagrams from unknown addresses, oldest first

	wake    chan struct{}
	done    chan struct{}
	dropped atomic.Uint64 // queue full
	packets atomic.Uint64 // datagrams read, dropped or not
	bytes   atomic.Uint64
	closing atomic.Bool
	errMu   sync.Mutex
	err     error
}

func newReceiver(sock *socket, queueLen int, clock func() time.Time, filter *sourceFilter) *receiver {
	r := &receiver{
		sock:   sock,
		clock:  clock,
		filter: filter,
		free:   make([]*datagram, 0, queueLen),
		unmade: queueLen,
		queue:  make([]*datagram, 0, queueLen),
		spare:  make([]*datagram, 0, queueLen),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		bufs:   make([]*datagram, 0, socketBatchSize),
	}

	if filter != nil {
		r.unver = make([]*datagram, 0, filter.unverCap)
	}
	return r
}

// minReadBatch is the fewest buffers a read asks for (see
// receiver.deliver).
const minReadBatch = 4

// inlineFresh: see receiver.drainedAt.
const inlineFresh = 50 * time.Microsecond

// poolChunk is how many buffers of the receive pool refill allocates at a
// time (96 KB).
const poolChunk = 64

// refill allocates the next chunk of the pool when fewer than a batch of
// free buffers are left and the pool has not reached its size: the pool is
// sized to the traffic (a server configured for thousands of clients and
// serving a few holds a few chunks), and a burst makes it grow up to
// queueLen buffers, which it keeps. Called with mu held.
func (r *receiver) refill() {
	if len(r.free) >= socketBatchSize || r.unmade == 0 {
		return
	}
	n := min(poolChunk, r.unmade)
	mem := make([]byte, n*maxDatagramSize)
	for i := range n {
		r.free = append(r.free, &datagram{buf: mem[i*maxDatagramSize : (i+1)*maxDatagramSize : (i+1)*maxDatagramSize]})
	}
	r.unmade -= n
}

// take returns every datagram queued so far: those of connected addresses
// oldest first, then those of unknown ones. The caller must give them back
// with release before it calls take again.
func (r *receiver) take() []*datagram {
	if r.inline {
		if !r.drainedAt.IsZero() && time.Since(r.drainedAt) < inlineFresh {
			r.drainedAt = time.Time{} // wait has just emptied the socket
		} else {
			r.drain()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ds := append(r.queue, r.unver...) // within cap: both hold buffers of the pool
	clear(r.unver)
	r.unver = r.unver[:0]
	r.queue, r.spare = r.spare[:0], nil
	return ds
}

// release gives back the buffers of datagrams returned by take.
func (r *receiver) release(ds []*datagram) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.free = append(r.free, ds...) // within cap: the pool never grows
	clear(ds)
	r.spare = ds[:0]
}

// setKnown adds addr to (or removes it from) the addresses of established
// connections, whose datagrams go to the main queue. Called by the
// goroutine that drives the Server when a connection starts or ends.
func (r *receiver) setKnown(addr netip.AddrPort, known bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if known {
		r.filter.known[addr] = struct{}{}
	} else {
		delete(r.filter.known, addr)
	}
}

func (r *receiver) start() {
	r.running = true
	go r.run()
}

// takeBufs takes the buffers of the next read: up to a batch of the
// pool's free ones, or the scratch ones when every pool buffer is taken.
func (r *receiver) takeBufs() []*datagram {
	r.mu.Lock()
	r.refill()
	k := min(max(r.batch, minReadBatch), len(r.free))
	r.bufs = append(r.bufs[:0], r.free[len(r.free)-k:]...)
	clear(r.free[len(r.free)-k:])
	r.free = r.free[:len(r.free)-k]
	r.mu.Unlock()
	r.cur = r.bufs
	if len(r.bufs) == 0 {
		if r.scratch == nil { // made when first needed: most receivers never need it
			r.scratch = make([]*datagram, socketBatchSize)
			for i := range r.scratch {
				r.scratch[i] = &datagram{buf: make([]byte, maxDatagramSize)}
			}
		}
		r.cur = r.scratch
	}
	return r.cur
}

// deliver queues the n datagrams just read into r.cur and gives back the
// pool buffers the read did not fill; it reports whether it queued any.
func (r *receiver) deliver(n int) (queued bool) {
	buf := r.cur
	// The next read asks for twice what this one got, within
	// [minReadBatch, socketBatchSize]: a client that gets a datagram a
	// read prepares a few buffers, not a batch, and a burst doubles it.
	r.batch = min(max(2*n, minReadBatch), socketBatchSize)
	if n > 0 {
		at := r.clock()
		var size uint64
		for _, d := range buf[:n] {
			d.at = at
			size += uint64(d.n)
		}
		r.packets.Add(uint64(n))
		r.bytes.Add(size)
	}
	r.mu.Lock()
	if len(r.bufs) == 0 { // the scratch buffers
		queued = r.admitScratch(buf[:n])
	} else {
		queued = r.admit(buf[:n])
		r.free = append(r.free, buf[n:]...)
		r.bufs = r.bufs[:0]
	}
	r.mu.Unlock()
	return queued
}

// giveBack returns the pool buffers of a read that failed.
func (r *receiver) giveBack() {
	if len(r.bufs) > 0 {
		r.mu.Lock()
		r.free = append(r.free, r.bufs...)
		r.mu.Unlock()
		r.bufs = r.bufs[:0]
	}
}

func (r *receiver) run() {
	defer close(r.done)
	got := func(n int) []*datagram {
		if r.deliver(n) {
			r.signal()
		}
		return r.takeBufs()
	}
	for {
		err := r.sock.readLoop(r.takeBufs(), got, r.coalesce > 0)
		r.giveBack()
		if err == nil { // drained, with coalesce: let datagrams gather
			time.Sleep(r.coalesce)
			continue
		}
		if r.closing.Load() || errors.Is(err, net.ErrClosed) {
			return
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if r.handoff.Load() {
				return
			}
			continue
		}
		r.errMu.Lock()
		r.err = err
		r.errMu.Unlock()
		// Transient errors (ICMP port unreachable surfacing as a read
		// error, for one) must not stop the server: keep reading, without
		// spinning on an error that repeats.
		time.Sleep(time.Millisecond)
	}
}

// canInline reports whether the socket can be read from the calling
// goroutine (Linux, a *net.UDPConn with batching).
func (r *receiver) canInline() bool {
	_, ok := r.sock.mmsg.(inlineReader)
	return ok
}

// goInline ends the reader goroutine, if it runs, and has take and wait
// read the socket from now on. The datagrams the goroutine queued stay
// queued. Called by the goroutine that drives Update, once.
func (r *receiver) goInline() {
	if r.running {
		r.handoff.Store(true)
		_ = r.sock.udp.SetReadDeadline(time.Unix(1, 0)) // past: its wait ends at once
		<-r.done
		_ = r.sock.udp.SetReadDeadline(time.Time{})
		r.running = false
	}
	r.inline = true
}

// drain reads, without waiting, what the socket holds (up to a full
// queue), inline.
func (r *receiver) drain() {
	ir := r.sock.mmsg.(inlineReader)
	for {
		bufs := r.takeBufs()
		n, err := ir.readNow(bufs)
		r.deliver(n)
		if err != nil {
			r.noteErr(err)
			return
		}
		if n < len(bufs) {
			return
		}
	}
}

// wait blocks until datagrams are queued or the deadline (zero: none)
// passes, and reports whether any are queued. Inline it reads the socket
// itself; otherwise it waits for the reader goroutine's signal.
func (r *receiver) wait(deadline time.Time) bool {
	if !r.inline {
		r.mu.Lock()
		queued := len(r.queue) > 0 || len(r.unver) > 0
		r.mu.Unlock()
		if queued {
			select {
			case <-r.wake: // the signal of what is queued
			default:
			}
			return true
		}
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			if r.timer == nil {
				r.timer = time.NewTimer(time.Until(deadline))
			} else {
				r.timer.Reset(time.Until(deadline)) // Go 1.23+: no stale value to drain
			}
			defer r.timer.Stop()
			timeout = r.timer.C
		}
		select {
		case <-r.wake:
			return true
		case <-timeout:
			return false
		}
	}
	r.mu.Lock()
	queued := len(r.queue) > 0 || len(r.unver) > 0
	r.mu.Unlock()
	if queued {
		return true
	}
	// The read's first attempt takes what the socket already holds; it
	// waits only when that is nothing.
	ir := r.sock.mmsg.(inlineReader)
	_ = r.sock.udp.SetReadDeadline(deadline)
	bufs := r.takeBufs()
	n, err := ir.readWait(bufs)
	full := n == len(bufs)
	if r.deliver(n) {
		if full {
			r.drain() // there may be more
		} else {
			r.drainedAt = time.Now() // a take right after need not read again
		}
		return true
	}
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		r.noteErr(err)
	}
	return false
}

func (r *receiver) noteErr(err error) {
	if r.closing.Load() || errors.Is(err, net.ErrClosed) {
		return
	}
	r.errMu.Lock()
	r.err = err
	r.errMu.Unlock()
}

func (r *receiver) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// admit queues the datagrams just read into pool buffers, or gives the
// buffers of those it drops back; it reports whether it queued any. Called
// with mu held.
func (r *receiver) admit(ds []*datagram) (queued bool) {
	for _, d := range ds {
		if r.admitOne(d) {
			queued = true
		} else {
			r.free = append(r.free, d)
		}
	}
	return queued
}

// admitOne queues d, a pool buffer, in the queue its source belongs to, or
// reports false (counted) when it is dropped. Called with mu held.
func (r *receiver) admitOne(d *datagram) bool {
	if r.filter == nil || r.filter.isKnown(d.from) {
		r.queue = append(r.queue, d) // within cap: pool size
		return true
	}
	if r.filter.admitUnknown(d, len(r.unver)) {
		r.unver = append(r.unver, d) // within cap: admitUnknown checked
		return true
	}
	return false
}

// admitScratch handles datagrams read into the scratch buffers because
// every pool buffer was taken when the read began. Each is copied into a
// buffer given back since, if any. Otherwise one of an established
// connection takes the buffer of the newest queued datagram of an unknown
// source, which is dropped in its place: a flood of handshakes never costs
// a connection a datagram while any of it is queued. The rest are dropped
// and counted. It reports whether it queued any. Called with mu held.
func (r *receiver) admitScratch(ds []*datagram) (queued bool) {
	for _, d := range ds {
		if n := len(r.free); n > 0 {
			b := r.free[n-1]
			r.free[n-1] = nil
			r.free = r.free[:n-1]
			copyDatagram(b, d)
			if r.admitOne(b) {
				queued = true
			} else {
				r.free = append(r.free, b)
			}
			continue
		}
		if r.filter == nil {
			r.dropped.Add(1)
			continue
		}
		if !r.filter.isKnown(d.from) {
			if r.filter.classify(d) == classHello {
				r.dropped.Add(1) // a handshake; its queue may have room, the pool has none
			}
			continue
		}
		if len(r.unver) == 0 {
			r.dropped.Add(1)
			continue
		}
		v := r.unver[len(r.unver)-1]
		r.unver[len(r.unver)-1] = nil
		r.unver = r.unver[:len(r.unver)-1]
		r.filter.evicted.Add(1)
		copyDatagram(v, d)
		r.queue = append(r.queue, v)
		queued = true
	}
	return queued
}

func copyDatagram(dst, src *datagram) {
	dst.n = copy(dst.buf[:maxDatagramSize], src.buf[:src.n])
	dst.from, dst.at = src.from, src.at
}

// stop closes the socket and waits for the reader goroutine to exit.
func (r *receiver) stop() error {
	r.closing.Store(true)
	err := r.sock.pc.Close()
	if r.running {
		<-r.done
	}
	return err
}

// lastErr returns the last unexpected read error, if any.
func (r *receiver) lastErr() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}
