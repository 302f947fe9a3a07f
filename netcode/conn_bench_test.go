package netcode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/endpoint"
)

// BenchmarkServerReceivePath measures one packet through the connection
// layer's receive path on the server — header decode, replay window, AEAD
// open (secure), endpoint Receive, ReadMessage — fed directly, without the
// socket. Each op also includes the peer's Send + Flush + seal that builds
// the packet. Target: 0 allocs/op.
func BenchmarkServerReceivePath(b *testing.B) {
	for _, secure := range []bool{false, true} {
		name := "insecure"
		if secure {
			name = "secure"
		}
		b.Run(name, func(b *testing.B) {
			pc := listenLoopback(b)
			key := [KeySize]byte{1}
			cfg := ServerConfig{ProtocolID: 1}
			if secure {
				cfg.TokenKey = &key
			}
			s, err := NewServer(pc, cfg)
			require.NoError(b, err)
			defer s.Close()
			now := time.Now()
			from := netip.MustParseAddrPort("127.0.0.1:9")
			h := hello{ClientNonce: 1}
			var peerCipher *packetCipher
			if secure {
				s.priv = privateToken{ClientID: 5, C2SKey: [KeySize]byte{2}, S2CKey: [KeySize]byte{3}}
				peerCipher, err = newPacketCipher(s.priv.C2SKey, s.priv.S2CKey)
				require.NoError(b, err)
			}
			require.NoError(b, s.accept(5, from, &h, now))
			s.batch.reset()
			c := s.byID[5]
			peer, err := endpoint.NewEndpoint(s.common.endpoint, now)
			require.NoError(b, err)

			msg := make([]byte, 32)
			buf := make([]byte, 0, maxDatagramSize)
			var pkt []byte
			var seq uint64
			emit := func(p []byte) {
				seq++
				pkt = peerCipher.appendConnPacket(buf[:0], connHeader{Type: ptPayload, ConnID: c.connID, Seq: seq}, p)
			}
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(time.Millisecond)
				if _, err := peer.Send(1, msg); err != nil {
					b.Fatal(err)
				}
				peer.Flush(now, emit)
				s.handle(pkt, from, now)
				if _, ok := s.ReadMessage(5, 1); !ok {
					b.Fatal("message not delivered")
				}
			}
			if s.stats.Dropped() != 0 {
				b.Fatalf("dropped: %+v", s.stats)
			}
		})
	}
}

// udpEcho echoes every datagram on pc until pc is closed.
func udpEcho(pc *net.UDPConn) {
	buf := make([]byte, maxDatagramSize)
	for {
		n, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		_, _ = pc.WriteToUDPAddrPort(buf[:n], from)
	}
}

const (
	echoWindow = 32 // datagrams in flight
	echoBatch  = 2000
)

// rawEchoRound sends echoBatch datagrams through a plain UDP echo, keeping
// echoWindow in flight, and returns the time taken.
func rawEchoRound(b *testing.B, cli *net.UDPConn, srv netip.AddrPort) time.Duration {
	msg := make([]byte, 32)
	buf := make([]byte, maxDatagramSize)
	start := time.Now()
	sent, got := 0, 0
	for ; sent < echoWindow; sent++ {
		_, _ = cli.WriteToUDPAddrPort(msg, srv)
	}
	for got < echoBatch {
		_ = cli.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := cli.ReadFromUDPAddrPort(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_, _ = cli.WriteToUDPAddrPort(msg, srv) // lost: refill the window
				continue
			}
			b.Fatal(err)
		}
		got++
		if sent < echoBatch {
			_, _ = cli.WriteToUDPAddrPort(msg, srv)
			sent++
		}
	}
	return time.Since(start)
}

// tickwireEchoServer echoes every message on channel 1, one packet each.
func tickwireEchoServer(s *Server, done <-chan struct{}) {
	ids := make([]ClientID, 0, 4)
	for {
		select {
		case <-done:
			return
		case <-s.Wake():
		}
		now := time.Now()
		s.Update(now)
		ids = s.AppendClients(ids[:0])
		for _, id := range ids {
			for m, ok := s.ReadMessage(id, 1); ok; m, ok = s.ReadMessage(id, 1) {
				_, _ = s.Send(id, 1, m)
				s.Flush(now)
			}
		}
	}
}

// tickwireEchoRound does rawEchoRound's job through a Tickwire connection,
// one unreliable message per packet.
func tickwireEchoRound(b *testing.B, c *Client) time.Duration {
	msg := make([]byte, 32)
	start := time.Now()
	sent, got := 0, 0
	send := func(now time.Time) {
		if _, err := c.Send(1, msg); err != nil {
			b.Fatal(err)
		}
		c.Flush(now)
		sent++
	}
	now := time.Now()
	for sent < echoWindow {
		send(now)
	}
	timer := time.NewTimer(50 * time.Millisecond)
	defer timer.Stop()
	for got < echoBatch {
		timer.Reset(50 * time.Millisecond)
		select {
		case <-c.Wake():
		case <-timer.C:
			send(time.Now()) // lost: refill the window
			continue
		}
		now = time.Now()
		if err := c.Update(now); err != nil {
			b.Fatal(err)
		}
		for _, ok := c.ReadMessage(1); ok; _, ok = c.ReadMessage(1) {
			got++
			if sent < echoBatch {
				send(now)
			}
		}
	}
	return time.Since(start)
}

