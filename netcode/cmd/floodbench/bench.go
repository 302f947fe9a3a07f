package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/tickwire/tickwire/netcode"
)

const (
	protocolID = 0xf100d
	channel    = 1 // endpoint.DefaultConfig's unreliable channel
	tickRate   = 60
	msgSize    = 32
)

type options struct {
	clients, hostile, senders int
	secure                    bool
	warmup, cooldown          time.Duration
	maxLoss                   float64
	seed                      uint64
	cpuProfile                string
}

func defaultOptions() options {
	return options{clients: 20, hostile: 400_000, senders: 1, warmup: 2 * time.Second, cooldown: time.Second, seed: 1}
}

// window counts the messages of one direction sent within a time window
// and those of them that arrived.
type window struct{ sent, got int }

func (w window) loss() float64 {
	if w.sent == 0 {
		return 0
	}
	return 1 - float64(w.got)/float64(w.sent)
}

// report is what a run measured.
type report struct {
	opts                   options
	flood                  time.Duration // how long the senders took
	sentHostile            int
	upBefore, upDuring     window // client → server
	downBefore, downDuring window // server → client
	overruns, ticks        int    // server ticks during the flood, and those longer than the tick
	slowestTick            time.Duration
	heapBefore, heapPeak   uint64 // max HeapInuse before and during the flood
	disconnected           int
	kernelDrops            int64 // the server socket's drops during the flood (-1: unknown)
	stats                  netcode.ServerStats
}

func (r report) ok(maxLoss float64) bool {
	if r.disconnected > 0 {
		return false
	}
	return maxLoss == 0 || (r.upDuring.loss() <= maxLoss && r.downDuring.loss() <= maxLoss)
}

func (r report) print(w io.Writer) {
	mode := "plain"
	if r.opts.secure {
		mode = "secure"
	}
	fmt.Fprintf(w, "floodbench: %d clients, %s mode, %d hostile datagrams in %v (%.0f/s) from %d sockets\n",
		r.opts.clients, mode, r.sentHostile, r.flood.Round(time.Millisecond), float64(r.sentHostile)/r.flood.Seconds(), r.opts.senders)
	fmt.Fprintf(w, "  loss before the flood: up %.3f%% of %d, down %.3f%% of %d\n",
		100*r.upBefore.loss(), r.upBefore.sent, 100*r.downBefore.loss(), r.downBefore.sent)
	fmt.Fprintf(w, "  loss during the flood: up %.3f%% of %d, down %.3f%% of %d\n",
		100*r.upDuring.loss(), r.upDuring.sent, 100*r.downDuring.loss(), r.downDuring.sent)
	fmt.Fprintf(w, "  server ticks during the flood: %d, overruns %d, slowest %v\n", r.ticks, r.overruns, r.slowestTick.Round(time.Microsecond))
	fmt.Fprintf(w, "  heap in use: %.1f MiB before, %.1f MiB peak during\n", float64(r.heapBefore)/(1<<20), float64(r.heapPeak)/(1<<20))
	fmt.Fprintf(w, "  clients disconnected: %d\n", r.disconnected)
	if r.kernelDrops >= 0 {
		// The kernel drops what the reader did not read in time (its
		// socket buffer full): a share of CPU no queue can make up for.
		fmt.Fprintf(w, "  server socket: %d datagrams dropped by the kernel during the flood\n", r.kernelDrops)
	}
	fmt.Fprintf(w, "  server: %+v\n", r.stats)
}

// tally records the messages one side sent (with the time) and those the
// other side received, by sequence. Each is written by one goroutine and
// read once both have stopped.
type tally struct {
	sentAt []time.Time // by sequence
	got    []bool
}

func (t *tally) received(seq uint32) {
	for int(seq) >= len(t.got) {
		t.got = append(t.got, false)
	}
	t.got[seq] = true
}

