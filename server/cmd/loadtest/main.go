// Command loadtest measures how many clients one Tickwire server carries:
// for each client count it starts a server on loopback in this process,
// spawns a second process of this binary (-role=clients) running that many
// headless clients, waits -warmup once all are connected, lets them play
// for -duration, and reports the server's CPU use (getrusage), tick
// duration p50/p99/max, overruns and skipped ticks, traffic, and its memory
// with every client connected (resident, and Go heap in use); and the
// client process's CPU use and the share of its bots' 60 Hz frames it ran
// (below 100% it could not keep up, and sent fewer inputs than a real
// client would).
//
//	go run ./server/cmd/loadtest -clients 100,500,1000,2000 -duration 10s
//
// The clients stand in for remote machines, so by default the two processes
// get separate CPUs: the server the first half of those this process may
// use (GOMAXPROCS set to match), the clients the rest (-server-cpus,
// -client-cpus; "none" turns pinning off and lets them compete).
//
// Everything is on 127.0.0.1 with ephemeral ports; each round is bounded in
// time (connect timeout, -warmup, -duration, a hard deadline on the client
// process) and the command stops by itself. -cpuprofile writes a CPU profile
// of the server process (of the clients with -role=clients).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tickwire/tickwire/internal/buildinfo"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/netcode/endpoint"
	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
	"github.com/tickwire/tickwire/server/admin"
	"github.com/tickwire/tickwire/server/wire"
)

const protocolID = 0x10AD7E57

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options is what the command line sets.
type options struct {
	role                       string
	counts                     []int // driver: one round each
	n                          int
	addr                       string
	duration, warmup, ackDelay time.Duration
	coalesce                   time.Duration
	recvInline, sendInline     bool
	tick, snap, workers, props int
	inputEvery, clientNice     int
	decode, verbose            bool
	serverCPUs, clientCPUs     []int // nil: no pinning
	admin, cpuProfile          string
}

// bad is a bad command line's error (run prints it and exits 2): the
// flag, the value and what is allowed.
func bad(format string, args ...any) error {
	return errors.New("loadtest: " + fmt.Sprintf(format, args...))
}

// errVersion is parseFlags' answer to -version.
var errVersion = errors.New("loadtest: -version")