// BenchmarkEchoThroughput compares, in the same run, the echo throughput of
// a plain net.UDPConn with that of a Tickwire connection (32-byte
// unreliable messages, one per packet, echoWindow in flight), both over
// loopback. Metrics: udp-pkts/s, tickwire-pkts/s and their ratio.
func BenchmarkEchoThroughput(b *testing.B) {
	for _, secure := range []bool{false, true} {
		name := "insecure"
		if secure {
			name = "secure"
		}
		b.Run(name, func(b *testing.B) {
			rawSrv, rawCli := listenLoopback(b), listenLoopback(b)
			defer rawCli.Close()
			go udpEcho(rawSrv)
			defer rawSrv.Close()
			rawAddr := rawSrv.LocalAddr().(*net.UDPAddr).AddrPort()

			key := [KeySize]byte{7}
			scfg := ServerConfig{ProtocolID: 2}
			ccfg := ClientConfig{ProtocolID: 2}
			srv, err := NewServer(listenLoopback(b), scfg)
			if secure {
				srv.Close()
				scfg.TokenKey = &key
				srv, err = NewServer(listenLoopback(b), scfg)
			}
			require.NoError(b, err)
			srvAddr := srv.Addr().(*net.UDPAddr).AddrPort()
			if secure {
				tok, err := IssueConnectToken(key, ConnectToken{ProtocolID: 2, ClientID: 1, Expires: time.Now().Add(time.Hour),
					ServerAddrs: []netip.AddrPort{srvAddr}}, newSeededReader(1))
				require.NoError(b, err)
				ccfg.Token = tok
			}
			done := make(chan struct{})
			stopped := make(chan struct{})
			go func() { tickwireEchoServer(srv, done); close(stopped) }()
			defer func() { close(done); <-stopped; srv.Close() }()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cli, err := DialConn(ctx, listenLoopback(b), srvAddr, ccfg)
			require.NoError(b, err)
			defer cli.Close()

			var rawT, twT time.Duration
			var ms runtime.MemStats
			var mallocs uint64
			rounds := 0
			b.ReportAllocs()
			for b.Loop() {
				if rounds == 1 { // the first round warms up pools and buffers
					runtime.ReadMemStats(&ms)
					mallocs = ms.Mallocs
				}
				rawT += rawEchoRound(b, rawCli, rawAddr)
				twT += tickwireEchoRound(b, cli)
				rounds++
			}
			if rounds > 1 {
				// Every allocation of the process (both echoes, all goroutines)
				// after the first round, per Tickwire echo: send, server
				// receive + echo, client receive.
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.Mallocs-mallocs)/float64((rounds-1)*echoBatch), "allocs/echo")
			}
			n := float64(rounds * echoBatch)
			raw, tw := n/rawT.Seconds(), n/twT.Seconds()
			b.ReportMetric(raw, "udp-pkts/s")
			b.ReportMetric(tw, "tickwire-pkts/s")
			b.ReportMetric(tw/raw, "ratio")
		})
	}
}

// benchPeer is a client of a benchmark's server, simulated by an endpoint
// of its own: the datagrams the server sent it, and the one it built.
type benchPeer struct {
	addr  netip.AddrPort
	conn  *serverConn
	ep    *endpoint.Endpoint
	seq   uint64
	pkt   []byte   // the datagram its last flush built, or empty
	inbox [][]byte // the datagrams the server sent it since its last receive
}

// newBenchServer returns a Server over a captureConn (cfg should set
// SendInline) with n clients connected, each a benchPeer whose inbox gets
// what the server sends it (up to 4 datagrams between receives; their
// buffers are reused).
func newBenchServer(b *testing.B, n int, cfg ServerConfig, now time.Time) (*Server, []*benchPeer) {
	const basePort = 10000
	peers := make([]*benchPeer, n)
	pc := &captureConn{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7000}, closed: make(chan struct{})}
	pc.onSend = func(to *net.UDPAddr, d []byte) {
		box := &peers[to.Port-basePort].inbox
		if len(*box) < cap(*box) {
			*box = (*box)[:len(*box)+1]
			(*box)[len(*box)-1] = append((*box)[len(*box)-1][:0], d...)
		}
	}
	s, err := NewServer(pc, cfg)
	require.NoError(b, err)
	for i := range peers {
		p := &benchPeer{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(basePort+i)), inbox: make([][]byte, 0, 4)}
		peers[i] = p // before the accept, whose packet may leave at once
		h := hello{ClientNonce: uint64(i)}
		require.NoError(b, s.accept(ClientID(i+1), p.addr, &h, now))
		p.conn = s.byID[ClientID(i+1)]
		p.ep, err = endpoint.NewEndpoint(s.common.endpoint, now)
		require.NoError(b, err)
		p.pkt = make([]byte, 0, maxDatagramSize)
	}
	s.batch.reset() // the accept packets not yet written
	return s, peers
}