// count returns the messages sent within [from, to) and how many arrived.
func (t *tally) count(from, to time.Time) window {
	var w window
	for seq, at := range t.sentAt {
		if at.Before(from) || !at.Before(to) {
			continue
		}
		w.sent++
		if seq < len(t.got) && t.got[seq] {
			w.got++
		}
	}
	return w
}

func encodeMsg(b []byte, client int, seq uint32) []byte {
	b = binary.BigEndian.AppendUint16(b[:0], uint16(client))
	b = binary.BigEndian.AppendUint32(b, seq)
	for len(b) < msgSize {
		b = append(b, 0)
	}
	return b
}

func decodeMsg(b []byte) (client int, seq uint32, ok bool) {
	if len(b) != msgSize {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint16(b)), binary.BigEndian.Uint32(b[2:]), true
}

// recorder keeps copies of the first datagrams a client writes, for the
// attacker to mutate.
type recorder struct {
	net.PacketConn
	mu   sync.Mutex
	kept [][]byte
}

func (r *recorder) WriteTo(p []byte, addr net.Addr) (int, error) {
	r.mu.Lock()
	if len(r.kept) < 64 {
		r.kept = append(r.kept, append([]byte(nil), p...))
	}
	r.mu.Unlock()
	return r.PacketConn.WriteTo(p, addr)
}

func (r *recorder) datagrams() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.kept...)
}