// parseFlags parses args (without the program name); -h writes the usage to
// out.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // one message of our own for a bad command line
	fs.StringVar(&o.role, "role", "driver", "`role` of this process: driver (server + spawns clients), clients (headless clients only) or server (server only)")
	clients := fs.String("clients", "100,500,1000,2000", "driver: comma-separated client `counts`, one round each, each 1..10000")
	fs.IntVar(&o.n, "n", 100, "clients/server roles: how many clients (a `count`, 1..10000)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "server: listen `address`; clients: server address (loopback only)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured `time` per round, after every client connected and the warm-up (1s..5m)")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "driver: `time` between every client connected and the start of the measurement (0..1m)")
	fs.IntVar(&o.tick, "tick", 60, "server tick `rate` in Hz, 1..1000")
	fs.IntVar(&o.snap, "snap", 30, "snapshot `rate` in Hz, 1..tick rate")
	fs.IntVar(&o.workers, "workers", 1, "server snapshot workers (a `count`, 1..256)")
	fs.IntVar(&o.props, "props", 2, "resting props per player (a `count`, 0..64)")
	fs.BoolVar(&o.decode, "decode", false, "clients: decode every snapshot (costs client CPU)")
	fs.BoolVar(&o.verbose, "v", false, "log server info")
	fs.DurationVar(&o.ackDelay, "ack-delay", server.DefaultAckDelay, "server: how long acks of client packets may wait for a snapshot to ride on (a `duration`, 1ns: ack every tick; at most 1s)")
	fs.DurationVar(&o.coalesce, "receive-coalesce", 0, "server: netcode ServerConfig.ReceiveCoalesce, how long datagrams may gather in the socket before the reader reads again (a `duration`, 0: read at every arrival; at most 10ms)")
	fs.BoolVar(&o.recvInline, "receive-inline", false, "server: netcode ServerConfig.ReceiveInline (the tick reads the socket itself, no reader goroutine)")
	fs.BoolVar(&o.sendInline, "send-inline", false, "server: netcode ServerConfig.SendInline (the tick writes the socket itself, no writer goroutine)")
	fs.IntVar(&o.inputEvery, "input-every", 1, "clients: send an input message every this many 60 Hz `frames`, 1..60 (inputs stay per tick, repeated 4×)")
	ncpu := machineCPUs()
	defServer, defClients := splitCPUs(allowedCPUs())
	serverCPUs := fs.String("server-cpus", defServer, "`CPUs` the server process runs on (e.g. 0 or 0-3; none: no pinning); default: the first half of the CPUs this process may use")
	clientCPUs := fs.String("client-cpus", defClients, "`CPUs` the client process runs on (none: no pinning); default: the other half")
	fs.IntVar(&o.clientNice, "client-nice", 10, "driver: run the client process under nice -n this `niceness`, 0..19 (0: same priority); the clients stand in for remote machines, so they should not preempt the server")
	fs.StringVar(&o.admin, "admin", "", "server `address` for metrics and pprof (e.g. 127.0.0.1:9100); empty: none")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write this process's CPU profile to this `file` (with -role=clients: the clients' side)")
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "loadtest: how many clients one Tickwire server carries (server and clients on 127.0.0.1, separate CPUs).\n\n")
		fmt.Fprintf(w, "Usage: loadtest [-clients 100,500,1000] [-duration 10s] [-warmup 3s] [-server-cpus 0 -client-cpus 1] ...\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fs.Usage()
			return o, err
		}
		return o, bad("%v (see -h)", err)
	}
	if *version {
		return o, errVersion
	}
	if fs.NArg() > 0 {
		return o, bad("unexpected argument %q: every setting is a flag (see -h)", fs.Arg(0))
	}
	var err error
	switch {
	case o.role != "driver" && o.role != "clients" && o.role != "server":
		return o, bad("-role %q: want driver, clients or server", o.role)
	case o.n < 1 || o.n > 10000:
		return o, bad("-n %d: want 1..10000 clients", o.n)
	case o.duration < time.Second || o.duration > 5*time.Minute && o.role != "clients":
		return o, bad("-duration %v: want 1s..5m", o.duration)
	case o.duration > 10*time.Minute: // the clients role's cap: the driver's warm-up + duration + a minute
		return o, bad("-duration %v: want 1s..10m with -role clients", o.duration)
	case o.warmup < 0 || o.warmup > time.Minute:
		return o, bad("-warmup %v: want 0..1m", o.warmup)
	case o.ackDelay <= 0 || o.ackDelay > time.Second:
		return o, bad("-ack-delay %v: want 1ns..1s", o.ackDelay)
	case o.coalesce < 0 || o.coalesce > 10*time.Millisecond:
		return o, bad("-receive-coalesce %v: want 0..10ms", o.coalesce)
	case o.tick < 1 || o.tick > server.MaxTickRate:
		return o, bad("-tick %d: want 1..%d Hz", o.tick, server.MaxTickRate)
	case o.snap < 1 || o.snap > o.tick:
		return o, bad("-snap %d: want 1..%d Hz (at most -tick)", o.snap, o.tick)
	case o.workers < 1 || o.workers > 256:
		return o, bad("-workers %d: want 1..256", o.workers)
	case o.props < 0 || o.props > 64:
		return o, bad("-props %d: want 0..64", o.props)
	case o.inputEvery < 1 || o.inputEvery > 60:
		return o, bad("-input-every %d: want 1..60 frames", o.inputEvery)
	case o.clientNice < 0 || o.clientNice > 19:
		return o, bad("-client-nice %d: want 0..19", o.clientNice)
	}
	if host, _, herr := net.SplitHostPort(o.addr); herr != nil || !isLoopback(host) {
		return o, bad("-addr %q: want a loopback host:port like 127.0.0.1:0 (the load test sends to this machine only)", o.addr)
	}
	if o.serverCPUs, err = parseCPUList(*serverCPUs, ncpu); err != nil {
		return o, bad("-server-cpus %v; want a CPU list like 0,2-3, or none", err)
	}
	if o.clientCPUs, err = parseCPUList(*clientCPUs, ncpu); err != nil {
		return o, bad("-client-cpus %v; want a CPU list like 0,2-3, or none", err)
	}
	if o.role == "driver" {
		for _, f := range strings.Split(*clients, ",") {
			c, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || c < 1 || c > 10000 {
				return o, bad("-clients %q: want a comma-separated list of counts in 1..10000, like 100,500", *clients)
			}
			o.counts = append(o.counts, c)
		}
	}
	return o, nil
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// run is the command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errVersion):
		fmt.Fprintln(stdout, buildinfo.Version("loadtest"))
		return 0
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 2
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest: -cpuprofile %q: %v\n", o.cpuProfile, err)
			return 2
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "loadtest: -cpuprofile %q: %v\n", o.cpuProfile, err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := serverOpts{tick: o.tick, snap: o.snap, workers: o.workers, props: o.props, log: log, admin: o.admin, ackDelay: o.ackDelay, coalesce: o.coalesce, recvInline: o.recvInline, sendInline: o.sendInline, inputEvery: o.inputEvery, clientNice: o.clientNice,
		serverCPUs: formatCPUList(o.serverCPUs), clientCPUs: formatCPUList(o.clientCPUs), warmup: o.warmup}
	pin, pinFlag := o.serverCPUs, "-server-cpus"
	if o.role == "clients" {
		pin, pinFlag = o.clientCPUs, "-client-cpus"
	}
	if err := pinProcess(pin); err != nil {
		fmt.Fprintf(stderr, "loadtest: %s %s: %v; pick CPUs this process may use, or none\n", pinFlag, formatCPUList(pin), err)
		return 2
	}
	co := clientOpts{decode: o.decode, inputEvery: o.inputEvery}
	switch o.role {
	case "driver":
		drive(ctx, o.counts, o.duration, co, opts)
	case "clients":
		if err := runClients(ctx, o.addr, o.n, o.duration, co, os.Stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "loadtest: clients: %v\n", err)
			return 1
		}
	case "server":
		if err := serveOnly(ctx, o.addr, o.n, opts); err != nil {
			fmt.Fprintf(stderr, "loadtest: server: %v\n", err)
			return 1
		}
	}
	return 0
}

