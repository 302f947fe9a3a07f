package main

// The rooms workload: N clients in rooms of 20, each sending a 32-byte
// update every 50 ms that the server forwards to the 19 others of its room.
// The server and the clients run in two child processes of this program,
// pinned to one core each (taskset), so that the server's CPU time is its
// own. The parent starts the server, then the clients; once every client is
// connected it tells both to start, lets the clients run for the window,
// and reads the server's CPU time over the window and the clients' counts.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	kcp "github.com/xtaci/kcp-go/v5"
	"golang.org/x/net/ipv4"

	"github.com/tickwire/tickwire/netcode"
)

const (
	roomSize       = 20
	updateInterval = 50 * time.Millisecond
	serverTick     = 10 * time.Millisecond
)

// roomsResult is what one rooms run measured.
type roomsResult struct {
	CPU       float64 // server CPU time over the window / the window (1 = one core)
	Kernel    float64 // the part of CPU spent in the kernel (on loopback the sends pay for the receivers' delivery)
	ClientCPU float64 // the same for the clients' process
	Delivered float64 // share of the forwards due that arrived
	P50, P99  float64 // delivery latency, ms, sender's Send to receiver's read
}

// clientsReport is what the clients process prints at the end.
type clientsReport struct {
	Expected, Received int
	// Lat is the latencies' histogram: [bucket, count] pairs, the bucket
	// in latBucket steps; kept as a histogram so that recording 400,000
	// deliveries a second costs the clients' core an increment each.
	Lat [][2]int
	CPU float64 // the clients process's CPU time over the window / the window
}

// runRooms runs one rooms measurement of n clients of sys ("tickwire" or
// "kcp") for window.
func runRooms(sys string, n int, window, ackDelay, coalesce time.Duration, inline bool, profile string) (roomsResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return roomsResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), window+2*time.Minute)
	defer cancel()
	start := func(core string, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner, error) {
		name, all := exe, args
		if _, err := exec.LookPath("taskset"); err == nil {
			name, all = "taskset", append([]string{"-c", core, exe}, args...)
		}
		cmd := exec.CommandContext(ctx, name, all...)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, nil, nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, nil, err
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		return cmd, in, sc, nil
	}
	srv, srvIn, srvOut, err := start("0", "-role", "rooms-server", "-sys", sys, "-ackdelay", ackDelay.String(), "-coalesce", coalesce.String(), fmt.Sprintf("-inline=%v", inline), "-serverprofile", profileFor(profile, sys))
	if err != nil {
		return roomsResult{}, err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	if !srvOut.Scan() {
		return roomsResult{}, fmt.Errorf("rooms server: no address")
	}
	addr := strings.TrimPrefix(srvOut.Text(), "addr ")
	cprof := profileFor(profile, sys)
	if cprof != "" {
		cprof += ".clients"
	}
	cli, cliIn, cliOut, err := start("1", "-role", "rooms-clients", "-sys", sys, "-addr", addr, "-n", fmt.Sprint(n), "-window", window.String(), "-ackdelay", ackDelay.String(), fmt.Sprintf("-inline=%v", inline), "-serverprofile", cprof)
	if err != nil {
		return roomsResult{}, err
	}
	defer func() { _ = cli.Process.Kill(); _ = cli.Wait() }()
	if !cliOut.Scan() || cliOut.Text() != "ready" {
		return roomsResult{}, fmt.Errorf("rooms clients: not ready: %q", cliOut.Text())
	}
	fmt.Fprintln(srvIn, "start")
	fmt.Fprintln(cliIn, "go")
	if !cliOut.Scan() {
		return roomsResult{}, fmt.Errorf("rooms clients: no report")
	}
	fmt.Fprintln(srvIn, "stop")
	var rep clientsReport
	if err := json.Unmarshal(cliOut.Bytes(), &rep); err != nil {
		return roomsResult{}, fmt.Errorf("rooms clients: %w", err)
	}
	if !srvOut.Scan() {
		return roomsResult{}, fmt.Errorf("rooms server: no CPU figure")
	}
	var cpu, kernel float64
	if _, err := fmt.Sscanf(srvOut.Text(), "cpu %g kernel %g", &cpu, &kernel); err != nil {
		return roomsResult{}, fmt.Errorf("rooms server: %q: %w", srvOut.Text(), err)
	}
	res := roomsResult{CPU: cpu, Kernel: kernel, ClientCPU: rep.CPU, P50: ms(histQuantile(rep.Lat, 0.5)), P99: ms(histQuantile(rep.Lat, 0.99))}
	if rep.Expected > 0 {
		res.Delivered = float64(rep.Received) / float64(rep.Expected)
	}
	return res, nil
}