func bench(ctx context.Context, o options) (report, error) {
	rep := report{opts: o}
	scfg := netcode.ServerConfig{ProtocolID: protocolID, MaxClients: o.clients + 8}
	var key [netcode.KeySize]byte
	if o.secure {
		var err error
		if key, err = netcode.GenerateKey(rand.Reader); err != nil {
			return rep, err
		}
		scfg.TokenKey = &key
	}
	srv, err := netcode.Listen("127.0.0.1:0", scfg)
	if err != nil {
		return rep, err
	}
	srvAddr := srv.Addr().(*net.UDPAddr).AddrPort()

	up := make([]tally, o.clients)   // written by the clients (sentAt) and the server (got)
	down := make([]tally, o.clients) // written by the server (sentAt) and the clients (got)
	stop := make(chan struct{})
	var flooding atomic.Bool
	var floodTicks, floodOverruns, slowest atomic.Int64

	// The server: a 60 Hz tick that reads every message, sends each
	// client one, and flushes.
	ids := make([]netcode.ClientID, o.clients) // bench client → id, learned from its messages
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		tick := time.NewTicker(time.Second / tickRate)
		defer tick.Stop()
		var conns []netcode.ClientID
		seq := make([]uint32, o.clients)
		buf := make([]byte, 0, msgSize)
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			start := time.Now()
			srv.Receive(start)
			for ev, ok := srv.PollEvent(); ok; ev, ok = srv.PollEvent() {
				_ = ev
			}
			conns = srv.AppendClients(conns[:0])
			for _, id := range conns {
				for m, ok := srv.ReadMessage(id, channel); ok; m, ok = srv.ReadMessage(id, channel) {
					if c, s, ok := decodeMsg(m); ok && c < o.clients {
						ids[c] = id
						up[c].received(s)
					}
				}
			}
			for c, id := range ids {
				if id == 0 {
					continue
				}
				if _, err := srv.Send(id, channel, encodeMsg(buf, c, seq[c])); err == nil {
					down[c].sentAt = append(down[c].sentAt, start)
					seq[c]++
				}
			}
			srv.Flush(start)
			if d := time.Since(start); flooding.Load() {
				floodTicks.Add(1)
				if d > time.Second/tickRate {
					floodOverruns.Add(1)
				}
				if int64(d) > slowest.Load() {
					slowest.Store(int64(d))
				}
			}
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		<-srvDone
		srv.Close()
	}()

	// The clients, each on its own goroutine.
	recs := make([]*recorder, o.clients)
	clients := make([]*netcode.Client, o.clients)
	for i := range clients {
		ccfg := netcode.ClientConfig{ProtocolID: protocolID}
		if o.secure {
			tok, err := netcode.IssueConnectToken(key, netcode.ConnectToken{ProtocolID: protocolID, ClientID: netcode.ClientID(i + 1),
				Expires: time.Now().Add(time.Hour), ServerAddrs: []netip.AddrPort{srvAddr}}, rand.Reader)
			if err != nil {
				return rep, err
			}
			ccfg.Token = tok
		}
		pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return rep, err
		}
		_ = pc.SetReadBuffer(4 << 20)
		recs[i] = &recorder{PacketConn: pc}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		clients[i], err = netcode.DialConn(dctx, recs[i], srvAddr, ccfg)
		cancel()
		if err != nil {
			return rep, fmt.Errorf("client %d: %w", i, err)
		}
	}
	var disconnected atomic.Int64
	var cwg sync.WaitGroup
	for i, cli := range clients {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			defer cli.Close()
			tick := time.NewTicker(time.Second / tickRate)
			defer tick.Stop()
			buf := make([]byte, 0, msgSize)
			var seq uint32
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				now := time.Now()
				if _, err := cli.Send(channel, encodeMsg(buf, i, seq)); err == nil {
					up[i].sentAt = append(up[i].sentAt, now)
					seq++
				}
				if err := cli.Update(now); err != nil {
					disconnected.Add(1)
					return
				}
				for m, ok := cli.ReadMessage(channel); ok; m, ok = cli.ReadMessage(channel) {
					if c, s, ok := decodeMsg(m); ok && c == i {
						down[i].received(s)
					}
				}
			}
		}()
	}

	// The heap, sampled every 50 ms.
	var heapBefore, heapPeak atomic.Uint64
	heapDone := make(chan struct{})
	go func() {
		defer close(heapDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&ms)
			peak := &heapBefore
			if flooding.Load() {
				peak = &heapPeak
			}
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()

	time.Sleep(o.warmup)
	var samples [][]byte
	for _, r := range recs {
		samples = append(samples, r.datagrams()...)
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return rep, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return rep, err
		}
	}
	kernelBefore, kernelOK := socketDrops(srvAddr.Port())
	floodStart := time.Now()
	flooding.Store(true)
	sent, err := flood(o, srvAddr, samples)
	floodEnd := time.Now()
	flooding.Store(false)
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if kernelAfter, ok := socketDrops(srvAddr.Port()); ok && kernelOK {
		rep.kernelDrops = int64(kernelAfter - kernelBefore)
	} else {
		rep.kernelDrops = -1
	}
	rep.sentHostile = sent
	rep.flood = floodEnd.Sub(floodStart)
	time.Sleep(o.cooldown)
	close(stop)
	cwg.Wait()
	<-srvDone
	<-heapDone
	if err != nil {
		return rep, err
	}
	rep.stats = srv.Stats()
	for i := range o.clients {
		add := func(w *window, x window) { w.sent += x.sent; w.got += x.got }
		add(&rep.upBefore, up[i].count(floodStart.Add(-o.warmup), floodStart))
		add(&rep.upDuring, up[i].count(floodStart, floodEnd))
		add(&rep.downBefore, down[i].count(floodStart.Add(-o.warmup), floodStart))
		add(&rep.downDuring, down[i].count(floodStart, floodEnd))
	}
	rep.ticks, rep.overruns = int(floodTicks.Load()), int(floodOverruns.Load())
	rep.slowestTick = time.Duration(slowest.Load())
	rep.heapBefore, rep.heapPeak = heapBefore.Load(), heapPeak.Load()
	rep.disconnected = int(disconnected.Load())
	return rep, nil
}

