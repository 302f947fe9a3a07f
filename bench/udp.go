package main

import (
	"encoding/binary"
	"net"
	"time"
)

// udpRoundTrip measures n round trips of a 32-byte datagram on loopback
// through an echo goroutine on plain net.UDPConn sockets: the limit every
// protocol above UDP is measured against.
func udpRoundTrip(n int) (sample, error) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return sample{}, err
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			k, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = srv.WriteToUDPAddrPort(buf[:k], from)
		}
	}()
	c, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
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
		_ = c.SetReadDeadline(start.Add(time.Second))
		for {
			k, err := c.Read(buf)
			if err != nil {
				break // lost: the next one
			}
			if k >= 8 && binary.LittleEndian.Uint64(buf) == uint64(i) {
				if i >= n/10 {
					res.lat = append(res.lat, time.Since(start))
				}
				break
			}
		}
	}
	return res, nil
}
