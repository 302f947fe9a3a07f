package main

import (
	"encoding/binary"
	"sync"
	"time"

	kcp "github.com/xtaci/kcp-go/v5"

	"github.com/tickwire/tickwire/netcode"
)

// Ping-pong through the lossy proxy: the client sends a 32-byte reliable
// message every interval without waiting, the server echoes each at once,
// and the client records each round trip from the moment the ping was due
// to the moment its echo was read.

func twPingPong(n int, interval time.Duration, link linkConfig, seed uint64) (sample, error) {
	srv, err := startTWServer(func(s *netcode.Server, id netcode.ClientID, ch int, msg []byte) {
		_, _ = s.Send(id, ch, msg)
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
	c, err := dialTW(proxy.addr)
	if err != nil {
		return sample{}, err
	}
	defer c.Close()
	res := sample{expected: n}
	seen := make([]bool, n)
	msg := make([]byte, 32)
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	next := 0
	for len(res.lat) < n && time.Since(start) < time.Duration(n)*interval+5*time.Second {
		select {
		case <-tick.C:
		case <-c.Wake():
		}
		elapsed := time.Since(start)
		for ; next < n && time.Duration(next)*interval <= elapsed; next++ {
			binary.LittleEndian.PutUint64(msg, uint64(next))
			if _, err := c.Send(chReliable, msg); err != nil {
				return res, err
			}
		}
		if err := c.Update(time.Now()); err != nil {
			return res, err
		}
		for got, ok := c.ReadMessage(chReliable); ok; got, ok = c.ReadMessage(chReliable) {
			if i := binary.LittleEndian.Uint64(got); i < uint64(n) && !seen[i] {
				seen[i] = true
				res.lat = append(res.lat, time.Since(start)-time.Duration(i)*interval)
			}
		}
	}
	return res, nil
}

func kcpPingPong(n int, interval time.Duration, link linkConfig, seed uint64) (sample, error) {
	srv, err := startKCPServer(func(s *kcp.UDPSession, msg []byte) { _, _ = s.Write(msg) })
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
	var mu sync.Mutex
	res := sample{expected: n}
	seen := make([]bool, n)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 2048)
		_ = c.SetReadDeadline(start.Add(time.Duration(n)*interval + 5*time.Second))
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			if k < 8 {
				continue
			}
			mu.Lock()
			if i := binary.LittleEndian.Uint64(buf); i < uint64(n) && !seen[i] {
				seen[i] = true
				res.lat = append(res.lat, time.Since(start)-time.Duration(i)*interval)
			}
			done := len(res.lat) == n
			mu.Unlock()
			if done {
				return
			}
		}
	})
	msg := make([]byte, 32)
	for i := range n {
		if d := time.Duration(i)*interval - time.Since(start); d > 0 {
			time.Sleep(d)
		}
		binary.LittleEndian.PutUint64(msg, uint64(i))
		if _, err := c.Write(msg); err != nil {
			return res, err
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return sample{lat: append(res.lat[:0:0], res.lat...), expected: n}, nil
}
