// Package inputlog records, in tests of a game over a real server, which
// input of each tick reached the server and when: a Log wraps the server's
// NetcodeTransport and reads every input message the server reads. It is
// for tests only.
package inputlog

import (
	"sync"

	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/wire"
)

// Arrival is the first copy of a tick's input that reached the server.
type Arrival[I any] struct {
	At uint32 // the server tick at whose start it was read
	In I      // the input, decoded
}

// Log is a server.Transport that records input arrivals. Give it to
// server.New, then tell it the server with SetServer before the server
// runs. Arrivals is safe from any goroutine.
type Log[I any] struct {
	*server.NetcodeTransport
	decode func([]byte) (I, bool)

	mu      sync.Mutex
	srv     *server.Server
	arrived map[server.ClientID]map[uint32]Arrival[I]
	msg     wire.InputMessage
}

// New wraps tr; decode turns one tick's input bytes into I (ok false: the
// input is not recorded).
func New[I any](tr *server.NetcodeTransport, decode func([]byte) (I, bool)) *Log[I] {
	return &Log[I]{NetcodeTransport: tr, decode: decode, arrived: map[server.ClientID]map[uint32]Arrival[I]{}}
}

// SetServer names the server whose ticks time the arrivals.
func (l *Log[I]) SetServer(srv *server.Server) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.srv = srv
}

// ReadMessage is the transport's, recording the inputs of every input
// message it returns.
func (l *Log[I]) ReadMessage(c server.ClientID, ch int) ([]byte, bool) {
	b, ok := l.NetcodeTransport.ReadMessage(c, ch)
	if !ok || ch != server.DefaultInputChannel || wire.DecodeInputMessage(b, &l.msg) != nil {
		return b, ok
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.srv.Tick()
	m := l.arrived[c]
	if m == nil {
		m = map[uint32]Arrival[I]{}
		l.arrived[c] = m
	}
	for i, in := range l.msg.Inputs {
		tick := l.msg.NewestTick - uint32(i)
		if _, seen := m[tick]; seen {
			continue
		}
		if v, ok := l.decode(in); ok {
			m[tick] = Arrival[I]{At: now, In: v}
		}
	}
	return b, ok
}

// Arrivals returns a copy of client c's record, by tick.
func (l *Log[I]) Arrivals(c server.ClientID) map[uint32]Arrival[I] {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[uint32]Arrival[I], len(l.arrived[c]))
	for k, v := range l.arrived[c] {
		out[k] = v
	}
	return out
}
