package netcode

import (
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// maxRateSources bounds the per-source rate limiters a server keeps: about
// 0.5 MiB at most. Beyond it, the idle ones are dropped (at most once a
// second, a sweep), then an arbitrary one: a flood from many spoofed
// sources then defeats the per-source limit, and the unverified queue's
// bound is what caps the handshake work per tick.
const maxRateSources = 4096

// datagramClass is what the reader can tell of a datagram from an address
// with no connection without decoding it.
type datagramClass uint8

const (
	classHello     datagramClass = iota + 1 // request or response size and type: worth queuing
	classConnected                          // a connected packet type: no connection to take it
	classMalformed                          // nothing the server reads
)

// sourceFilter is the part of a server's receiver that keeps unverified
// traffic away from established connections. Datagrams from addresses of
// established connections (known) go to the main queue. From any other
// address only a handshake packet (exactly helloSize bytes, request or
// response type) is queued, in a queue of its own bounded by unverCap, and
// only within the per-source rate limit; everything else is dropped and
// counted before it costs the game loop anything. When the pool of buffers
// is empty, a known source's datagram takes the place of a queued
// handshake (evicted), so established connections never lose a datagram to
// queue space while a handshake is queued.
//
// known and the limiters are used under the receiver's mutex (known is
// changed by the Update goroutine, the rest only by the reader); the
// counters are read from any goroutine.
type sourceFilter struct {
	known    map[netip.AddrPort]struct{}
	unverCap int

	limit     rate.Limit
	burst     int
	limiters  map[netip.AddrPort]*rate.Limiter
	lastSweep time.Time

	malformed   atomic.Uint64 // neither a handshake nor a connected packet
	unknownAddr atomic.Uint64 // a connected packet from an address with no connection
	rateLimited atomic.Uint64 // a handshake over its source's rate
	unverFull   atomic.Uint64 // a handshake that found its queue full
	evicted     atomic.Uint64 // a queued handshake whose buffer a connection's datagram took
}

func newSourceFilter(unverCap, perSecond int) *sourceFilter {
	return &sourceFilter{
		known:    make(map[netip.AddrPort]struct{}),
		unverCap: unverCap,
		limit:    rate.Limit(perSecond),
		burst:    perSecond,
		limiters: make(map[netip.AddrPort]*rate.Limiter),
	}
}

func (f *sourceFilter) isKnown(a netip.AddrPort) bool {
	_, ok := f.known[a]
	return ok
}

// classify tells what d, from an unknown address, can be, and counts the
// drop of what is not a handshake.
func (f *sourceFilter) classify(d *datagram) datagramClass {
	b := d.buf[:d.n]
	if len(b) == 0 {
		f.malformed.Add(1)
		return classMalformed
	}
	switch connPacketType(b[0]) {
	case ptRequest, ptResponse:
		if len(b) == helloSize {
			return classHello
		}
	case ptPayload, ptDisconnect:
		f.unknownAddr.Add(1)
		return classConnected
	}
	f.malformed.Add(1)
	return classMalformed
}

// admitUnknown reports whether d, from an unknown address, may join the
// unverified queue, which holds queued datagrams: it must be a handshake,
// find room, and be within its source's rate. Every refusal is counted.
func (f *sourceFilter) admitUnknown(d *datagram, queued int) bool {
	if f.classify(d) != classHello {
		return false
	}
	if queued >= f.unverCap {
		f.unverFull.Add(1)
		return false
	}
	if !f.allow(d.from, d.at) {
		f.rateLimited.Add(1)
		return false
	}
	return true
}

// allow takes one token from the rate limiter of the source from.
func (f *sourceFilter) allow(from netip.AddrPort, at time.Time) bool {
	l := f.limiters[from]
	if l == nil {
		if len(f.limiters) >= maxRateSources {
			f.evict(at)
		}
		l = rate.NewLimiter(f.limit, f.burst)
		f.limiters[from] = l
	}
	return l.AllowN(at, 1)
}

// evict makes room for one more limiter: it forgets the sources whose
// bucket has refilled (they have been quiet; a new limiter for them starts
// full, as the old one is), at most once a second, then any one source if
// that freed nothing.
func (f *sourceFilter) evict(at time.Time) {
	if at.Sub(f.lastSweep) >= time.Second || at.Before(f.lastSweep) {
		f.lastSweep = at
		for a, l := range f.limiters {
			if l.TokensAt(at) >= float64(f.burst) {
				delete(f.limiters, a)
			}
		}
	}
	for a := range f.limiters {
		if len(f.limiters) < maxRateSources {
			break
		}
		delete(f.limiters, a)
	}
}
