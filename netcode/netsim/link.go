package netsim

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Stats counts what a [Link] did. Every field only grows, except Queued and
// QueuedBytes, which are what the link holds right now.
type Stats struct {
	Sent             uint64 // datagrams handed to Send
	SentBytes        uint64 // their payload bytes
	Delivered        uint64 // datagrams handed out by Deliver (duplicates included)
	DeliveredBytes   uint64 // their payload bytes
	DroppedLoss      uint64 // lost by the uniform or Gilbert–Elliott model
	DroppedQueueFull uint64 // tail-dropped: the link held QueuePackets or QueueBytes already
	DroppedOversize  uint64 // longer than MaxDatagramSize
	Delayed          uint64 // accepted datagrams (copies included) that arrive later than they were sent
	Duplicated       uint64 // extra copies made
	Reordered        uint64 // datagrams delivered after one sent later than them
	Queued           int    // datagrams held now
	QueuedBytes      int    // payload bytes held now
}

// Dropped is the total of every drop reason.
func (s Stats) Dropped() uint64 { return s.DroppedLoss + s.DroppedQueueFull + s.DroppedOversize }

// add returns the field-wise sum of s and o.
func (s Stats) add(o Stats) Stats {
	s.Sent += o.Sent
	s.SentBytes += o.SentBytes
	s.Delivered += o.Delivered
	s.DeliveredBytes += o.DeliveredBytes
	s.DroppedLoss += o.DroppedLoss
	s.DroppedQueueFull += o.DroppedQueueFull
	s.DroppedOversize += o.DroppedOversize
	s.Delayed += o.Delayed
	s.Duplicated += o.Duplicated
	s.Reordered += o.Reordered
	s.Queued += o.Queued
	s.QueuedBytes += o.QueuedBytes
	return s
}

// pending is one datagram held by a Link.
type pending struct {
	at    time.Time // when it is due
	order uint64    // tie-break: equal times leave in the order they entered
	seq   uint64    // send sequence of the original datagram (copies share it)
	dup   bool      // this is the extra copy
	buf   []byte    // pooled copy of the payload
	addr  net.Addr  // destination or source, carried for Conn
}

// Link conditions one direction of traffic. Time is explicit: Send and
// Deliver take the current time, so a test can drive a Link from a loop
// without any clock or goroutine.
//
// A Link is safe for concurrent use. Its zero value is not usable: create it
// with [NewLink].
type Link struct {
	mu       sync.Mutex
	cfg      Config // with defaults applied
	perfect  bool   // cfg has no loss, delay, duplication, reordering or cap
	lossRNG  *rand.Rand
	delayRNG *rand.Rand
	geBad    bool      // Gilbert–Elliott state
	busy     time.Time // the bandwidth cap's transmitter is busy until then
	lastAt   time.Time // due time of the latest in-order datagram (PreserveOrder)

	heap     []pending // min-heap by (at, order)
	free     [][]byte  // recycled payload buffers
	freeCap  int       // total capacity of free (bounded: see recycleLocked)
	order    uint64
	seq      uint64
	maxSeq   uint64 // highest seq delivered + 1 (0: none yet)
	stats    Stats
	heldByte int
}

// minBufCap is the smallest pooled buffer, so small datagrams of any size
// share buffers.
const minBufCap = 2048

// NewLink returns a Link applying cfg, with its random choices drawn from
// generators seeded by seed: the same seed, config and traffic (the same
// datagram lengths at the same times) give the same drops, delays and
// copies. Loss decisions use their own generator, so changing the delay
// settings does not change which datagrams are lost.
func NewLink(cfg Config, seed uint64) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Link{
		lossRNG:  rand.New(rand.NewPCG(seed, 0x6c6f7373)),              // "loss"
		delayRNG: rand.New(rand.NewPCG(seed, 0x64656c6179000000^seed)), // "delay"
	}
	l.setConfigLocked(cfg)
	return l, nil
}

// SetConfig replaces the link's conditions. It applies to datagrams sent
// from now on; datagrams already held keep their times. The Gilbert–Elliott
// state is kept. An invalid cfg is refused and the old one stays.
func (l *Link) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	l.setConfigLocked(cfg)
	l.mu.Unlock()
	return nil
}