type serverOpts struct {
	tick, snap, workers, props int
	log                        *slog.Logger
	admin                      string
	ackDelay, coalesce         time.Duration
	recvInline, sendInline     bool
	inputEvery                 int
	clientNice                 int
	serverCPUs, clientCPUs     string // formatted lists, "none" when not pinned
	warmup                     time.Duration
}

// tickRecorder collects tick durations while measuring; it runs on the
// server's Run goroutine through Config.OnTick.
type tickRecorder struct {
	measuring atomic.Bool
	mu        sync.Mutex
	durations []time.Duration
	overruns  int
	interval  time.Duration
	first     server.TickInfo
	last      server.TickInfo
}

func (r *tickRecorder) onTick(ti server.TickInfo, took time.Duration) {
	if !r.measuring.Load() {
		return
	}
	r.mu.Lock()
	if len(r.durations) == 0 {
		r.first = ti
	}
	r.last = ti
	r.durations = append(r.durations, took)
	if took > r.interval {
		r.overruns++
	}
	r.mu.Unlock()
}

func newServer(addr string, maxClients int, o serverOpts, rec *tickRecorder) (*server.Server, *server.NetcodeTransport, error) {
	tr, err := server.ListenNetcode(addr, netcode.ServerConfig{
		ProtocolID: protocolID, MaxClients: maxClients, ReceiveQueue: 16384, Logger: o.log,
		Endpoint: endpoint.Config{AckDelay: o.ackDelay}, ReceiveCoalesce: o.coalesce, ReceiveInline: o.recvInline, SendInline: o.sendInline,
	})
	if err != nil {
		return nil, nil, err
	}
	cfg := server.Config{
		TickRate: o.tick, SnapshotRate: o.snap, SnapshotWorkers: o.workers,
		Codec: state.CodecConfig{Schema: schema}, Logger: o.log,
	}
	if rec != nil {
		cfg.OnTick = rec.onTick
	}
	srv, err := server.New(cfg, newLoadGame(1, o.props), tr)
	if err != nil {
		_ = tr.Close()
		return nil, nil, err
	}
	return srv, tr, nil
}