// latBucket is the resolution of the rooms latency histogram.
const latBucket = 100 * time.Microsecond

// histQuantile returns the q-quantile of a histogram of [bucket, count]
// pairs in ascending bucket order: the upper edge of the bucket it falls in.
func histQuantile(h [][2]int, q float64) time.Duration {
	total := 0
	for _, b := range h {
		total += b[1]
	}
	if total == 0 {
		return 0
	}
	rank := max(int(q*float64(total)+0.5), 1)
	seen := 0
	for _, b := range h {
		seen += b[1]
		if seen >= rank {
			return time.Duration(b[0]+1) * latBucket
		}
	}
	return time.Duration(h[len(h)-1][0]+1) * latBucket
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	user, sys := cpuTimes()
	return user + sys
}

// cpuTimes returns the process's user and system CPU times so far.
func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// roomsServer is the server process: it prints its address, then measures
// its CPU time between "start" and "stop" on stdin and prints it.
func roomsServer(sys string, ackDelay, coalesce time.Duration, inline bool, profile string) error {
	var addr string
	var stop func()
	switch sys {
	case "tickwire":
		srv, err := netcode.Listen("127.0.0.1:0", netcode.ServerConfig{ProtocolID: twProtocol, Endpoint: twConfigAck(ackDelay), Logger: quiet,
			MaxClients: 8192, ReceiveQueue: 16384, UnverifiedQueue: 4096, HandshakeRate: 1000, ReceiveCoalesce: coalesce, ReceiveInline: inline})
		if err != nil {
			return err
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { twRoomsLoop(srv, done) })
		addr, stop = srv.Addr().String(), func() { close(done); wg.Wait(); _ = srv.Close() }
	case "kcp":
		srv, err := kcpRoomsServer()
		if err != nil {
			return err
		}
		addr, stop = srv.addr(), srv.close
	case "udp":
		srv, err := udpRoomsServer()
		if err != nil {
			return err
		}
		addr, stop = srv.addr(), srv.close
	default:
		return fmt.Errorf("unknown -sys %q: want tickwire, kcp or udp", sys)
	}
	defer stop()
	fmt.Println("addr", addr)
	in := bufio.NewScanner(os.Stdin)
	var t0 time.Time
	var u0, s0 time.Duration
	stopProfile := func() {}
	for in.Scan() {
		switch in.Text() {
		case "start":
			t0 = time.Now()
			u0, s0 = cpuTimes()
			stop, err := startProfile(profile)
			if err != nil {
				return err
			}
			defer stop()
			stopProfile = stop
		case "stop":
			stopProfile()
			u, k := cpuTimes()
			wall := float64(time.Since(t0))
			fmt.Printf("cpu %g kernel %g\n", float64(u-u0+k-s0)/wall, float64(k-s0)/wall)
			return nil
		}
	}
	return errors.New("rooms server: stdin closed before stop")
}

// twRoomsLoop is the Tickwire server's game loop: every 10 ms it takes in
// what arrived, forwards each update to the sender's room, and flushes.
func twRoomsLoop(srv *netcode.Server, done chan struct{}) {
	tick := time.NewTicker(serverTick)
	defer tick.Stop()
	var clients []netcode.ClientID
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		now := time.Now()
		srv.Receive(now)
		for _, ok := srv.PollEvent(); ok; _, ok = srv.PollEvent() {
		}
		clients = srv.AppendClients(clients[:0])
		for _, id := range clients {
			room := int(id-1) / roomSize // plain mode numbers clients 1, 2, 3...
			for msg, ok := srv.ReadMessage(id, chUnreliable); ok; msg, ok = srv.ReadMessage(id, chUnreliable) {
				for m := room*roomSize + 1; m <= room*roomSize+roomSize; m++ {
					if netcode.ClientID(m) != id {
						_, _ = srv.Send(netcode.ClientID(m), chUnreliable, msg) // absent members: an error, ignored
					}
				}
			}
		}
		srv.Flush(now)
	}
}

// kcpRooms forwards every message a session reads to the other sessions of
// its room, in accept order, at once.
type kcpRooms struct {
	*kcpServer
	mu    sync.Mutex
	rooms [][]*kcp.UDPSession
	index map[*kcp.UDPSession]int
}