func (l *Link) setConfigLocked(cfg Config) {
	l.cfg = cfg.withDefaults()
	l.perfect = cfg.Loss == 0 && !cfg.Burst.Enabled() && cfg.Latency == 0 && cfg.Jitter == 0 &&
		cfg.Duplicate == 0 && cfg.Reorder == 0 && cfg.Bandwidth == 0
}

// Config returns the link's current conditions, with defaults filled in.
func (l *Link) Config() Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// Stats returns a snapshot of the link's counters.
func (l *Link) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Queued = len(l.heap)
	s.QueuedBytes = l.heldByte
	return s
}

// Send offers a datagram to the link at time now. The link copies b, so the
// caller may reuse it at once. It reports whether the datagram was accepted
// (false: dropped, and counted by reason).
func (l *Link) Send(now time.Time, b []byte) bool {
	return l.send(now, b, nil)
}

func (l *Link) send(now time.Time, b []byte, addr net.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Sent++
	l.stats.SentBytes += uint64(len(b))
	seq := l.seq
	l.seq++
	cfg := &l.cfg
	if len(b) > cfg.MaxDatagramSize {
		l.stats.DroppedOversize++
		return false
	}
	if l.perfect {
		if !l.admitLocked(len(b)) {
			l.stats.DroppedQueueFull++
			return false
		}
		l.pushLocked(now, seq, false, b, addr)
		return true
	}
	if l.lostLocked() {
		l.stats.DroppedLoss++
		return false
	}
	if !l.admitLocked(len(b)) {
		l.stats.DroppedQueueFull++
		return false
	}
	// Bandwidth: wait for the transmitter, then take size/rate to leave.
	depart := now
	if cfg.Bandwidth > 0 {
		if l.busy.After(depart) {
			depart = l.busy
		}
		depart = depart.Add(time.Duration(int64(len(b)) * int64(time.Second) / cfg.Bandwidth))
		l.busy = depart
	}
	d, held := l.delayLocked()
	at := depart.Add(d)
	if cfg.PreserveOrder && !held {
		if at.Before(l.lastAt) {
			at = l.lastAt
		}
		l.lastAt = at
	}
	if at.After(now) {
		l.stats.Delayed++
	}
	l.pushLocked(at, seq, false, b, addr)
	if cfg.Duplicate > 0 && l.delayRNG.Float64() < cfg.Duplicate && l.admitLocked(len(b)) {
		l.stats.Duplicated++
		d, _ := l.delayLocked()
		at := depart.Add(d)
		if at.After(now) {
			l.stats.Delayed++
		}
		l.pushLocked(at, seq, true, b, addr)
	}
	return true
}

// lostLocked draws the loss decision for one datagram.
func (l *Link) lostLocked() bool {
	cfg := &l.cfg
	lost := false
	if ge := &cfg.Burst; ge.Enabled() {
		if l.geBad {
			if l.lossRNG.Float64() < ge.BadToGood {
				l.geBad = false
			}
		} else if l.lossRNG.Float64() < ge.GoodToBad {
			l.geBad = true
		}
		p := ge.LossGood
		if l.geBad {
			p = ge.LossBad
		}
		if p > 0 && l.lossRNG.Float64() < p {
			lost = true
		}
	}
	if cfg.Loss > 0 && l.lossRNG.Float64() < cfg.Loss {
		lost = true
	}
	return lost
}

// delayLocked draws latency, jitter and reordering for one datagram; held
// reports that the Reorder delay was added.
func (l *Link) delayLocked() (d time.Duration, held bool) {
	cfg := &l.cfg
	d = cfg.Latency
	if cfg.Jitter > 0 {
		d += time.Duration(l.delayRNG.Int64N(2*int64(cfg.Jitter)+1)) - cfg.Jitter
		if d < 0 {
			d = 0
		}
	}
	if cfg.Reorder > 0 && l.delayRNG.Float64() < cfg.Reorder {
		d += cfg.ReorderDelay
		held = true
	}
	return d, held
}

// admitLocked reports whether the queue bounds leave room for a datagram
// of n bytes. (A duplicate copy that finds no room is simply not made.)
func (l *Link) admitLocked(n int) bool {
	return len(l.heap) < l.cfg.QueuePackets && l.heldByte+n <= l.cfg.QueueBytes
}

