package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xtaci/kcp-go/v5"

	"github.com/tickwire/tickwire/netcode"
)

// The capped-link workload: a client streams 1000-byte messages at 160/s
// (1.28 Mbit/s of payload) for cappedFor through the netsim proxy capped
// at 1 Mbit/s each way with 50 ms one way, more than the link carries.
const (
	cappedSize = 1000
	cappedRate = 160
	cappedCap  = 1_000_000 / 8
	cappedFor  = 10 * time.Second
	// cappedDrain is how long a run waits after the last message for the
	// backlog; messages delivered then count in the latency, not the rate.
	cappedDrain = 3 * time.Second
)

// cappedResult is one capped-link run.
type cappedResult struct {
	lat       []time.Duration
	delivered int // payload bytes delivered while the stream ran
}

// cappedRow is a capped-link row of the report.
type cappedRow struct {
	name           string
	kbps, p50, p99 figure
}

func cappedLink() linkConfig {
	return linkConfig{latency: 50 * time.Millisecond, bandwidth: cappedCap}
}

// cappedRecorder collects deliveries from the server's goroutine.
type cappedRecorder struct {
	mu    sync.Mutex
	start time.Time
	seen  []bool
	res   cappedResult
}

func newCappedRecorder() *cappedRecorder {
	return &cappedRecorder{start: time.Now(), seen: make([]bool, int(cappedFor.Seconds())*cappedRate+1)}
}

func (r *cappedRecorder) got(msg []byte) {
	if len(msg) < 16 {
		return
	}
	i := binary.LittleEndian.Uint64(msg)
	due := time.Duration(binary.LittleEndian.Uint64(msg[8:]))
	r.mu.Lock()
	defer r.mu.Unlock()
	if i >= uint64(len(r.seen)) || r.seen[i] {
		return
	}
	r.seen[i] = true
	now := time.Since(r.start)
	r.res.lat = append(r.res.lat, now-due)
	if now <= cappedFor {
		r.res.delivered += len(msg)
	}
}

func (r *cappedRecorder) result() cappedResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return cappedResult{lat: slices.Clone(r.res.lat), delivered: r.res.delivered}
}

// cappedLoop calls send for every message as it falls due (1 ms ticks; a
// message send refuses waits, its latency counting from when it was due)
// and update after each tick, for cappedFor and the drain.
func cappedLoop(rec *cappedRecorder, send func(msg []byte) (bool, error), update func() error) error {
	interval := time.Second / cappedRate
	msg := make([]byte, cappedSize)
	next, n := 0, int(cappedFor/interval)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	rec.mu.Lock()
	rec.start = time.Now()
	rec.mu.Unlock()
	start := rec.start
	for {
		<-tick.C
		elapsed := time.Since(start)
		for ; next < n && time.Duration(next)*interval <= elapsed && elapsed < cappedFor; next++ {
			binary.LittleEndian.PutUint64(msg, uint64(next))
			binary.LittleEndian.PutUint64(msg[8:], uint64(time.Duration(next)*interval))
			ok, err := send(msg)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
		}
		if err := update(); err != nil {
			return err
		}
		if elapsed > cappedFor+cappedDrain {
			return nil
		}
	}
}

// twCapped streams on channel ch of a Tickwire client, with or without the
// send budget (a 2 Mbit/s ceiling and the congestion response).
func twCapped(ch int, budget bool, seed uint64) (cappedResult, error) {
	rec := newCappedRecorder()
	srv, err := startTWServer(func(_ *netcode.Server, _ netcode.ClientID, _ int, msg []byte) { rec.got(msg) })
	if err != nil {
		return cappedResult{}, err
	}
	defer srv.close()
	proxy, err := startProxy(srv.addr(), cappedLink(), seed)
	if err != nil {
		return cappedResult{}, err
	}
	defer proxy.close()
	cfg := twConfig()
	if budget {
		cfg.SendRate, cfg.CongestionControl = 2_000_000/8, true
	}
	c, err := dialTWConfig(proxy.addr, cfg)
	if err != nil {
		return cappedResult{}, err
	}
	defer c.Close()
	err = cappedLoop(rec, func(msg []byte) (bool, error) {
		if _, err := c.Send(ch, msg); err != nil {
			if errors.Is(err, netcode.ErrSendQueueFull) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	}, func() error { return c.Update(time.Now()) })
	return rec.result(), err
}

// kcpCapped streams through a kcp-go session in fast mode.
func kcpCapped(seed uint64) (cappedResult, error) {
	rec := newCappedRecorder()
	srv, err := startKCPServer(func(_ *kcp.UDPSession, msg []byte) { rec.got(msg) })
	if err != nil {
		return cappedResult{}, err
	}
	defer srv.close()
	proxy, err := startProxy(srv.addr(), cappedLink(), seed)
	if err != nil {
		return cappedResult{}, err
	}
	defer proxy.close()
	c, err := dialKCP(proxy.addr)
	if err != nil {
		return cappedResult{}, err
	}
	defer c.Close()
	err = cappedLoop(rec, func(msg []byte) (bool, error) {
		_, err := c.Write(msg)
		return err == nil, err
	}, func() error { return nil })
	return rec.result(), err
}

func writeCapped(b *strings.Builder, cr []cappedRow) {
	fmt.Fprintf(b, "## A stream through a capped link\n\n")
	fmt.Fprintf(b, "A client streams %d-byte messages at %d/s (%.2f Mbit/s of payload) for %v to a server through the netsim UDP proxy "+
		"capped at 1 Mbit/s each way with 50 ms one way: more than the link carries. Delivered is the payload rate that arrived while the "+
		"stream ran; latency runs from when a message was due to its delivery, over every message delivered (the backlog "+
		"included, for %v after the stream). Tickwire's budget is Endpoint.SendRate 2 Mbit/s with CongestionControl.\n\n",
		cappedSize, cappedRate, float64(cappedSize*cappedRate*8)/1e6, cappedFor, cappedDrain)
	fmt.Fprintf(b, "| peer | delivered kbit/s | p50 ms | p99 ms |\n|---|---|---|---|\n")
	for _, r := range cr {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", r.name, cell(r.kbps, 0), cell(r.p50, 1), cell(r.p99, 1))
	}
	fmt.Fprintf(b, "\n")
}