func serveOnly(ctx context.Context, addr string, maxClients int, o serverOpts) error {
	srv, tr, err := newServer(addr, maxClients, o, nil)
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", tr.Addr())
	return runServer(ctx, srv, o.admin)
}

// runServer runs srv until ctx is done, serving its metrics and pprof on
// adminAddr meanwhile (when not empty; the admin server stops after srv).
func runServer(ctx context.Context, srv *server.Server, adminAddr string) error {
	if adminAddr == "" {
		return srv.Run(ctx)
	}
	reg := admin.NewRegistry()
	if err := admin.Register(reg, srv); err != nil {
		_ = srv.Close()
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", adminAddr)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("-admin %q: %w", adminAddr, err)
	}
	actx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- admin.Serve(actx, ln, admin.Handler(reg)) }()
	err = srv.Run(ctx)
	stop()
	if aerr := <-served; err == nil {
		err = aerr
	}
	return err
}

// round is the outcome of one client count.
type round struct {
	clients, connected  int
	serverCPU           float64 // share of one core
	serverKernel        float64 // of which in the kernel (on loopback: the sends, and the clients' sockets' receive work they trigger)
	runqWait            float64 // time the server's threads waited for a CPU, per wall time
	clientCPU           float64
	clientKernel        float64 // of which in the kernel
	clientFrames        float64 // share of the clients' 60 Hz frames their process ran (below 1: it could not keep up)
	p50, p99, max       time.Duration
	ticks, overruns     int
	skipped             uint64
	snapshotsPerClientS float64
	kbpsOutPerClient    float64
	inputMissing        float64 // share of player ticks without the client's input in time
	rss, heap           uint64  // the server process's resident memory and Go heap in use, at the end
	err                 error
}

// clientOpts configure the headless clients.
type clientOpts struct {
	decode     bool
	inputEvery int
}

func drive(ctx context.Context, counts []int, d time.Duration, co clientOpts, o serverOpts) {
	fmt.Printf("loadtest: %d Hz ticks, %d Hz snapshots, %d snapshot worker(s), %d props/player, ack delay %v, receive coalesce %v, receive inline %v, send inline %v, input every %d frame(s), decode %v, %v per round, clients in a separate process (nice %d) on CPUs %s, server on CPUs %s (GOMAXPROCS %d) of %d\n",
		o.tick, o.snap, o.workers, o.props, o.ackDelay, o.coalesce, o.recvInline, o.sendInline, co.inputEvery, co.decode, d, o.clientNice, o.clientCPUs, o.serverCPUs, runtime.GOMAXPROCS(0), machineCPUs())
	var rounds []round
	for _, c := range counts {
		if ctx.Err() != nil {
			break
		}
		r := runRound(ctx, c, d, co, o)
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "round %d clients: %v\n", c, r.err)
		}
		rounds = append(rounds, r)
		fmt.Printf("round %d clients: %d connected, server CPU %.0f%%, tick p50 %v p99 %v, %d overruns, %d skipped, server RSS %s, heap in use %s\n",
			c, r.connected, 100*r.serverCPU, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.overruns, r.skipped, mb(r.rss), mb(r.heap))
		debug.FreeOSMemory() // the next round's RSS is its own
	}
	fmt.Println()
	printRounds(rounds)
}

// mb formats a byte count in MB (10^6 bytes), or "-" for none.
func mb(b uint64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

func printRounds(rs []round) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "clients\tconnected\tserver CPU\tof it kernel\tserver runq wait\tclient-proc CPU\tof it kernel\tclient frames run\ttick p50\ttick p99\ttick max\tticks\toverruns\tskipped\tsnap/s/client\tkbit/s out/client\tinput missing\tserver RSS\theap in use\t")
	for _, r := range rs {
		fmt.Fprintf(w, "%d\t%d\t%.0f%%\t%.0f%%\t%.0f%%\t%.0f%%\t%.0f%%\t%.0f%%\t%v\t%v\t%v\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f%%\t%s\t%s\t\n",
			r.clients, r.connected, 100*r.serverCPU, 100*r.serverKernel, 100*r.runqWait, 100*r.clientCPU, 100*r.clientKernel, 100*r.clientFrames, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond),
			r.max.Round(time.Microsecond), r.ticks, r.overruns, r.skipped, r.snapshotsPerClientS, r.kbpsOutPerClient, 100*r.inputMissing, mb(r.rss), mb(r.heap))
	}
	_ = w.Flush()
}