func kcpRoomsServer() (*kcpRooms, error) {
	r := &kcpRooms{index: make(map[*kcp.UDPSession]int)}
	srv, err := startKCPServer(func(s *kcp.UDPSession, msg []byte) {
		hello := len(msg) < 16
		r.mu.Lock()
		i, ok := r.index[s]
		if !ok {
			i = len(r.index)
			r.index[s] = i
			if i%roomSize == 0 {
				r.rooms = append(r.rooms, nil)
			}
			r.rooms[i/roomSize] = append(r.rooms[i/roomSize], s)
		}
		members := r.rooms[i/roomSize]
		r.mu.Unlock()
		if hello {
			return
		}
		for _, m := range members {
			if m != s {
				_, _ = m.Write(msg)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	r.kcpServer = srv
	return r, nil
}

// roomsClients is the clients process: it connects n clients, prints
// "ready", waits for "go", sends updates for window, drains, and prints a
// clientsReport as JSON.
func roomsClients(sys, addr string, n int, window, ackDelay time.Duration, inline bool, profile string) error {
	// Stopped before the report is printed: the parent may end this
	// process as soon as it has read it.
	stopProfile, err := startProfile(profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	t := newRoomsTally()
	if n%roomSize != 0 {
		return fmt.Errorf("-n %d: want a multiple of %d (whole rooms)", n, roomSize)
	}
	switch sys {
	case "tickwire":
		cs := make([]*netcode.Client, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		sem := make(chan struct{}, 64) // handshakes in flight
		for i := range n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				c, err := dialTWInline(addr, twConfigAck(ackDelay), inline)
				if err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				cs[i] = c
			})
		}
		wg.Wait()
		defer func() {
			for _, c := range cs {
				if c != nil {
					_ = c.Close()
				}
			}
		}()
		select {
		case err := <-errs:
			return err
		default:
		}
		msg := make([]byte, 32)
		ticks := 0
		loop := func(until time.Time, send bool) {
			everyTick(until, &ticks, func(ticks int) {
				now := time.Now()
				for i, c := range cs {
					// The update is queued before Update, whose flush sends
					// it with whatever acks are owed, as a game's frame
					// would: one datagram, no tick's wait.
					if send && ticks%5 == i%5 { // every 50 ms, phases spread over the ticks
						if _, err := c.Send(chUnreliable, t.stamp(i, msg)); err == nil {
							t.sent()
						}
					}
					if err := c.Update(now); err != nil {
						continue
					}
					for got, ok := c.ReadMessage(chUnreliable); ok; got, ok = c.ReadMessage(chUnreliable) {
						t.got(got)
					}
				}
			})
		}
		t.play(window, loop)
	case "kcp":
		ss := make([]*kcp.UDPSession, n)
		for i := range n {
			s, err := dialKCP(addr)
			if err != nil {
				return fmt.Errorf("client %d: %w", i, err)
			}
			ss[i] = s
			// The server learns a session, and puts it in a room, with
			// its first message.
			if _, err := s.Write([]byte("hello")); err != nil {
				return err
			}
		}
		defer func() {
			for _, s := range ss {
				_ = s.Close()
			}
		}()
		var readers sync.WaitGroup
		for _, s := range ss {
			readers.Go(func() {
				buf := make([]byte, 2048)
				for {
					k, err := s.Read(buf)
					if err != nil {
						return
					}
					t.got(buf[:k])
				}
			})
		}
		time.Sleep(500 * time.Millisecond) // the hellos settle
		fmt.Println("ready")
		waitGo()
		t.start()
		msg := make([]byte, 32)
		ticks := 0
		everyTick(time.Now().Add(window), &ticks, func(ticks int) {
			for i, s := range ss {
				if ticks%5 == i%5 {
					if _, err := s.Write(t.stamp(i, msg)); err == nil {
						t.sent()
					}
				}
			}
		})
		t.stop()
		time.Sleep(300 * time.Millisecond) // drain
	case "udp":
		if err := udpRoomsClients(addr, n, window, t); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown -sys %q", sys)
	}
	b, err := json.Marshal(t.report())
	if err != nil {
		return err
	}
	stopProfile()
	fmt.Println(string(b))
	return nil
}

// waitGo blocks until the parent writes a line to stdin.
func waitGo() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Scan()
}

// startProfile starts a CPU profile written to path ("" : none) and
// returns what stops it and closes the file; calling that again does
// nothing.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}, nil
}

// profileFor names the CPU profile of sys's server: path with ".sys"
// added, or "" when no profile was asked for.
func profileFor(path, sys string) string {
	if path == "" {
		return ""
	}
	return path + "." + sys
}

// udpRooms is the rooms server with nothing above UDP, the floor of the
// workload on this machine: every serverTick it drains its socket
// (recvmmsg, not waiting), appends each update to the pending datagram of
// each of the sender's room members and sends one datagram to each member
// with something pending (sendmmsg, up to 64 at a time). Those are the
// datagrams Tickwire's server sends for the same workload, without its
// headers, acks, sessions or checks: no protocol's server can send them
// for less CPU than this one.
type udpRooms struct {
	conn    *net.UDPConn
	pc      *ipv4.PacketConn
	addrs   []*net.UDPAddr // by client index, from its hello
	pending [][]byte       // by client index: the updates of this tick
	in, out []ipv4.Message
	done    chan struct{}
	wg      sync.WaitGroup
}

// udpMaxClients bounds the client indexes a plain UDP rooms server takes.
const udpMaxClients = 8192

func udpRoomsServer() (*udpRooms, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(4 << 20)
	_ = conn.SetWriteBuffer(4 << 20)
	r := &udpRooms{conn: conn, pc: ipv4.NewPacketConn(conn), addrs: make([]*net.UDPAddr, udpMaxClients),
		pending: make([][]byte, udpMaxClients), in: batch(64, 1500), out: batch(64, 0), done: make(chan struct{})}
	r.wg.Go(r.loop)
	return r, nil
}

// batch returns n messages of one buffer each, size bytes long (0: none).
func batch(n, size int) []ipv4.Message {
	ms := make([]ipv4.Message, n)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, size)}
	}
	return ms
}

