package netcode

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// memoryClients is how many clients BenchmarkServerMemoryPerConn connects.
const memoryClients = 1000

// BenchmarkServerMemoryPerConn reports the heap a Server holds per
// connected client (B/conn), endpoint included, measured over 1000
// connections with the default config: idle (just accepted) and after a
// short exchange (5 rounds 30 ms apart, each a 20-byte input and a 32-byte
// reliable message from every client, a 120-byte snapshot and a 32-byte
// reliable message back, and the acks). The peers are dropped before the
// heap is read, so only the server's side counts. Its allocs/op are those
// of the whole setup; it is a measurement, not a hot path.
//
//	go test -run '^$' -bench ServerMemoryPerConn -benchtime 1x ./netcode/
func BenchmarkServerMemoryPerConn(b *testing.B) {
	for _, stage := range []struct {
		name   string
		rounds int
	}{{"idle", 0}, {"exchange", 5}} {
		b.Run(stage.name, func(b *testing.B) {
			var per float64
			for b.Loop() {
				per = serverHeapPerConn(b, memoryClients, stage.rounds)
			}
			b.ReportMetric(per, "B/conn")
		})
	}
}

// serverHeapPerConn connects n clients to a new Server, exchanges rounds
// rounds of traffic with them, and returns the server's heap growth over n.
func serverHeapPerConn(b *testing.B, n, rounds int) float64 {
	const basePort = 10000
	inbox := make([][][]byte, n) // by peer: datagrams the server sent it
	pc := &captureConn{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7000}, closed: make(chan struct{})}
	pc.onSend = func(to *net.UDPAddr, p []byte) {
		if i := to.Port - basePort; i < len(inbox) { // none once measured
			inbox[i] = append(inbox[i], append([]byte(nil), p...))
		}
	}
	s, err := NewServer(pc, ServerConfig{ProtocolID: 1, MaxClients: n, SendInline: true})
	require.NoError(b, err)
	defer s.Close()
	now := time.Now()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	type peer struct {
		addr netip.AddrPort
		conn *serverConn
		ep   *endpoint.Endpoint
		seq  uint64
		pkts [][]byte
	}
	peers := make([]*peer, n)
	for i := range peers {
		p := &peer{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(basePort+i))}
		h := hello{ClientNonce: uint64(i)}
		require.NoError(b, s.accept(ClientID(i+1), p.addr, &h, now))
		p.conn = s.byID[ClientID(i+1)]
		if rounds > 0 {
			p.ep, err = endpoint.NewEndpoint(s.common.endpoint, now)
			require.NoError(b, err)
		}
		peers[i] = p
	}
	s.batch.reset() // the accept packets
	input, reliable, snapshot := make([]byte, 20), make([]byte, 32), make([]byte, 120)
	var plain *packetCipher // insecure: no sealing
	peersFlush := func() {
		for _, p := range peers {
			p.ep.Flush(now, func(body []byte) {
				p.seq++
				p.pkts = append(p.pkts, plain.appendConnPacket(nil, connHeader{Type: ptPayload, ConnID: p.conn.connID, Seq: p.seq}, body))
			})
		}
	}
	peersReceive := func() {
		for i, p := range peers {
			for _, d := range inbox[i] {
				if h, k, err := decodeConnHeader(d); err == nil && h.Type == ptPayload {
					_ = p.ep.Receive(now, d[k:])
				}
			}
			inbox[i] = nil
			for ch := range 4 {
				for _, ok := p.ep.ReadMessage(ch); ok; _, ok = p.ep.ReadMessage(ch) {
				}
			}
		}
	}
	for r := range rounds {
		now = now.Add(30 * time.Millisecond)
		if r > 0 {
			peersReceive()
		}
		for _, p := range peers {
			_, err1 := p.ep.Send(1, input)
			_, err2 := p.ep.Send(0, reliable)
			require.NoError(b, err1)
			require.NoError(b, err2)
		}
		peersFlush()
		for _, p := range peers {
			for _, d := range p.pkts {
				s.handle(d, p.addr, now)
			}
			p.pkts = p.pkts[:0]
			for ch := range 4 {
				for _, ok := s.ReadMessage(p.conn.id, ch); ok; _, ok = s.ReadMessage(p.conn.id, ch) {
				}
			}
			_, err1 := s.Send(p.conn.id, 2, snapshot)
			_, err2 := s.Send(p.conn.id, 0, reliable)
			require.NoError(b, err1)
			require.NoError(b, err2)
		}
		s.Flush(now)
	}
	if rounds > 0 { // the peers' acks of the last round
		now = now.Add(30 * time.Millisecond)
		peersReceive()
		for _, p := range peers {
			p.ep.Ping()
		}
		peersFlush()
		for _, p := range peers {
			for _, d := range p.pkts {
				s.handle(d, p.addr, now)
			}
		}
		s.Flush(now)
	}
	require.Equal(b, n, s.Stats().Connected)
	require.Zero(b, s.Stats().Dropped())
	peers, inbox = nil, nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}