func runRound(ctx context.Context, n int, d time.Duration, co clientOpts, o serverOpts) round {
	r := round{clients: n}
	rec := &tickRecorder{interval: time.Second / time.Duration(o.tick)}
	srv, tr, err := newServer("127.0.0.1:0", n, o, rec)
	if err != nil {
		r.err = err
		return r
	}
	sctx, cancelServer := context.WithCancel(ctx)
	defer cancelServer()
	serverDone := make(chan error, 1)
	go func() { serverDone <- runServer(sctx, srv, o.admin) }()
	defer func() {
		cancelServer()
		<-serverDone
	}()

	// The client process: a hard deadline well past what it needs.
	cctx, cancelClients := context.WithTimeout(ctx, o.warmup+d+90*time.Second)
	defer cancelClients()
	exe, err := os.Executable()
	if err != nil {
		r.err = err
		return r
	}
	args := []string{"-role=clients", "-n=" + strconv.Itoa(n), "-addr=" + tr.Addr().String(), "-duration=" + (o.warmup + d + 60*time.Second).String()}
	args = append(args, "-input-every="+strconv.Itoa(co.inputEvery), "-client-cpus="+o.clientCPUs)
	if co.decode {
		args = append(args, "-decode")
	}
	cmd := exec.CommandContext(cctx, exe, args...)
	if nice, err := exec.LookPath("nice"); err == nil && o.clientNice != 0 {
		cmd = exec.CommandContext(cctx, nice, append([]string{"-n", strconv.Itoa(o.clientNice), exe}, args...)...)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		r.err = err
		return r
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		r.err = err
		return r
	}
	if err := cmd.Start(); err != nil {
		r.err = err
		return r
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine := func(prefix string, timeout time.Duration) (string, error) {
		t := time.NewTimer(timeout)
		defer t.Stop()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return "", errors.New("client process ended early")
				}
				if strings.HasPrefix(l, prefix) {
					return l, nil
				}
			case <-t.C:
				return "", fmt.Errorf("no %q from the client process within %v", prefix, timeout)
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
	}
	finish := func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	if _, err := waitLine("ready", 60*time.Second); err != nil {
		r.err = err
		cancelClients()
		finish()
		return r
	}
	// Warm up: the first snapshots after a connect are full ones, and the
	// clients' input lead settles over the first second or so.
	select {
	case <-time.After(o.warmup):
	case <-ctx.Done():
	}

	// Measure.
	u0, s0 := cpuTime()
	w0 := runQueueWait()
	start := time.Now()
	rec.measuring.Store(true)
	st0 := srv.Stats()
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	rec.measuring.Store(false)
	wall := time.Since(start)
	u1, s1 := cpuTime()
	r.runqWait = float64(runQueueWait()-w0) / float64(wall)
	r.connected = srv.Clients()
	st1 := srv.Stats()
	snaps := float64(st1.SnapshotsFull + st1.SnapshotsDelta - st0.SnapshotsFull - st0.SnapshotsDelta)
	bytesOut := float64(st1.Transport.BytesOut - st0.Transport.BytesOut) // sampled once a second
	r.skipped = st1.Skipped - st0.Skipped
	fresh := float64(st1.InputTicks[server.InputFresh] - st0.InputTicks[server.InputFresh])
	repeated := float64(st1.InputTicks[server.InputRepeated] - st0.InputTicks[server.InputRepeated])
	if fresh+repeated > 0 {
		r.inputMissing = repeated / (fresh + repeated)
	}
	r.serverCPU = float64((u1-u0)+(s1-s0)) / float64(wall)
	r.serverKernel = float64(s1-s0) / float64(wall)
	// Memory with every client connected: this process is the server
	// (the clients run in their own). The previous round's memory was
	// handed back to the OS before this one started.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.rss, r.heap = residentBytes(), ms.HeapInuse

	// Ask the clients for their CPU figure and let them go.
	_ = stdin.Close()
	if l, err := waitLine("done", 30*time.Second); err == nil {
		if d, ok := parseClientsDone(l); ok {
			r.clientCPU, r.clientKernel, r.clientFrames = d.cpu/d.wall, d.sys/d.wall, d.frames
		}
	}
	_ = cmd.Wait()

	rec.mu.Lock()
	ds := slices.Clone(rec.durations)
	r.overruns = rec.overruns
	rec.mu.Unlock()
	slices.Sort(ds)
	r.ticks = len(ds)
	if len(ds) > 0 {
		r.p50 = ds[len(ds)/2]
		r.p99 = ds[min(len(ds)-1, len(ds)*99/100)]
		r.max = ds[len(ds)-1]
	}
	if r.connected > 0 {
		r.snapshotsPerClientS = snaps / wall.Seconds() / float64(r.connected)
		r.kbpsOutPerClient = bytesOut * 8 / 1000 / wall.Seconds() / float64(r.connected)
	}
	return r
}

