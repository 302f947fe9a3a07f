package tokens

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"sync"
)

// A Picker chooses the game server a token names, for a room ("" for
// none). It must be safe for concurrent use. An error refuses the request
// (503 no_server).
type Picker interface {
	Pick(room string) (netip.AddrPort, error)
}

// PickerFunc adapts a function to a Picker.
type PickerFunc func(room string) (netip.AddrPort, error)

// Pick calls f(room).
func (f PickerFunc) Pick(room string) (netip.AddrPort, error) { return f(room) }

// ErrNoServer is what a Picker returns with no server to offer.
var ErrNoServer = errors.New("tokens: no game server available")

// StaticPicker picks among a fixed list of servers: a room always goes to
// the same server (rendezvous hashing of the room name over the list, so
// that adding or removing a server moves only the rooms of that server),
// and a request without a room goes to the next server in turn
// (round-robin). Create it with NewPicker; it is safe for concurrent use.
type StaticPicker struct {
	servers []netip.AddrPort
	mu      sync.Mutex
	next    int
}

// NewPicker returns a StaticPicker over servers (at least one, each a
// valid address, no duplicates).
func NewPicker(servers []netip.AddrPort) (*StaticPicker, error) {
	if len(servers) == 0 {
		return nil, errors.New("tokens: NewPicker: no server, want at least one host:port")
	}
	seen := make(map[netip.AddrPort]bool, len(servers))
	for _, s := range servers {
		if !s.IsValid() || s.Port() == 0 {
			return nil, fmt.Errorf("tokens: NewPicker: server %v, want an IP and a port 1..65535", s)
		}
		if seen[s] {
			return nil, fmt.Errorf("tokens: NewPicker: server %v listed twice", s)
		}
		seen[s] = true
	}
	return &StaticPicker{servers: append([]netip.AddrPort(nil), servers...)}, nil
}

// Pick returns room's server, or the next in turn for "".
func (p *StaticPicker) Pick(room string) (netip.AddrPort, error) {
	if room == "" {
		p.mu.Lock()
		defer p.mu.Unlock()
		s := p.servers[p.next]
		p.next = (p.next + 1) % len(p.servers)
		return s, nil
	}
	var best netip.AddrPort
	var bestScore uint64
	for i, s := range p.servers {
		h := fnv.New64a()
		h.Write([]byte(room))
		h.Write([]byte{0})
		b, _ := s.MarshalBinary()
		h.Write(b)
		if sc := h.Sum64(); i == 0 || sc > bestScore {
			best, bestScore = s, sc
		}
	}
	return best, nil
}
