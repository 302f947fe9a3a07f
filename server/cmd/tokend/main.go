// Command tokend is a small token backend: it serves package tokens'
// handler at POST /token, which hands an authenticated caller a netcode
// connect token for one of the configured game servers (the room it asks
// for, if any, always on the same server), as JSON with the token in
// base64. A game's real web backend usually embeds tokens.Handler instead;
// tokend is for trying it, for LAN events and for small deployments.
//
//	tokend -gen-key > key.hex                       # the key the game servers share
//	tokend -key-file key.hex -protocol-id 0x5449434B57495245 \
//	       -servers 203.0.113.7:7777,203.0.113.8:7777 -secret-file secret.txt
//	curl -H "Authorization: Bearer $(cat secret.txt)" -H "X-Player-ID: ana" \
//	       -d '{"room":"arena-1"}' http://127.0.0.1:8080/token
//
// Callers authenticate with a shared secret (-secret-file: a trusted web
// backend that names the player in X-Player-ID) or with bearer tokens of
// their own (-tokens-file: "<token> <caller-id>" lines). Each caller is rate
// limited (-rate, -burst). GET /healthz answers 200 while it runs. Logs are
// structured (log/slog) on stderr; SIGINT or SIGTERM stop it gracefully.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/internal/buildinfo"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/server/tokens"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// options is what the command line sets.
type options struct {
	addr       string
	cfg        tokens.Config
	genKey     bool
	logLevel   slog.Level
	logJSON    bool
	authSource string // for the start-up log line
}

// bad is a bad command line's error (run prints it and exits 2): the
// flag, the value and what is allowed.
func bad(format string, args ...any) error {
	return errors.New("tokend: " + fmt.Sprintf(format, args...))
}

var errVersion = errors.New("tokend: -version")