// clientsTotals is the clients process's last line: CPU and kernel seconds,
// wall seconds of the playing phase, and the share of frames run.
type clientsTotals struct{ cpu, sys, wall, frames float64 }

// parseClientsDone reads a "done" line of runClients; ok is false for any
// other line or a zero wall time.
func parseClientsDone(l string) (d clientsTotals, ok bool) {
	_, err := fmt.Sscanf(l, "done cpu=%g sys=%g wall=%g frames=%g", &d.cpu, &d.sys, &d.wall, &d.frames)
	return d, err == nil && d.wall > 0
}

// runClients connects n headless clients to addr, prints "ready" when all
// are connected, plays until stdin closes (or maxRun passes), closes them
// and prints "done cpu=<seconds> sys=<seconds> wall=<seconds> frames=<share>"
// for the playing phase: CPU time, of it in the kernel, wall time, and the
// share of the bots' 60 Hz frames it ran (the ticker drops the frames a
// saturated process cannot run).
func runClients(ctx context.Context, addr string, n int, maxRun time.Duration, co clientOpts, stdin io.Reader, stdout io.Writer) error {
	if co.inputEvery < 1 || co.inputEvery > 4 {
		return fmt.Errorf("-input-every %d: want 1..4 (inputs are repeated 4 times)", co.inputEvery)
	}
	ctx, cancel := context.WithTimeout(ctx, maxRun)
	defer cancel()
	go func() { // the driver closes stdin to stop us
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()

	bots := make([]*bot, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var failed atomic.Int32
	var firstErr atomic.Value
	for i := range bots {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
			defer dcancel()
			c, err := netcode.Dial(dctx, addr, netcode.ClientConfig{ProtocolID: protocolID, ReceiveQueue: 64})
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			b, err := newBot(c, uint64(i), co)
			if err != nil {
				_ = c.Close()
				failed.Add(1)
				return
			}
			bots[i] = b
		})
	}
	wg.Wait()
	bots = slices.DeleteFunc(bots, func(b *bot) bool { return b == nil })
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "loadtest clients: %d of %d failed to connect (first error: %v)\n", f, n, firstErr.Load())
	}
	fmt.Fprintf(stdout, "ready %d\n", len(bots))
	u0, s0 := cpuTime()
	start := time.Now()

	// A few goroutines drive all bots at 60 Hz, each its own share.
	drivers := 4
	var ran atomic.Int64 // bot frames run
	var dwg sync.WaitGroup
	for w := range drivers {
		dwg.Go(func() {
			mine := make([]*bot, 0, len(bots)/drivers+1)
			for i := w; i < len(bots); i += drivers {
				mine = append(mine, bots[i])
			}
			t := time.NewTicker(time.Second / 60)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				now := time.Now()
				for _, b := range mine {
					b.frame(now)
				}
				ran.Add(int64(len(mine)))
			}
		})
	}
	dwg.Wait()
	u1, s1 := cpuTime()
	wall := time.Since(start)
	for _, b := range bots {
		_ = b.c.Close()
	}
	var frames float64
	if due := wall.Seconds() * 60 * float64(len(bots)); due > 0 {
		frames = min(float64(ran.Load())/due, 1)
	}
	fmt.Fprintf(stdout, "done cpu=%g sys=%g wall=%g frames=%g\n", ((u1 - u0) + (s1 - s0)).Seconds(), (s1 - s0).Seconds(), wall.Seconds(), frames)
	return nil
}

