package endpoint_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// epoch is the fixed start of every simulated run.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// pair is two endpoints joined by two simulated links (a→b and b→a), driven
// by an explicit clock. Every step delivers what is due, then flushes both.
type pair struct {
	t      testing.TB
	now    time.Time
	a, b   *endpoint.Endpoint
	ab, ba *netsim.Link

	// dropAB, when set, sees every packet a sends before the link does and
	// drops those it returns true for: a loss the test chooses.
	dropAB func(packet []byte) bool

	// Reused callbacks, so that stepping does not allocate.
	sendAB, sendBA func([]byte)
	recvA, recvB   func([]byte)
}

func newPair(t testing.TB, cfg endpoint.Config, ab, ba netsim.Config, seed uint64) *pair {
	t.Helper()
	p := &pair{t: t, now: epoch}
	var err error
	p.a, err = endpoint.NewEndpoint(cfg, p.now)
	require.NoError(t, err)
	p.b, err = endpoint.NewEndpoint(cfg, p.now)
	require.NoError(t, err)
	p.ab, err = netsim.NewLink(ab, seed)
	require.NoError(t, err)
	p.ba, err = netsim.NewLink(ba, seed+1)
	require.NoError(t, err)
	p.sendAB = func(b []byte) {
		if p.dropAB == nil || !p.dropAB(b) {
			p.ab.Send(p.now, b)
		}
	}
	p.sendBA = func(b []byte) { p.ba.Send(p.now, b) }
	p.recvA = func(b []byte) { checkReceive(p.t, p.a.Receive(p.now, b)) }
	p.recvB = func(b []byte) { checkReceive(p.t, p.b.Receive(p.now, b)) }
	return p
}

// checkReceive fails on errors a well-behaved peer never causes. Duplicates
// are expected over a duplicating link.
func checkReceive(t testing.TB, err error) {
	if err != nil && err != endpoint.ErrDuplicatePacket && err != endpoint.ErrStalePacket {
		t.Fatalf("Receive: %v", err)
	}
}

// deliver advances the clock by dt and hands both endpoints what arrived.
func (p *pair) deliver(dt time.Duration) {
	p.now = p.now.Add(dt)
	p.ab.Deliver(p.now, p.recvB)
	p.ba.Deliver(p.now, p.recvA)
}

// flush flushes both endpoints onto their links.
func (p *pair) flush() {
	p.a.Flush(p.now, p.sendAB)
	p.b.Flush(p.now, p.sendBA)
}

func (p *pair) step(dt time.Duration) {
	p.deliver(dt)
	p.flush()
}

// numbered returns a message of size bytes (at least 4) starting with n.
func numbered(n uint32, size int) []byte {
	b := make([]byte, max(size, 4))
	binary.LittleEndian.PutUint32(b, n)
	for i := 4; i < len(b); i++ {
		b[i] = byte(n) ^ byte(i)
	}
	return b
}

func number(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// patterned returns size bytes that differ at every offset, so a fragment
// put in the wrong place shows.
func patterned(size int, salt byte) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i) ^ byte(i>>8)*31 ^ byte(i>>16)*7 ^ salt
	}
	return b
}

// collect returns everything emitted by one Flush, copied.
func collect(e *endpoint.Endpoint, now time.Time) [][]byte {
	var out [][]byte
	e.Flush(now, func(p []byte) { out = append(out, append([]byte(nil), p...)) })
	return out
}
