package main

import (
	"encoding/binary"
	"sync"
	"time"

	kcp "github.com/xtaci/kcp-go/v5"
)

// kcpFast puts a session in the fast mode kcp-go's README recommends:
// no delay, a 10 ms internal interval, fast resend after 2 duplicate acks,
// no congestion control, windows of 1024, no write delay, acks at once.
// Messages keep their boundaries (stream mode off, the default).
func kcpFast(s *kcp.UDPSession) {
	s.SetNoDelay(1, 10, 2, 1)
	s.SetWindowSize(1024, 1024)
	s.SetWriteDelay(false)
	s.SetACKNoDelay(true)
	_ = s.SetReadBuffer(4 << 20)
	_ = s.SetWriteBuffer(4 << 20)
}

// kcpServer accepts sessions on loopback and runs onMessage for every
// message read, in a goroutine per session.
type kcpServer struct {
	l    *kcp.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	sess []*kcp.UDPSession
}

func startKCPServer(onMessage func(s *kcp.UDPSession, msg []byte)) (*kcpServer, error) {
	l, err := kcp.ListenWithOptions("127.0.0.1:0", nil, 0, 0)
	if err != nil {
		return nil, err
	}
	t := &kcpServer{l: l}
	t.wg.Go(func() {
		for {
			s, err := l.AcceptKCP()
			if err != nil {
				return
			}
			kcpFast(s)
			t.mu.Lock()
			t.sess = append(t.sess, s)
			t.mu.Unlock()
			t.wg.Go(func() {
				buf := make([]byte, 2048)
				for {
					k, err := s.Read(buf)
					if err != nil {
						return
					}
					onMessage(s, buf[:k])
				}
			})
		}
	})
	return t, nil
}

func (t *kcpServer) addr() string { return t.l.Addr().String() }

func (t *kcpServer) close() {
	_ = t.l.Close()
	t.mu.Lock()
	for _, s := range t.sess {
		_ = s.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}

func dialKCP(addr string) (*kcp.UDPSession, error) {
	s, err := kcp.DialWithOptions(addr, nil, 0, 0)
	if err != nil {
		return nil, err
	}
	kcpFast(s)
	return s, nil
}

// kcpRoundTrip measures n round trips of a 32-byte message, one at a time,
// through a server session that echoes it.
func kcpRoundTrip(n int) (sample, error) {
	srv, err := startKCPServer(func(s *kcp.UDPSession, msg []byte) { _, _ = s.Write(msg) })
	if err != nil {
		return sample{}, err
	}
	defer srv.close()
	c, err := dialKCP(srv.addr())
	if err != nil {
		return sample{}, err
	}
	defer c.Close()
	msg, buf := make([]byte, 32), make([]byte, 2048)
	res := sample{expected: n}
	for i := range n + n/10 {
		binary.LittleEndian.PutUint64(msg, uint64(i))
		start := time.Now()
		if _, err := c.Write(msg); err != nil {
			return res, err
		}
		for {
			k, err := c.Read(buf)
			if err != nil {
				return res, err
			}
			if k >= 8 && binary.LittleEndian.Uint64(buf) == uint64(i) {
				break
			}
		}
		if i >= n/10 {
			res.lat = append(res.lat, time.Since(start))
		}
	}
	return res, nil
}

// kcpStream is twStream for kcp-go: n 32-byte messages at rate per second,
// client to server through the lossy proxy.
func kcpStream(n, rate int, link linkConfig, seed uint64) (sample, error) {
	var mu sync.Mutex
	start := time.Now()
	lat := make([]time.Duration, 0, n)
	seen := make([]bool, n)
	srv, err := startKCPServer(func(_ *kcp.UDPSession, msg []byte) {
		if len(msg) < 16 {
			return
		}
		i := binary.LittleEndian.Uint64(msg)
		due := time.Duration(binary.LittleEndian.Uint64(msg[8:]))
		mu.Lock()
		defer mu.Unlock()
		if i < uint64(n) && !seen[i] {
			seen[i] = true
			lat = append(lat, time.Since(start)-due)
		}
	})
	if err != nil {
		return sample{}, err
	}
	defer srv.close()
	proxy, err := startProxy(srv.addr(), link, seed)
	if err != nil {
		return sample{}, err
	}
	defer proxy.close()
	c, err := dialKCP(proxy.addr)
	if err != nil {
		return sample{}, err
	}
	defer c.Close()

	start = time.Now()
	interval := time.Second / time.Duration(rate)
	msg := make([]byte, 32)
	next := 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	var drainUntil time.Time
	for {
		<-tick.C
		elapsed := time.Since(start)
		for ; next < n && time.Duration(next)*interval <= elapsed; next++ {
			binary.LittleEndian.PutUint64(msg, uint64(next))
			binary.LittleEndian.PutUint64(msg[8:], uint64(time.Duration(next)*interval))
			if _, err := c.Write(msg); err != nil {
				return sample{}, err
			}
		}
		mu.Lock()
		all := len(lat) == n
		mu.Unlock()
		if next == n && drainUntil.IsZero() {
			drainUntil = time.Now().Add(5 * time.Second)
		}
		if all || (!drainUntil.IsZero() && time.Now().After(drainUntil)) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return sample{lat: append([]time.Duration(nil), lat...), expected: n}, nil
}