// bot is one headless client: it steers at random, sends its inputs with
// redundancy ahead of the server's tick, and (optionally) decodes snapshots.
type bot struct {
	c       *netcode.Client
	w       *wire.InputWriter
	r       *wire.SnapshotReader
	rng     *rand.Rand
	msg     []byte
	in      [2]byte
	tick    uint32 // server tick estimate at lastSnap
	lastAt  time.Time
	rate    int
	next    uint32 // next input tick
	started bool
	dead    bool
	lead    int // ticks ahead of the server estimate
	every   int // send inputs every this many frames
	frames  int
}

func newBot(c *netcode.Client, seed uint64, co clientOpts) (*bot, error) {
	w, err := wire.NewInputWriter(4)
	if err != nil {
		return nil, err
	}
	b := &bot{c: c, w: w, rng: rand.New(rand.NewPCG(seed, 7)), msg: make([]byte, 0, 64), every: co.inputEvery, frames: int(seed), lead: initialLead}
	if co.decode {
		if b.r, err = wire.NewSnapshotReader(state.CodecConfig{Schema: schema}, 0); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// initialLead is how many ticks ahead of its estimate of the server's tick
// a bot starts sending inputs; it adapts to the server's InputLead.
const initialLead = 4

func (b *bot) frame(now time.Time) {
	if b.dead {
		return
	}
	// Queue this frame's input first, so that Update sends it in the same
	// datagram as the acks of the snapshots received.
	b.frames++
	if b.started && b.frames%b.every == 0 {
		// The server's tick, from the welcome (or the newest snapshot) and
		// the time since, plus a lead so inputs arrive before their tick.
		target := b.tick + uint32(now.Sub(b.lastAt)*time.Duration(b.rate)/time.Second) + uint32(b.lead)
		if b.next == 0 || b.next+30 < target {
			b.next = target
		}
		for ; b.next <= target; b.next++ {
			if b.rng.IntN(60) == 0 {
				b.in = [2]byte{byte(b.rng.IntN(7) - 3), byte(b.rng.IntN(7) - 3)}
			}
			b.w.Push(b.next, b.in[:])
		}
		b.msg = b.w.AppendMessage(b.msg[:0])
		_, _ = b.c.Send(server.DefaultInputChannel, b.msg)
	}
	if err := b.c.Update(now); err != nil {
		b.dead = true
		return
	}
	for m, ok := b.c.ReadMessage(server.DefaultControlChannel); ok; m, ok = b.c.ReadMessage(server.DefaultControlChannel) {
		if w, err := wire.DecodeWelcome(m); err == nil && !b.started {
			b.tick, b.lastAt, b.rate, b.started = w.Tick, now, w.TickRate, true
		}
	}
	for m, ok := b.c.ReadMessage(server.DefaultSnapshotChannel); ok; m, ok = b.c.ReadMessage(server.DefaultSnapshotChannel) {
		// The server says how early our inputs arrive: steer the lead so
		// that they arrive about 3 ticks early (half the error per
		// snapshot, to damp the delay of the feedback).
		if hdr, _, err := wire.DecodeSnapshotMessage(m); err == nil && hdr.HasInputAck {
			b.lead = max(1, min(60, b.lead+int(3-hdr.InputLead)/2))
		}
		if b.r == nil {
			continue // the transport acks it anyway; the server's work is the same
		}
		if snap, _, err := b.r.Read(m); err == nil && snap.Tick > b.tick {
			b.tick, b.lastAt = snap.Tick, now
		}
		b.w.SetResync(b.r.NeedResync())
	}
}
