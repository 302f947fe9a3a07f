package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/tickwire/tickwire/demo-game/internal/cli"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// options is the command line.
type options struct {
	addr, wtAddr, rtcAddr, httpAddr string
	admin                           string
	host                            string
	dir                             string
	certFile, keyFile               string
	maxPlayers, npcs                int
	link                            netsim.Config
	version                         bool
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:7777", "UDP `address` of the game server (native clients and bots)")
	fs.StringVar(&o.wtAddr, "webtransport", "127.0.0.1:4433", "UDP `address` of the WebTransport endpoint (QUIC)")
	fs.StringVar(&o.rtcAddr, "webrtc", "127.0.0.1:4434", "UDP `address` every WebRTC peer shares (the fallback for browsers without WebTransport); 0.0.0.0:port for a LAN")
	fs.StringVar(&o.httpAddr, "http", "127.0.0.1:8080", "TCP `address` of the page")
	fs.StringVar(&o.admin, "admin", "", "TCP `address` of the admin server (Prometheus /metrics, pprof); empty for none")
	fs.StringVar(&o.host, "host", "127.0.0.1", "host `name` browsers reach the server by (in the page URL, the WebTransport URL and the development certificate)")
	fs.StringVar(&o.dir, "dir", "bin/web", "`directory` holding client.wasm (or client.wasm.gz) and wasm_exec.js (make web builds them)")
	fs.StringVar(&o.certFile, "cert", "", "PEM certificate `file` for WebTransport (production); empty makes a development certificate")
	fs.StringVar(&o.keyFile, "key", "", "PEM private key `file` of -cert")
	fs.IntVar(&o.maxPlayers, "max-players", 64, "players at most (native and browser)")
	fs.IntVar(&o.npcs, "npcs", 4, "computer-driven players")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	loss := fs.String("loss", "0%", "netsim on the server's socket (native and browser clients): loss per direction, a `percentage` like 5%")
	fs.DurationVar(&o.link.Latency, "latency", 0, "netsim on the server's socket: one-way `delay` per direction, e.g. 50ms")
	fs.DurationVar(&o.link.Jitter, "jitter", 0, "netsim on the server's socket: each datagram takes latency ± this `duration`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: web [-dir bin/web] [-http 127.0.0.1:8080] [-webtransport 127.0.0.1:4433] [-webrtc 127.0.0.1:4434] [-addr 127.0.0.1:7777] ...\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, out); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("web: %w", err)
	}
	p, err := strconv.ParseFloat(strings.TrimSuffix(*loss, "%"), 64)
	if err != nil || p < 0 || p > 100 {
		return o, fmt.Errorf("web: -loss %q: want a percentage from 0%% to 100%%, like 5%%", *loss)
	}
	o.link.Loss = p / 100
	if err := o.link.Validate(); err != nil {
		return o, fmt.Errorf("web: -loss, -latency, -jitter: %w", err)
	}
	if o.version {
		return o, nil
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("web: unexpected argument %q: this command takes flags only", fs.Arg(0))
	}
	if (o.certFile == "") != (o.keyFile == "") {
		return o, errors.New("web: -cert and -key go together: give both (production) or neither (a development certificate)")
	}
	for name, a := range map[string]string{"addr": o.addr, "webtransport": o.wtAddr, "webrtc": o.rtcAddr, "http": o.httpAddr} {
		if _, p, err := net.SplitHostPort(a); err != nil || !validPort(p) {
			return o, fmt.Errorf("web: -%s %q: want host:port, like 127.0.0.1:0", name, a)
		}
	}
	if o.host == "" {
		return o, errors.New("web: -host is empty: want the name or IP browsers reach the server by")
	}
	if o.maxPlayers < 1 {
		return o, fmt.Errorf("web: -max-players %d: want at least 1", o.maxPlayers)
	}
	if o.npcs < 0 {
		return o, fmt.Errorf("web: -npcs %d: want 0 or more", o.npcs)
	}
	if st, err := os.Stat(o.dir); err != nil || !st.IsDir() {
		return o, fmt.Errorf("web: -dir %q is not a directory: build the client first (make web)", o.dir)
	}
	return o, nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}
