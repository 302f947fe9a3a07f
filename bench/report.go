package main

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

type tputRow struct {
	name                    string
	msgs, datagrams, allocs figure
}

// params are the sizes of the workloads, for the report's prose.
type params struct {
	runs, rtN, streamN, rate, pings int
	tput, window                    time.Duration
}

type roomsRow struct {
	sys             string
	n               int
	skipped         bool   // a smaller N already collapsed
	cpu, ccpu, done figure // ccpu: the clients' process
	kernel          figure // the part of cpu in the kernel
	p50, p99        figure
}

type rtRow struct {
	name     string
	p50, p99 figure
}

type streamRow struct {
	loss                float64
	name                string
	p50, p99, max, done figure
}

// cell formats a figure as "median (lo–hi)" with the given precision.
func cell(f figure, prec int) string {
	return fmt.Sprintf("%.*f (%.*f–%.*f)", prec, f.median, prec, f.lo, prec, f.hi)
}

// kcell formats a large figure in thousands.
func kcell(f figure) string {
	return fmt.Sprintf("%.0fk (%.0fk–%.0fk)", f.median/1000, f.lo/1000, f.hi/1000)
}

// report renders every figure as one Markdown document.
func report(env string, p params, tp []tputRow, rt []rtRow, st, pp []streamRow, cr []cappedRow, rr []roomsRow, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Tickwire against UDP and kcp-go\n\n")
	fmt.Fprintf(&b, "%s; %s. Every figure is the median of %d runs, with the smallest and largest in brackets. Loopback only; the whole run took %v.\n\n",
		env, time.Now().UTC().Format("2006-01-02"), p.runs, took.Round(time.Second))

	if len(rt) > 0 {
		writeRoundTrip(&b, p, rt)
	}
	if len(tp) > 0 {
		writeThroughput(&b, p, tp)
	}
	if len(st) > 0 {
		writeStream(&b, p, st)
	}
	if len(pp) > 0 {
		writePingPong(&b, p, pp)
	}
	if len(cr) > 0 {
		writeCapped(&b, cr)
	}
	if len(rr) > 0 {
		writeRooms(&b, p, rr)
	}
	return b.String()
}

func writeThroughput(b *strings.Builder, p params, tp []tputRow) {
	fmt.Fprintf(b, "## Throughput on clean loopback\n\n")
	fmt.Fprintf(b, "One way, as fast as the sender goes, %v per run. Messages/s are those the receiver's code read; datagrams/s count both ways "+
		"(data and acks; plain UDP sends none back); allocations per message are the whole process's (both peers, sockets included). "+
		"The last column is messages/s over plain UDP's 32-byte datagrams/s.\n\n", p.tput)
	fmt.Fprintf(b, "| peer | msgs/s | datagrams/s | allocs/msg | × limit |\n|---|---|---|---|---|\n")
	for _, r := range tp {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %.2f |\n", r.name, kcell(r.msgs), kcell(r.datagrams), cell(r.allocs, 3), r.msgs.median/tp[0].msgs.median)
	}
	fmt.Fprintf(b, "\n")
}

func writeRoundTrip(b *strings.Builder, p params, rt []rtRow) {
	fmt.Fprintf(b, "## Round trip on clean loopback\n\n")
	fmt.Fprintf(b, "A 32-byte message to an echo server and back, one at a time, %d per run (after %d to warm up).\n\n", p.rtN, p.rtN/10)
	fmt.Fprintf(b, "| peer | p50 µs | p99 µs | p99 / UDP's |\n|---|---|---|---|\n")
	limit := rt[0].p99.median
	for _, r := range rt {
		fmt.Fprintf(b, "| %s | %s | %s | %.1f× |\n", r.name, cell(r.p50, 1), cell(r.p99, 1), r.p99.median/limit)
	}
	fmt.Fprintf(b, "\n")
}

func writeStream(b *strings.Builder, p params, st []streamRow) {
	fmt.Fprintf(b, "## A stream through a lossy proxy\n\n")
	fmt.Fprintf(b, "%d messages of 32 bytes at %d/s from a client to a server through the netsim UDP proxy: "+
		"independent loss each way, 50 ± 10 ms one way (jitter reorders). Latency runs from when a message was due "+
		"to its delivery to the server's game code (in order, for the ordered peers); delivered is the share that arrived "+
		"(latest-state drops what a newer message overtook or loss took: it is not meant to arrive whole).\n\n", p.streamN, p.rate)
	fmt.Fprintf(b, "| loss | peer | p50 ms | p99 ms | max ms | delivered %% |\n|---|---|---|---|---|---|\n")
	for _, r := range st {
		fmt.Fprintf(b, "| %.0f%% | %s | %s | %s | %s | %s |\n", r.loss*100, r.name, cell(r.p50, 1), cell(r.p99, 1), cell(r.max, 1), cell(r.done, 2))
	}
	fmt.Fprintf(b, "\n![stream latency](stream.png)\n")
}

