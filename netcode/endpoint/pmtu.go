package endpoint

import "time"

// pathMTU searches for the largest packet the path carries, between
// Config.MaxPacketSize (assumed to work) and Config.MaxPathMTU, with probes:
// a ping and padding, sent alone, that the peer must acknowledge. Frames
// are still cut for MaxPacketSize (messages are fragmented for it), so a
// larger packet only carries more of them, and falling back never leaves a
// frame that does not fit.
type pathMTU struct {
	on        bool
	base      int // Config.MaxPacketSize: what always works
	lo, hi    int // lo works; hi is the largest size not known to fail
	size      int // the packet size Flush builds now (lo)
	probing   bool
	probeSeq  seqNum
	probeSize int
	max       int           // Config.MaxPathMTU
	triedMax  bool          // the first probe, of max, has been answered or lost
	fails     int           // losses of probes of probeSize in a row
	nextProbe time.Duration // no probe before
	bigLost   int           // packets above base lost in a row, none acked
}

const (
	// pmtuStep ends the search: the path MTU is known within it.
	pmtuStep = 16
	// pmtuFailures lost probes of one size mark it too large.
	pmtuFailures = 2
	// pmtuBlackHole packets above base lost in a row, with none of them
	// acknowledged, make the endpoint fall back to base.
	pmtuBlackHole = 3
	// pmtuRetry is how long after a fallback the search starts again.
	pmtuRetry = 10 * time.Second
)

func newPathMTU(cfg Config) pathMTU {
	p := pathMTU{base: cfg.MaxPacketSize, lo: cfg.MaxPacketSize, hi: cfg.MaxPacketSize, size: cfg.MaxPacketSize}
	if cfg.MaxPathMTU > cfg.MaxPacketSize {
		p.on, p.hi, p.max = true, cfg.MaxPathMTU, cfg.MaxPathMTU
	}
	return p
}

// due returns the size of the probe to send at, or 0 when none is due.
func (p *pathMTU) due(at time.Duration) int {
	if !p.on || p.probing || at < p.nextProbe || p.lo >= p.hi {
		return 0
	}
	if !p.triedMax {
		return p.hi // most paths carry the maximum: try it first
	}
	if p.hi-p.lo < pmtuStep {
		return 0
	}
	return p.lo + (p.hi-p.lo+1)/2
}

// sent records that a probe of size left in packet seq.
func (p *pathMTU) sent(seq seqNum, size int) {
	p.probing, p.probeSeq, p.probeSize = true, seq, size
}

// acked takes the acknowledgement of packet seq of size bytes.
func (p *pathMTU) acked(seq seqNum, size int) {
	if !p.on {
		return
	}
	if size > p.base {
		p.bigLost = 0
	}
	if p.probing && seq == p.probeSeq {
		p.probing, p.fails, p.triedMax = false, 0, true
		p.lo = max(p.lo, p.probeSize)
		p.size = p.lo
	}
}

// lost takes the loss of packet seq of size bytes at time at; retry is
// how long to wait before probing again.
func (p *pathMTU) lost(seq seqNum, size int, at, retry time.Duration) {
	if !p.on {
		return
	}
	if p.probing && seq == p.probeSeq {
		p.probing = false
		p.fails++
		if p.fails >= pmtuFailures {
			p.hi, p.fails, p.triedMax = p.probeSize-1, 0, true
		}
		p.nextProbe = at + retry
		return
	}
	if size > p.base {
		p.bigLost++
		if p.bigLost >= pmtuBlackHole {
			// Large packets stopped arriving (the path changed): back to
			// what always works, and search again later.
			p.size, p.lo, p.bigLost, p.fails, p.probing = p.base, p.base, 0, 0, false
			p.hi, p.triedMax = p.max, false
			p.nextProbe = at + pmtuRetry
		}
	}
}