// parseFlags parses args (without the program name); -h writes the usage
// to out. It reads the key, secret and token files.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("tokend", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "TCP `address` to serve HTTP on (host:port; put TLS in front of it: tokens are secrets)")
	servers := fs.String("servers", "", "comma-separated game server `addresses` (ip:port, as the clients reach them); required")
	keyFile := fs.String("key-file", "", "`file` holding the 32-byte token key the game servers share, 64 hex digits (see -gen-key); required")
	protocolID := fs.String("protocol-id", "", "the game's netcode protocol `id`, decimal or 0x hex; required")
	secretFile := fs.String("secret-file", "", "`file` holding the shared secret callers send as \"Authorization: Bearer\" (with X-Player-ID)")
	tokensFile := fs.String("tokens-file", "", "`file` of \"<token> <caller-id>\" lines, one bearer token per caller (instead of -secret-file)")
	rooms := fs.String("rooms", "", "comma-separated room `names` a caller may ask for; empty: any well-formed name")
	fs.DurationVar(&o.cfg.TokenTTL, "ttl", tokens.DefaultTokenTTL, "how long a token may be used to connect (a `duration`, 1s..1h)")
	fs.Float64Var(&o.cfg.Rate, "rate", tokens.DefaultRate, "tokens per second each caller may get (a `rate`, 0.001..1000)")
	fs.IntVar(&o.cfg.Burst, "burst", tokens.DefaultBurst, "how many tokens a caller may get at once (a `count`, 1..1000)")
	fs.IntVar(&o.cfg.MaxCallers, "max-callers", tokens.DefaultMaxCallers, "callers whose rate limits are remembered (a `count`, 1..10000000)")
	fs.BoolVar(&o.genKey, "gen-key", false, "print a new random token key (64 hex digits) and exit")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	fs.BoolVar(&o.logJSON, "log-json", false, "log JSON lines instead of text")
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "tokend: hands authenticated callers netcode connect tokens for Tickwire game servers (POST /token).\n\n")
		fmt.Fprintf(w, "Usage: tokend -key-file key.hex -protocol-id 0x… -servers ip:port,… (-secret-file f | -tokens-file f) [-addr 127.0.0.1:8080] ...\n\nFlags:\n")
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
	switch {
	case *version:
		return o, errVersion
	case fs.NArg() > 0:
		return o, bad("unexpected argument %q: every setting is a flag (see -h)", fs.Arg(0))
	case o.genKey:
		return o, nil
	}
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return o, bad("-log-level %q: want debug, info, warn or error", *level)
	}

	if _, port, err := net.SplitHostPort(o.addr); err != nil || port == "" {
		return o, bad("-addr %q: want host:port like 127.0.0.1:8080", o.addr)
	}
	switch {
	case o.cfg.TokenTTL < time.Second || o.cfg.TokenTTL > tokens.MaxTokenTTL:
		return o, bad("-ttl %v: want 1s..1h", o.cfg.TokenTTL)
	case !(o.cfg.Rate >= 0.001 && o.cfg.Rate <= 1000):
		return o, bad("-rate %v: want 0.001..1000 tokens a second", o.cfg.Rate)
	case o.cfg.Burst < 1 || o.cfg.Burst > 1000:
		return o, bad("-burst %d: want 1..1000", o.cfg.Burst)
	case o.cfg.MaxCallers < 1 || o.cfg.MaxCallers > 10_000_000:
		return o, bad("-max-callers %d: want 1..10000000", o.cfg.MaxCallers)
	}
	var err error
	if o.cfg.ProtocolID, err = strconv.ParseUint(strings.TrimSpace(*protocolID), 0, 64); err != nil || o.cfg.ProtocolID == 0 {
		return o, bad("-protocol-id %q: want the game's protocol id, a non-zero number like 0x5449434B57495245", *protocolID)
	}
	var addrs []netip.AddrPort
	for _, f := range strings.Split(*servers, ",") {
		a, err := netip.ParseAddrPort(strings.TrimSpace(f))
		if err != nil || a.Port() == 0 {
			return o, bad("-servers %q: want comma-separated ip:port addresses like 203.0.113.7:7777 (%q is not one)", *servers, strings.TrimSpace(f))
		}
		addrs = append(addrs, a)
	}
	if o.cfg.Picker, err = tokens.NewPicker(addrs); err != nil {
		return o, bad("-servers %q: %v", *servers, strings.TrimPrefix(err.Error(), "tokens: NewPicker: "))
	}
	if *keyFile == "" {
		return o, bad(`-key-file "": required: the token key the game servers share (make one with -gen-key)`)
	}
	if o.cfg.Key, err = readKey(*keyFile); err != nil {
		return o, bad("-key-file %q: %v", *keyFile, err)
	}
	switch {
	case (*secretFile == "") == (*tokensFile == ""):
		return o, bad("-secret-file %q, -tokens-file %q: want exactly one of them", *secretFile, *tokensFile)
	case *secretFile != "":
		b, err := os.ReadFile(*secretFile)
		secret := strings.TrimSpace(string(b))
		if err == nil && len(secret) < 16 {
			err = fmt.Errorf("a secret of %d bytes, want at least 16", len(secret))
		}
		if err != nil {
			return o, bad("-secret-file %q: %v", *secretFile, err)
		}
		o.cfg.Auth, o.authSource = tokens.SharedSecret(secret), "shared secret"
	default:
		f, err := os.Open(*tokensFile)
		if err != nil {
			return o, bad("-tokens-file %q: %v", *tokensFile, err)
		}
		toks, err := tokens.ParseTokenFile(f)
		_ = f.Close()
		if err != nil {
			return o, bad("-tokens-file %q: %v", *tokensFile, strings.TrimPrefix(err.Error(), "tokens: "))
		}
		o.cfg.Auth, o.authSource = tokens.BearerTokens(toks), fmt.Sprintf("%d bearer tokens", len(toks))
	}
	if *rooms != "" {
		allowed := map[string]bool{}
		for _, r := range strings.Split(*rooms, ",") {
			r = strings.TrimSpace(r)
			if err := tokens.CheckRoom(r); err != nil || r == "" {
				return o, bad("-rooms %q: want comma-separated room names of letters, digits, '-', '_' or '.' (%q is not one)", *rooms, r)
			}
			allowed[r] = true
		}
		o.cfg.Rooms = func(room string) bool { return allowed[room] }
	}
	return o, nil
}

// readKey reads a token key file (tokens.ParseKey).
func readKey(path string) ([netcode.KeySize]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return [netcode.KeySize]byte{}, err
	}
	key, err := tokens.ParseKey(b)
	if err != nil {
		return key, errors.New(strings.TrimPrefix(err.Error(), "tokens: "))
	}
	return key, nil
}

// run is the command; it returns the exit status. ready, when not nil, gets
// the address it serves on (for tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errVersion):
		fmt.Fprintln(stdout, buildinfo.Version("tokend"))
		return 0
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 2
	}
	if o.genKey {
		key, err := netcode.GenerateKey(rand.Reader)
		if err != nil {
			fmt.Fprintf(stderr, "tokend: -gen-key: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, hex.EncodeToString(key[:]))
		return 0
	}
	hopts := &slog.HandlerOptions{Level: o.logLevel}
	var lh slog.Handler = slog.NewTextHandler(stderr, hopts)
	if o.logJSON {
		lh = slog.NewJSONHandler(stderr, hopts)
	}
	log := slog.New(lh)
	o.cfg.Logger = log
	h, err := tokens.New(o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "tokend:", strings.TrimPrefix(err.Error(), "tokens: "))
		return 2
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		log.Error("tokend did not start", "err", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle("/token", h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("tokend listening", "addr", ln.Addr().String(), "auth", o.authSource, "ttl", o.cfg.TokenTTL,
		"rate", o.cfg.Rate, "burst", o.cfg.Burst, "max_callers", o.cfg.MaxCallers)
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-served:
		log.Error("tokend stopped", "err", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	<-served
	log.Info("tokend stopped")
	return 0
}