func writePingPong(b *strings.Builder, p params, pp []streamRow) {
	fmt.Fprintf(b, "\n## Ping-pong through the lossy proxy\n\n")
	fmt.Fprintf(b, "%d reliable 32-byte pings, one every 10 ms without waiting, echoed at once by the server; the same proxy and link. "+
		"Round trip from when a ping was due to when its echo was read.\n\n", p.pings)
	fmt.Fprintf(b, "| loss | peer | p50 ms | p99 ms | max ms | answered %% |\n|---|---|---|---|---|---|\n")
	for _, r := range pp {
		fmt.Fprintf(b, "| %.0f%% | %s | %s | %s | %s | %s |\n", r.loss*100, r.name, cell(r.p50, 1), cell(r.p99, 1), cell(r.max, 1), cell(r.done, 2))
	}
}

func writeRooms(b *strings.Builder, p params, rr []roomsRow) {
	fmt.Fprintf(b, "\n## Rooms\n\n")
	fmt.Fprintf(b, "N clients in rooms of %d, each sending a 32-byte update every %v that the server forwards to the %d others of its room "+
		"(Tickwire: unreliable channel, the server loop ticking every %v, server and clients with ReceiveInline unless -inline=false, each "+
		"client's loop queuing its update before its Update; kcp-go: forwarded as it is read; udp: the floor, a server with nothing above UDP "+
		"that every tick drains its socket with recvmmsg and sends each member its updates in one datagram with sendmmsg, the same datagrams "+
		"Tickwire's server sends without headers, acks or sessions, to clients run as Tickwire's are). The server and the clients run "+
		"in two processes pinned to one core each. Server CPU is its CPU time over the %v window (100%% = one core), of it kernel the part spent in the kernel (on loopback a send pays for the receiving socket's delivery too), clients CPU the same for the process of all N clients; delivered is the "+
		"share of the forwards due that arrived; latency runs from the sender's Send to the receiver's read. An N sustains when ≥ 99%% "+
		"is delivered with p99 < 50 ms. Where clients CPU nears 100%%, the clients' one core, not the server, "+
		"is what gives out first (on a machine with more cores they would get more).\n\n", roomSize, updateInterval, roomSize-1, serverTick, p.window)
	fmt.Fprintf(b, "| peer | N | server CPU %% | of it kernel %% | clients CPU %% | delivered %% | p50 ms | p99 ms | sustains |\n|---|---|---|---|---|---|---|---|---|\n")
	largest := map[string]int{}
	for _, r := range rr {
		if r.skipped {
			fmt.Fprintf(b, "| %s | %d | – | – | – | – | – | – | not run (a smaller N collapsed) |\n", r.sys, r.n)
			continue
		}
		ok := r.done.median >= 99 && r.p99.median < 50
		if ok {
			largest[r.sys] = max(largest[r.sys], r.n)
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %s | %v |\n", r.sys, r.n, cell(r.cpu, 0), cell(r.kernel, 0), cell(r.ccpu, 0), cell(r.done, 2), cell(r.p50, 1), cell(r.p99, 1), map[bool]string{true: "yes", false: "no"}[ok])
	}
	fmt.Fprintf(b, "\nLargest N sustained: Tickwire %d, kcp-go %d (plain UDP %d).\n", largest["tickwire"], largest["kcp"], largest["udp"])
}

// chart draws the stream's p50 and p99 by loss and peer as grouped bars.
func chart(path string, st []streamRow) error {
	p := plot.New()
	p.Title.Text = "10,000-message stream, 50 ± 10 ms each way: delivery latency"
	p.Y.Label.Text = "ms (median of runs)"
	var losses []float64
	var names []string
	for _, r := range st {
		if len(losses) == 0 || losses[len(losses)-1] != r.loss {
			losses = append(losses, r.loss)
		}
		found := false
		for _, n := range names {
			found = found || n == r.name
		}
		if !found {
			names = append(names, r.name)
		}
	}
	colors := []color.RGBA{{31, 119, 180, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}}
	width := vg.Points(16)
	bar := 0
	for i, name := range names {
		for q, pick := range []func(streamRow) float64{
			func(r streamRow) float64 { return r.p50.median },
			func(r streamRow) float64 { return r.p99.median },
		} {
			var vals plotter.Values
			for _, loss := range losses {
				v := 0.0
				for _, r := range st {
					if r.loss == loss && r.name == name {
						v = pick(r)
					}
				}
				vals = append(vals, v)
			}
			bars, err := plotter.NewBarChart(vals, width)
			if err != nil {
				return err
			}
			c := colors[i%len(colors)]
			if q == 0 { // p50 paler (blended with white), p99 full
				c = color.RGBA{R: c.R/2 + 128, G: c.G/2 + 128, B: c.B/2 + 128, A: 255}
			}
			bars.Color = c
			bars.LineStyle.Width = 0
			bars.Offset = width * vg.Length(float64(bar)-float64(2*len(names)-1)/2)
			bar++
			p.Add(bars)
			p.Legend.Add(fmt.Sprintf("%s %s", name, []string{"p50", "p99"}[q]), bars)
		}
	}
	labels := make([]string, len(losses))
	for i, l := range losses {
		labels[i] = fmt.Sprintf("%.0f%% loss", l*100)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(losses))-0.4
	p.Legend.Top = true
	p.Legend.Left = true
	return p.Save(9*vg.Inch, 5*vg.Inch, path)
}