// receive hands the peer's endpoint what the server sent it.
func (p *benchPeer) receive(now time.Time) {
	for _, d := range p.inbox {
		if h, k, err := decodeConnHeader(d); err == nil && h.Type == ptPayload {
			_ = p.ep.Receive(now, d[k:])
		}
	}
	p.inbox = p.inbox[:0]
}

// flush builds the peer's datagram of this tick into pkt: empty when its
// endpoint had nothing to send (no sealing: insecure mode).
func (p *benchPeer) flush(now time.Time) {
	var plain *packetCipher
	p.pkt = p.pkt[:0]
	p.ep.Flush(now, func(body []byte) {
		p.seq++
		p.pkt = plain.appendConnPacket(p.pkt[:0], connHeader{Type: ptPayload, ConnID: p.conn.connID, Seq: p.seq}, body)
	})
}

// captureConn is a net.PacketConn whose writes are kept for the benchmark to
// hand to the peers, and whose reads block until Close.
type captureConn struct {
	local  *net.UDPAddr
	closed chan struct{}
	onSend func(to *net.UDPAddr, b []byte)
}

func (c *captureConn) ReadFrom([]byte) (int, net.Addr, error) {
	<-c.closed
	return 0, nil, net.ErrClosed
}

func (c *captureConn) WriteTo(b []byte, to net.Addr) (int, error) {
	c.onSend(to.(*net.UDPAddr), b)
	return len(b), nil
}

func (c *captureConn) Close() error {
	close(c.closed)
	return nil
}
func (c *captureConn) LocalAddr() net.Addr              { return c.local }
func (c *captureConn) SetDeadline(time.Time) error      { return nil }
func (c *captureConn) SetReadDeadline(time.Time) error  { return nil }
func (c *captureConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkServerTick measures the connection layer's share of one game
// tick with many clients: every client's packet (a 20-byte input) through
// the receive path, ReadMessage for each, a 120-byte snapshot to half of
// them (30 Hz snapshots on 60 Hz ticks), and the Flush that builds their
// packets. The peers' own work (building their packets, reading the
// server's) is outside the timer. With a thousand clients the state of each
// is far from the CPU caches, so this shows memory cost that the one-client
// BenchmarkServerReceivePath hides. Target: 0 allocs/op.
func BenchmarkServerTick(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			now := time.Now()
			s, peers := newBenchServer(b, n, ServerConfig{ProtocolID: 1, MaxClients: n, SendInline: true, Endpoint: endpoint.Config{AckDelay: 40 * time.Millisecond}}, now)
			defer s.Close()
			input, snapshot := make([]byte, 20), make([]byte, 120)
			tick := 0
			peersBuild := func() {
				now = now.Add(time.Second / 60)
				for _, p := range peers {
					p.receive(now)
					for _, ok := p.ep.ReadMessage(2); ok; _, ok = p.ep.ReadMessage(2) {
					}
					if _, err := p.ep.Send(1, input); err != nil {
						b.Fatal(err)
					}
					p.flush(now)
				}
			}
			serverTick := func() {
				for _, p := range peers {
					s.handle(p.pkt, p.addr, now)
				}
				for i, p := range peers {
					if _, ok := s.ReadMessage(p.conn.id, 1); !ok {
						b.Fatal("input not delivered")
					}
					if i%2 == tick%2 {
						if _, err := s.Send(p.conn.id, 2, snapshot); err != nil {
							b.Fatal(err)
						}
					}
				}
				s.Flush(now)
				tick++
			}
			runBenchTicks(b, s, n, peersBuild, serverTick)
		})
	}
}

// benchWarmTicks is how many ticks runBenchTicks runs before it measures.
const benchWarmTicks = 100

// runBenchTicks runs benchWarmTicks ticks (the figure is the steady state
// of a running server), then times serverTick alone, each after an
// untimed peersBuild, reports the time per client, and fails if the
// server dropped anything.
func runBenchTicks(b *testing.B, s *Server, n int, peersBuild, serverTick func()) {
	for range benchWarmTicks {
		peersBuild()
		serverTick()
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		peersBuild()
		b.StartTimer()
		serverTick()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/client")
	if d := s.Stats().Dropped(); d != 0 {
		b.Fatalf("dropped %d: %+v", d, s.Stats())
	}
}
