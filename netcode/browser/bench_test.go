package browser

import (
	"context"
	"net"
	"testing"

	"github.com/tickwire/tickwire/netcode/netsim"
)

// benchSession hands out the same datagram forever and swallows sends.
type benchSession struct{ b []byte }

func (s *benchSession) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.b, nil
}
func (s *benchSession) SendDatagram([]byte) error { return nil }
func (s *benchSession) Close() error              { return nil }

// BenchmarkSessionDatagram: one datagram from a session through ReadFrom
// and one back through WriteTo (the session's own allocation of each
// received datagram, quic-go's, is not the Conn's).
func BenchmarkSessionDatagram(b *testing.B) {
	pipe, _ := netsim.Pipe(netsim.Config{}, netsim.Config{}, 1)
	c := NewConn(pipe, Config{})
	defer c.Close()
	addr, err := c.AddSession(&benchSession{b: make([]byte, 100)}, "")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1500)
	b.ReportAllocs()
	for b.Loop() {
		n, from, err := c.ReadFrom(buf)
		if err != nil || n != 100 || from != addr {
			b.Fatalf("ReadFrom = %d, %v, %v", n, from, err)
		}
		if _, err := c.WriteTo(buf[:n], addr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUDPDatagram: a native client's datagram through the Conn
// (the socket's reader goroutine and queue), against reading the socket
// directly.
func BenchmarkUDPDatagram(b *testing.B) {
	for _, merged := range []bool{false, true} {
		name := "direct"
		if merged {
			name = "conn"
		}
		b.Run(name, func(b *testing.B) {
			srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			var pc net.PacketConn = srv
			if merged {
				pc = NewConn(srv, Config{})
			}
			defer pc.Close()
			cl, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			msg, buf := make([]byte, 100), make([]byte, 1500)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cl.Write(msg); err != nil {
					b.Fatal(err)
				}
				if n, _, err := pc.ReadFrom(buf); err != nil || n != 100 {
					b.Fatalf("ReadFrom = %d, %v", n, err)
				}
			}
		})
	}
}