func (r *udpRooms) addr() string { return r.conn.LocalAddr().String() }

func (r *udpRooms) close() {
	close(r.done)
	r.wg.Wait()
	_ = r.conn.Close()
}

func (r *udpRooms) loop() {
	tick := time.NewTicker(serverTick)
	defer tick.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-tick.C:
		}
		r.receive()
		r.send()
	}
}

// receive drains the socket: a datagram of 8 bytes is a client's hello
// (its index), a longer one an update whose first 8 bytes are the sender's
// index.
func (r *udpRooms) receive() {
	for {
		k, err := r.pc.ReadBatch(r.in, syscall.MSG_DONTWAIT)
		if err != nil || k == 0 {
			return
		}
		for _, m := range r.in[:k] {
			b := m.Buffers[0][:m.N]
			if len(b) < 8 {
				continue
			}
			i := binary.LittleEndian.Uint64(b)
			if i >= udpMaxClients {
				continue
			}
			if len(b) < 16 {
				if a, ok := m.Addr.(*net.UDPAddr); ok {
					r.addrs[i] = a
				}
				continue
			}
			room := int(i) / roomSize * roomSize
			for j := room; j < room+roomSize; j++ {
				if j != int(i) && r.addrs[j] != nil {
					r.pending[j] = append(r.pending[j], b...)
				}
			}
		}
		if k < len(r.in) {
			return
		}
	}
}

// send sends every member its pending updates, at most udpDatagram bytes
// to a datagram.
func (r *udpRooms) send() {
	const udpDatagram = 1184 // 37 updates
	out := r.out[:0]
	flush := func() {
		for sent := 0; sent < len(out); {
			k, err := r.pc.WriteBatch(out[sent:], 0)
			if err != nil {
				break
			}
			sent += k
		}
		out = r.out[:0]
	}
	for j, p := range r.pending {
		for len(p) > 0 {
			n := min(len(p), udpDatagram)
			m := &r.out[len(out)]
			m.Buffers[0], m.Addr = p[:n], r.addrs[j]
			out, p = out[:len(out)+1], p[n:]
			if len(out) == cap(out) {
				flush()
			}
		}
		// Still read by a send of this tick: the next appends come after
		// it.
		r.pending[j] = r.pending[j][:0]
	}
	flush()
}

