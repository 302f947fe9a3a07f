package main

import (
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	kcp "github.com/xtaci/kcp-go/v5"
	"golang.org/x/net/ipv4"

	"github.com/tickwire/tickwire/netcode"
)

// rate is what one throughput run measured: messages (or datagrams) the
// receiver got per second, datagrams per second both ways (data and acks;
// plain UDP has none back), and heap allocations per message delivered
// (the whole process: both peers and their sockets).
type rate struct {
	msgs, datagrams, allocs float64
}

// allocs returns the heap allocations so far.
func allocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// udpThroughput sends size-byte datagrams one way for d, as fast as the
// sender goes, plain (one system call each) or batched (64 per sendmmsg and
// recvmmsg), and counts what the receiver reads.
func udpThroughput(size int, batched bool, d time.Duration) (rate, error) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return rate{}, err
	}
	defer rx.Close()
	_ = rx.SetReadBuffer(4 << 20)
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return rate{}, err
	}
	defer tx.Close()
	_ = tx.SetWriteBuffer(4 << 20)

	var got atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		if !batched {
			buf := make([]byte, 2048)
			for {
				if _, err := rx.Read(buf); err != nil {
					return
				}
				got.Add(1)
			}
		}
		pc := ipv4.NewPacketConn(rx)
		ms := make([]ipv4.Message, 64)
		for i := range ms {
			ms[i].Buffers = [][]byte{make([]byte, 2048)}
		}
		for {
			k, err := pc.ReadBatch(ms, 0)
			if err != nil {
				return
			}
			got.Add(int64(k))
		}
	})
	msg := make([]byte, size)
	var sent int64
	start := time.Now()
	a0 := allocs()
	if batched {
		pc := ipv4.NewPacketConn(tx)
		ms := make([]ipv4.Message, 64)
		for i := range ms {
			ms[i].Buffers = [][]byte{msg}
		}
		for time.Since(start) < d {
			k, err := pc.WriteBatch(ms, 0)
			if err != nil {
				return rate{}, err
			}
			sent += int64(k)
		}
	} else {
		for time.Since(start) < d {
			if _, err := tx.Write(msg); err != nil {
				return rate{}, err
			}
			sent++
		}
	}
	elapsed := time.Since(start)
	time.Sleep(50 * time.Millisecond) // let the receiver drain its buffer
	n := got.Load()
	a1 := allocs()
	_ = rx.Close()
	wg.Wait()
	return rate{msgs: float64(n) / elapsed.Seconds(), datagrams: float64(sent) / elapsed.Seconds(),
		allocs: float64(a1-a0) / float64(max(n, 1))}, nil
}

// twThroughput sends 32-byte messages on channel ch from a client to a
// server for d, queueing as many as the send queue takes at every Update,
// and counts what the server's game code reads.
func twThroughput(ch int, d time.Duration) (rate, error) {
	var got atomic.Int64
	srv, err := startTWServer(func(*netcode.Server, netcode.ClientID, int, []byte) { got.Add(1) })
	if err != nil {
		return rate{}, err
	}
	defer srv.close()
	c, err := dialTW(srv.addr())
	if err != nil {
		return rate{}, err
	}
	defer c.Close()
	msg := make([]byte, 32)
	st0 := c.Stats()
	start := time.Now()
	a0 := allocs()
	for i := 0; time.Since(start) < d; i++ {
		for range 256 {
			if _, err := c.Send(ch, msg); err != nil {
				if errors.Is(err, netcode.ErrSendQueueFull) {
					break
				}
				return rate{}, err
			}
		}
		if err := c.Update(time.Now()); err != nil {
			return rate{}, err
		}
		if ch == chReliable {
			c.Wait(time.Now().Add(time.Millisecond)) // a little, for acks to free the queue
		} else if i%4 == 3 {
			runtime.Gosched() // unreliable: let the server goroutine read
		}
	}
	elapsed := time.Since(start)
	n := got.Load()
	a1 := allocs()
	st1 := c.Stats()
	dgrams := st1.PacketsSent - st0.PacketsSent + st1.PacketsReceived - st0.PacketsReceived // both ways
	return rate{msgs: float64(n) / elapsed.Seconds(), datagrams: float64(dgrams) / elapsed.Seconds(),
		allocs: float64(a1-a0) / float64(max(n, 1))}, nil
}

// kcpThroughput writes 32-byte messages for d (Write blocks when the send
// window is full) and counts what the server session reads.
func kcpThroughput(d time.Duration) (rate, error) {
	var got atomic.Int64
	srv, err := startKCPServer(func(*kcp.UDPSession, []byte) { got.Add(1) })
	if err != nil {
		return rate{}, err
	}
	defer srv.close()
	c, err := dialKCP(srv.addr())
	if err != nil {
		return rate{}, err
	}
	defer c.Close()
	msg := make([]byte, 32)
	out0 := kcp.DefaultSnmp.Copy().OutPkts
	start := time.Now()
	a0 := allocs()
	for i := uint64(0); time.Since(start) < d; i++ {
		binary.LittleEndian.PutUint64(msg, i)
		if _, err := c.Write(msg); err != nil {
			return rate{}, err
		}
	}
	elapsed := time.Since(start)
	n := got.Load()
	a1 := allocs()
	out := kcp.DefaultSnmp.Copy().OutPkts - out0 // both sessions' datagrams: data one way, acks back
	return rate{msgs: float64(n) / elapsed.Seconds(), datagrams: float64(out) / elapsed.Seconds(),
		allocs: float64(a1-a0) / float64(max(n, 1))}, nil
}