// flood runs this command again as the attacker process (see attack),
// hands it the samples, and returns how many datagrams it sent.
func flood(o options, srv netip.AddrPort, samples [][]byte) (int, error) {
	cmd := exec.Command(os.Args[0], senderFlag, srv.String(), strconv.Itoa(o.hostile), strconv.Itoa(o.senders),
		strconv.FormatUint(o.seed, 10))
	var in bytes.Buffer
	for _, d := range samples {
		in.Write(binary.BigEndian.AppendUint16(nil, uint16(len(d))))
		in.Write(d)
	}
	cmd.Stdin = &in
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("attacker process: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0, fmt.Errorf("attacker process printed %q: %w", out, err)
	}
	return n, nil
}

// attack is the attacker process: args are the server's address, the
// number of datagrams, of sender goroutines, and the seed; stdin holds the
// recorded datagrams to mutate (each with a 16-bit length before it). It
// prints how many datagrams it sent.
func attack(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 4 {
		return fmt.Errorf("want 4 arguments (address, datagrams, senders, seed), got %d", len(args))
	}
	srv, err := netip.ParseAddrPort(args[0])
	if err != nil {
		return err
	}
	total, err1 := strconv.Atoi(args[1])
	senders, err2 := strconv.Atoi(args[2])
	seed, err3 := strconv.ParseUint(args[3], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	if total < 0 || senders < 1 || senders > 64 {
		return fmt.Errorf("datagrams %d and senders %d, want ≥ 0 and 1..64", total, senders)
	}
	raw, err := io.ReadAll(stdin)
	if err != nil {
		return err
	}
	var samples [][]byte
	for len(raw) >= 2 {
		n := int(binary.BigEndian.Uint16(raw))
		if len(raw) < 2+n {
			return fmt.Errorf("samples truncated")
		}
		samples = append(samples, raw[2:2+n])
		raw = raw[2+n:]
	}
	var wg sync.WaitGroup
	var sent atomic.Int64
	errs := make(chan error, senders)
	to := net.UDPAddrFromAddrPort(srv)
	for s := range senders {
		n := total / senders
		if s < total%senders {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := send(to, n, mrand.New(mrand.NewPCG(seed, uint64(s))), samples, &sent); err != nil {
				errs <- fmt.Errorf("sender %d: %w", s, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	fmt.Fprintln(stdout, sent.Load())
	return <-errs
}

// send writes n hostile datagrams to to from a socket of its own, in
// batches: every other one random bytes of random length, the rest a
// recorded datagram with one to four bytes changed.
func send(to *net.UDPAddr, n int, rng *mrand.Rand, samples [][]byte, sent *atomic.Int64) error {
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer pc.Close()
	_ = pc.SetWriteBuffer(4 << 20)
	bc := ipv4.NewPacketConn(pc)
	const batch = 32
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, 1500)
	}
	ms := make([]ipv4.Message, batch)
	for i := range ms {
		ms[i].Buffers = [][]byte{nil}
		ms[i].Addr = to
	}
	failures := 0
	for done := 0; done < n; {
		k := min(batch, n-done)
		for i := range k {
			ms[i].Buffers[0] = hostile(rng, bufs[i], samples, done+i)
		}
		w, err := bc.WriteBatch(ms[:k], 0)
		if err != nil {
			// The socket's buffer is full: back off a little.
			if failures++; failures > 10_000 {
				return err
			}
			time.Sleep(100 * time.Microsecond)
		} else {
			failures = 0
		}
		done += max(w, 0)
		sent.Add(int64(max(w, 0)))
	}
	return nil
}

func hostile(rng *mrand.Rand, buf []byte, samples [][]byte, i int) []byte {
	if i%2 == 0 || len(samples) == 0 {
		b := buf[:1+rng.IntN(1200)]
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
		return b
	}
	b := append(buf[:0], samples[rng.IntN(len(samples))]...)
	for range 1 + rng.IntN(4) {
		b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
	}
	return b
}

// socketDrops returns the kernel's count of datagrams dropped on the UDP
// socket bound to 127.0.0.1:port (the drops column of /proc/net/udp; Linux
// only).
func socketDrops(port uint16) (uint64, bool) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0, false
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 13 && f[1] == local {
			n, err := strconv.ParseUint(f[len(f)-1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