// udpRoomsClients runs the clients of the plain UDP rooms server, as the
// Tickwire clients run: one loop every serverTick that sends each client's
// update every 50 ms and drains each client's socket (recvmmsg, not
// waiting), counting into t.
func udpRoomsClients(addr string, n int, window time.Duration, t *roomsTally) error {
	srv, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return err
	}
	pcs := make([]*ipv4.PacketConn, n)
	for i := range pcs {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		defer c.Close()
		pcs[i] = ipv4.NewPacketConn(c)
	}
	hello := make([]byte, 8)
	for range 3 { // loopback loses nothing unless a queue overflows; three are plenty
		for i, pc := range pcs {
			binary.LittleEndian.PutUint64(hello, uint64(i))
			if _, err := pc.WriteTo(hello, nil, srv); err != nil {
				return fmt.Errorf("client %d: hello: %w", i, err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	in := batch(64, 1500)
	msg := make([]byte, 32)
	ticks := 0
	loop := func(until time.Time, send bool) {
		everyTick(until, &ticks, func(ticks int) {
			for i, pc := range pcs {
				if send && ticks%5 == i%5 {
					if _, err := pc.WriteTo(t.stamp(i, msg), nil, srv); err == nil {
						t.sent()
					}
				}
				for {
					k, err := pc.ReadBatch(in, syscall.MSG_DONTWAIT)
					if err != nil || k == 0 {
						break
					}
					for _, m := range in[:k] {
						for b := m.Buffers[0][:m.N]; len(b) >= 32; b = b[32:] {
							t.got(b[:32])
						}
					}
					if k < len(in) {
						break
					}
				}
			}
		})
	}
	t.play(window, loop)
	return nil
}

// everyTick calls step with the tick count every serverTick until until;
// the count goes on from *ticks and is left there.
func everyTick(until time.Time, ticks *int, step func(ticks int)) {
	t := time.NewTicker(serverTick)
	defer t.Stop()
	for time.Now().Before(until) {
		<-t.C
		*ticks++
		step(*ticks)
	}
}

// roomsTally is what the clients process counts over the window: the
// forwards due and read, their latencies, its CPU share. Its clients'
// goroutines share it (kcp-go's readers), so it is locked.
type roomsTally struct {
	epoch     time.Time // updates carry their send time since
	mu        sync.Mutex
	rep       clientsReport
	hist      []int // latencies by latBucket; the last: 10 s or more
	measuring bool
	t0        time.Time
	c0        time.Duration // CPU time at t0
}

func newRoomsTally() *roomsTally {
	return &roomsTally{epoch: time.Now(), hist: make([]int, int(10*time.Second/latBucket)+1)}
}

// play tells the parent the clients are ready, waits for its go, and runs
// loop sending updates over the window, then 300 ms more without, so that
// what is in flight arrives.
func (t *roomsTally) play(window time.Duration, loop func(until time.Time, send bool)) {
	fmt.Println("ready")
	waitGo()
	t.start()
	loop(time.Now().Add(window), true)
	t.stop()
	loop(time.Now().Add(300*time.Millisecond), false)
}

// start starts the window.
func (t *roomsTally) start() {
	t.mu.Lock()
	t.measuring, t.t0, t.c0 = true, time.Now(), cpuTime()
	t.mu.Unlock()
}

// stop ends the window: the process's CPU share over it.
func (t *roomsTally) stop() {
	t.mu.Lock()
	t.rep.CPU = float64(cpuTime()-t.c0) / float64(time.Since(t.t0))
	t.mu.Unlock()
}

// stamp writes client i's index and the time into msg, an update.
func (t *roomsTally) stamp(i int, msg []byte) []byte {
	binary.LittleEndian.PutUint64(msg, uint64(i))
	binary.LittleEndian.PutUint64(msg[8:], uint64(time.Since(t.epoch)))
	return msg
}

// sent counts the forwards an update sent is due.
func (t *roomsTally) sent() {
	t.mu.Lock()
	t.rep.Expected += roomSize - 1
	t.mu.Unlock()
}

// got records an update read by any client.
func (t *roomsTally) got(msg []byte) {
	if len(msg) < 16 {
		return
	}
	sent := t.epoch.Add(time.Duration(binary.LittleEndian.Uint64(msg[8:])))
	t.mu.Lock()
	if t.measuring && !sent.Before(t.t0) {
		t.rep.Received++
		t.hist[min(int(time.Since(sent)/latBucket), len(t.hist)-1)]++
	}
	t.mu.Unlock()
}

// report returns the counts, the histogram as its non-empty buckets.
func (t *roomsTally) report() clientsReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := t.rep
	for i, c := range t.hist {
		if c > 0 {
			rep.Lat = append(rep.Lat, [2]int{i, c})
		}
	}
	return rep
}
