// Command bench measures Tickwire against plain UDP and kcp-go on loopback,
// and through a lossy netsim proxy, and prints one table. It also writes the
// table as Markdown and a chart of the lossy stream as PNG (see -out).
//
// It is its own Go module so that kcp-go and gonum/plot never enter
// Tickwire's go.mod. Run it with `make bench-peers` from the repository
// root, or `go run .` here; -runs and -quick shorten it.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	out := flag.String("out", "results", "directory for results.md and stream.png")
	runs := flag.Int("runs", 3, "runs of every workload; figures are their medians")
	rtN := flag.Int("rt", 5000, "round trips per run")
	rtTrace := flag.String("rttrace", "", "round trip: write a runtime/trace of the first run of \"Tickwire reliable-ordered\" (the default receive mode) to this file (open it with go tool trace: its round trips are regions)")
	streamN := flag.Int("stream", 10_000, "messages per stream run")
	tputD := flag.Duration("tput", 2*time.Second, "duration of a throughput run")
	pings := flag.Int("pings", 500, "pings per ping-pong run (one every 10 ms)")
	roomsNs := flag.String("rooms", "100,500,1000,2000,4000", "client counts of the rooms workload (multiples of 20; empty: skip it)")
	roomsPeers := flag.String("roomspeers", "udp,tickwire,kcp", "peers of the rooms workload, comma-separated (udp: a server with nothing above UDP, the floor)")
	window := flag.Duration("window", 4*time.Second, "measured window of a rooms run")
	sections := flag.String("only", "tput,rt,stream,pingpong,capped,rooms,budget", "sections to run, comma-separated (capped: a stream through a 1 Mbit/s cap; budget: the send budget through a stepping cap, simulated; writes budget-step.png)")
	role := flag.String("role", "", "internal: rooms-server or rooms-clients (child processes of the rooms workload)")
	sys := flag.String("sys", "tickwire", "internal: udp, tickwire or kcp")
	addr := flag.String("addr", "", "internal: the rooms server's address")
	n := flag.Int("n", 0, "internal: rooms clients")
	profile := flag.String("serverprofile", "", "rooms: write the server's CPU profile over the window to this file (the last run's; \".<peer>\" is added to the name), and the clients' to the same name with \".clients\" added")
	ackDelay := flag.Duration("ackdelay", 0, "rooms: the endpoints' AckDelay (0: the default; negative: ack at every Flush)")
	coalesce := flag.Duration("coalesce", time.Millisecond, "rooms: the Tickwire server's ServerConfig.ReceiveCoalesce (negative: read at every arrival)")
	inline := flag.Bool("inline", true, "rooms: the Tickwire server and clients set ReceiveInline (each reads its socket in its own loop, no reader goroutines; -coalesce then does not apply)")
	flag.Parse()
	log.SetFlags(0)
	switch *role {
	case "":
	case "rooms-server":
		if err := roomsServer(*sys, *ackDelay, *coalesce, *inline, *profile); err != nil {
			log.Fatalf("bench: rooms server: %v", err)
		}
		return
	case "rooms-clients":
		if err := roomsClients(*sys, *addr, *n, *window, *ackDelay, *inline, *profile); err != nil {
			log.Fatalf("bench: rooms clients: %v", err)
		}
		return
	default:
		log.Fatalf("bench: -role %q: want rooms-server or rooms-clients", *role)
	}

	env := fmt.Sprintf("%d cores, %s, %s, %s/%s", runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	log.Printf("bench: %s; %d runs of every workload", env, *runs)
	started := time.Now()

	on := func(name string) bool { return slices.Contains(strings.Split(*sections, ","), name) }
	if on("budget") {
		pts, err := budgetStep()
		if err != nil {
			log.Fatalf("bench: budget step: %v", err)
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			log.Fatalf("bench: %v", err)
		}
		path := filepath.Join(*out, "budget-step.png")
		if err := budgetChart(path, pts); err != nil {
			log.Fatalf("bench: budget chart: %v", err)
		}
		fmt.Print(budgetSummary(pts))
		log.Printf("bench: wrote %s", path)
		if *sections == "budget" {
			return // results.md holds the other sections' figures: keep it
		}
	}
	var rt []rtRow
	for _, w := range sectionIf(on("rt"), []struct {
		name string
		run  func(n int) (sample, error)
	}{
		{"UDP (net.UDPConn, the limit)", udpRoundTrip},
		{"Tickwire unreliable", func(n int) (sample, error) { return twRoundTrip(chUnreliable, n, false) }},
		{"Tickwire reliable-ordered", func(n int) (sample, error) {
			to := *rtTrace
			*rtTrace = "" // the first run only
			return twRoundTripTraced(chReliable, n, false, to)
		}},
		{"Tickwire unreliable, ReceiveInline", func(n int) (sample, error) { return twRoundTrip(chUnreliable, n, true) }},
		{"Tickwire reliable-ordered, ReceiveInline", func(n int) (sample, error) { return twRoundTrip(chReliable, n, true) }},
		{"kcp-go v5.7.5 fast mode", kcpRoundTrip},
	}) {
		var p50, p99 []float64
		for r := range *runs {
			runtime.GC() // a quiet heap for the latency figures
			s, err := w.run(*rtN)
			if err != nil {
				log.Fatalf("bench: round trip, %s: %v", w.name, err)
			}
			p50, p99 = append(p50, us(s.quantile(0.5))), append(p99, us(s.quantile(0.99)))
			log.Printf("round trip %-30s run %d: p50 %.1f µs, p99 %.1f µs", w.name, r+1, p50[r], p99[r])
		}
		rt = append(rt, rtRow{name: w.name, p50: summarize(p50), p99: summarize(p99)})
	}

	var tp []tputRow
	for _, w := range sectionIf(on("tput"), []struct {
		name string
		run  func() (rate, error)
	}{
		{"UDP plain, 32 B (the limit)", func() (rate, error) { return udpThroughput(32, false, *tputD) }},
		{"UDP plain, 1200 B", func() (rate, error) { return udpThroughput(1200, false, *tputD) }},
		{"UDP batched (sendmmsg/recvmmsg), 32 B", func() (rate, error) { return udpThroughput(32, true, *tputD) }},
		{"UDP batched, 1200 B", func() (rate, error) { return udpThroughput(1200, true, *tputD) }},
		{"Tickwire unreliable, 32 B", func() (rate, error) { return twThroughput(chUnreliable, *tputD) }},
		{"Tickwire reliable-ordered, 32 B", func() (rate, error) { return twThroughput(chReliable, *tputD) }},
		{"kcp-go v5.7.5 fast mode, 32 B", func() (rate, error) { return kcpThroughput(*tputD) }},
	}) {
		var m, d, a []float64
		for r := range *runs {
			x, err := w.run()
			if err != nil {
				log.Fatalf("bench: throughput, %s: %v", w.name, err)
			}
			m, d, a = append(m, x.msgs), append(d, x.datagrams), append(a, x.allocs)
			log.Printf("throughput %-38s run %d: %.0f msgs/s, %.0f datagrams/s, %.3f allocs/msg", w.name, r+1, x.msgs, x.datagrams, x.allocs)
		}
		tp = append(tp, tputRow{name: w.name, msgs: summarize(m), datagrams: summarize(d), allocs: summarize(a)})
	}

	const rate = 1000
	var st []streamRow
	for _, loss := range sectionIf(on("stream"), []float64{0, 0.05, 0.20}) {
		link := linkConfig{loss: loss, latency: 50 * time.Millisecond, jitter: 10 * time.Millisecond}
		for _, w := range []struct {
			name string
			run  func(seed uint64) (sample, error)
		}{
			{"Tickwire reliable-ordered", func(seed uint64) (sample, error) { return twStream(chReliable, *streamN, rate, link, seed) }},
			{"Tickwire latest-state", func(seed uint64) (sample, error) { return twStream(chSequenced, *streamN, rate, link, seed) }},
			{"kcp-go v5.7.5 fast mode", func(seed uint64) (sample, error) { return kcpStream(*streamN, rate, link, seed) }},
		} {
			var p50, p99, mx, done []float64
			samples := concurrently(*runs, func(r int) (sample, error) { return w.run(uint64(r + 1)) },
				func(err error) { log.Fatalf("bench: stream, %s, loss %.0f%%: %v", w.name, loss*100, err) })
			for r, s := range samples {
				p50 = append(p50, ms(s.quantile(0.5)))
				p99 = append(p99, ms(s.quantile(0.99)))
				mx = append(mx, ms(s.quantile(1)))
				done = append(done, 100*s.complete())
				log.Printf("stream %.0f%% %-27s run %d: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %.2f%% delivered",
					loss*100, w.name, r+1, p50[r], p99[r], mx[r], done[r])
			}
			st = append(st, streamRow{loss: loss, name: w.name, p50: summarize(p50), p99: summarize(p99), max: summarize(mx), done: summarize(done)})
		}
	}

	var pp []streamRow
	for _, loss := range sectionIf(on("pingpong"), []float64{0, 0.05, 0.20}) {
		link := linkConfig{loss: loss, latency: 50 * time.Millisecond, jitter: 10 * time.Millisecond}
		for _, w := range []struct {
			name string
			run  func(seed uint64) (sample, error)
		}{
			{"Tickwire reliable-ordered", func(seed uint64) (sample, error) { return twPingPong(*pings, 10*time.Millisecond, link, seed) }},
			{"kcp-go v5.7.5 fast mode", func(seed uint64) (sample, error) { return kcpPingPong(*pings, 10*time.Millisecond, link, seed) }},
		} {
			var p50, p99, mx, done []float64
			samples := concurrently(*runs, func(r int) (sample, error) { return w.run(uint64(100 + r)) },
				func(err error) { log.Fatalf("bench: ping-pong, %s, loss %.0f%%: %v", w.name, loss*100, err) })
			for r, s := range samples {
				p50, p99 = append(p50, ms(s.quantile(0.5))), append(p99, ms(s.quantile(0.99)))
				mx, done = append(mx, ms(s.quantile(1))), append(done, 100*s.complete())
				log.Printf("ping-pong %.0f%% %-27s run %d: p50 %.1f ms, p99 %.1f ms, %.2f%% answered", loss*100, w.name, r+1, p50[r], p99[r], done[r])
			}
			pp = append(pp, streamRow{loss: loss, name: w.name, p50: summarize(p50), p99: summarize(p99), max: summarize(mx), done: summarize(done)})
		}
	}

	var cr []cappedRow
	for _, w := range sectionIf(on("capped"), []struct {
		name string
		run  func(seed uint64) (cappedResult, error)
	}{
		{"Tickwire latest-state, budget", func(seed uint64) (cappedResult, error) { return twCapped(chSequenced, true, seed) }},
		{"Tickwire unreliable, budget", func(seed uint64) (cappedResult, error) { return twCapped(chUnreliable, true, seed) }},
		{"Tickwire reliable-ordered, budget", func(seed uint64) (cappedResult, error) { return twCapped(chReliable, true, seed) }},
		{"Tickwire reliable-ordered, no budget", func(seed uint64) (cappedResult, error) { return twCapped(chReliable, false, seed) }},
		{"kcp-go v5.7.5 fast mode", kcpCapped},
	}) {
		var kbps, p50, p99 []float64
		results := concurrently(*runs, func(r int) (cappedResult, error) { return w.run(uint64(r + 1)) },
			func(err error) { log.Fatalf("bench: capped, %s: %v", w.name, err) })
		for r, res := range results {
			s := sample{lat: res.lat}
			kbps = append(kbps, float64(res.delivered)*8/1000/cappedFor.Seconds())
			p50, p99 = append(p50, ms(s.quantile(0.5))), append(p99, ms(s.quantile(0.99)))
			log.Printf("capped %-38s run %d: delivered %.0f kbit/s, p50 %.1f ms, p99 %.1f ms", w.name, r+1, kbps[r], p50[r], p99[r])
		}
		cr = append(cr, cappedRow{name: w.name, kbps: summarize(kbps), p50: summarize(p50), p99: summarize(p99)})
	}

	var rr []roomsRow
	if on("rooms") && *roomsNs != "" {
		for _, sys := range strings.Split(*roomsPeers, ",") {
			if sys != "udp" && sys != "tickwire" && sys != "kcp" {
				log.Fatalf("bench: -roomspeers: %q is not a peer: want udp, tickwire or kcp", sys)
			}
			collapsed := false
			for _, f := range strings.Split(*roomsNs, ",") {
				var clients int
				if _, err := fmt.Sscan(f, &clients); err != nil || clients <= 0 || clients%roomSize != 0 {
					log.Fatalf("bench: -rooms: %q is not a positive multiple of %d", f, roomSize)
				}
				if collapsed {
					rr = append(rr, roomsRow{sys: sys, n: clients, skipped: true})
					continue
				}
				var cpu, kern, ccpu, done, p50, p99 []float64
				for r := range *runs {
					x, err := runRooms(sys, clients, *window, *ackDelay, *coalesce, *inline, *profile)
					if err != nil {
						log.Fatalf("bench: rooms, %s, N=%d: %v", sys, clients, err)
					}
					cpu, ccpu, done = append(cpu, 100*x.CPU), append(ccpu, 100*x.ClientCPU), append(done, 100*x.Delivered)
					kern = append(kern, 100*x.Kernel)
					p50, p99 = append(p50, x.P50), append(p99, x.P99)
					log.Printf("rooms %-8s N=%-5d run %d: server CPU %.0f%% (kernel %.0f%%), clients CPU %.0f%%, delivered %.2f%%, p50 %.1f ms, p99 %.1f ms", sys, clients, r+1, cpu[r], kern[r], ccpu[r], done[r], p50[r], p99[r])
				}
				row := roomsRow{sys: sys, n: clients, cpu: summarize(cpu), kernel: summarize(kern), ccpu: summarize(ccpu), done: summarize(done), p50: summarize(p50), p99: summarize(p99)}
				rr = append(rr, row)
				collapsed = row.done.median < 50 // larger N only takes time
			}
		}
	}

	md := report(env, params{runs: *runs, rtN: *rtN, streamN: *streamN, rate: rate, pings: *pings, tput: *tputD, window: *window}, tp, rt, st, pp, cr, rr, time.Since(started))
	fmt.Print(md)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatalf("bench: %v", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "results.md"), []byte(md), 0o644); err != nil {
		log.Fatalf("bench: %v", err)
	}
	if len(st) > 0 {
		if err := chart(filepath.Join(*out, "stream.png"), st); err != nil {
			log.Fatalf("bench: chart: %v", err)
		}
	}
	log.Printf("bench: wrote %s and %s in %v", filepath.Join(*out, "results.md"), filepath.Join(*out, "stream.png"), time.Since(started).Round(time.Second))
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// concurrently makes the n runs of a workload at once, run(r) for r in
// [0, n), and returns their results in run order; fail gets the first
// error. For the workloads through the lossy proxy: each run has its own
// proxy and link, and paces its messages by time at a rate that takes a few
// percent of a core, so its runs do not disturb each other (the round-trip,
// throughput and rooms workloads take whole cores and run one at a time).
func concurrently[T any](n int, run func(r int) (T, error), fail func(error)) []T {
	out, errs := make([]T, n), make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		wg.Go(func() { out[r], errs[r] = run(r) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fail(err)
		}
	}
	return out
}

// sectionIf returns items when on, and nothing otherwise.
func sectionIf[T any](on bool, items []T) []T {
	if !on {
		return nil
	}
	return items
}