func (l *Link) pushLocked(at time.Time, seq uint64, dup bool, b []byte, addr net.Addr) {
	var buf []byte
	if n := len(l.free); n > 0 {
		buf = l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		l.freeCap -= cap(buf)
	}
	if cap(buf) < len(b) {
		buf = make([]byte, 0, max(len(b), minBufCap))
	}
	buf = append(buf[:0], b...)
	l.heldByte += len(b)
	l.heap = append(l.heap, pending{at: at, order: l.order, seq: seq, dup: dup, buf: buf, addr: addr})
	l.order++
	l.up(len(l.heap) - 1)
}

// NextDelivery returns when the earliest held datagram is due, and false
// when the link holds nothing.
func (l *Link) NextDelivery() (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.heap) == 0 {
		return time.Time{}, false
	}
	return l.heap[0].at, true
}

// Deliver calls fn, in arrival order, for every datagram due at or before
// now, and returns how many it delivered. b is only valid during the call.
// fn may call any method of the link.
func (l *Link) Deliver(now time.Time, fn func(b []byte)) int {
	n := 0
	for {
		l.mu.Lock()
		p, ok := l.popLocked(now)
		l.mu.Unlock()
		if !ok {
			return n
		}
		fn(p.buf)
		l.recycle(p.buf)
		n++
	}
}

// deliverAddr is Deliver with the address given to send.
func (l *Link) deliverAddr(now time.Time, fn func(b []byte, addr net.Addr)) int {
	n := 0
	for {
		l.mu.Lock()
		p, ok := l.popLocked(now)
		l.mu.Unlock()
		if !ok {
			return n
		}
		fn(p.buf, p.addr)
		l.recycle(p.buf)
		n++
	}
}

// readInto copies the next datagram due at or before now into dst
// (truncating it, like a UDP socket). It reports the length copied, the
// datagram's address, whether there was one, and when the next held
// datagram is due (zero time and false when none is held).
func (l *Link) readInto(now time.Time, dst []byte) (n int, addr net.Addr, ok bool, next time.Time, more bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.popLocked(now)
	if ok {
		n = copy(dst, p.buf)
		addr = p.addr
		l.recycleLocked(p.buf)
	}
	if len(l.heap) > 0 {
		next, more = l.heap[0].at, true
	}
	return n, addr, ok, next, more
}

func (l *Link) recycle(buf []byte) {
	l.mu.Lock()
	l.recycleLocked(buf)
	l.mu.Unlock()
}

// recycleLocked keeps buf for reuse unless the free list would then hold
// more capacity than a full queue of small datagrams needs (the larger of
// QueueBytes and QueuePackets×minBufCap). A Link's memory thus stays
// bounded: what it holds plus at most that much kept for reuse.
func (l *Link) recycleLocked(buf []byte) {
	if l.freeCap+cap(buf) > max(l.cfg.QueueBytes, l.cfg.QueuePackets*minBufCap) {
		return
	}
	l.free = append(l.free, buf)
	l.freeCap += cap(buf)
}

// popLocked removes the earliest datagram if it is due at or before now and
// updates the delivery counters.
func (l *Link) popLocked(now time.Time) (pending, bool) {
	if len(l.heap) == 0 || l.heap[0].at.After(now) {
		return pending{}, false
	}
	p := l.heap[0]
	last := len(l.heap) - 1
	l.heap[0] = l.heap[last]
	l.heap[last] = pending{}
	l.heap = l.heap[:last]
	if last > 0 {
		l.down(0)
	}
	l.heldByte -= len(p.buf)
	l.stats.Delivered++
	l.stats.DeliveredBytes += uint64(len(p.buf))
	if p.seq+1 < l.maxSeq {
		if !p.dup {
			l.stats.Reordered++
		}
	} else {
		l.maxSeq = p.seq + 1
	}
	return p, true
}

func (l *Link) less(i, j int) bool {
	a, b := &l.heap[i], &l.heap[j]
	if a.at.Equal(b.at) {
		return a.order < b.order
	}
	return a.at.Before(b.at)
}

func (l *Link) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !l.less(i, parent) {
			return
		}
		l.heap[i], l.heap[parent] = l.heap[parent], l.heap[i]
		i = parent
	}
}

func (l *Link) down(i int) {
	n := len(l.heap)
	for {
		left := 2*i + 1
		if left >= n {
			return
		}
		c := left
		if right := left + 1; right < n && l.less(right, left) {
			c = right
		}
		if !l.less(c, i) {
			return
		}
		l.heap[i], l.heap[c] = l.heap[c], l.heap[i]
		i = c
	}
}
