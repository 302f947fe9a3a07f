// Package agones connects a Tickwire game server to Agones, the Kubernetes
// controller for fleets of dedicated game servers, through the REST
// gateway of the Agones SDK sidecar that runs in the same pod
// (http://localhost:$AGONES_SDK_HTTP_PORT, 9358 by default). It speaks the
// sidecar's documented HTTP/JSON interface with net/http, so it needs no
// gRPC nor the Agones Go module:
//
//	POST /ready, /health, /allocate, /shutdown   body {}
//	PUT  /metadata/label, /metadata/annotation   body {"key": "…", "value": "…"}
//	GET  /gameserver                             the GameServer
//	GET  /watch/gameserver                       newline-delimited {"result": GameServer}
//
// The sidecar may start after the game server and may fail now and then:
// every call is retried with a bounded backoff (Config.Attempts), each
// failure logged, and nothing here ever stops a running game. A typical
// server calls Ready once it listens, runs KeepHealthy and Watch in
// goroutines, sets labels as its player count changes, and calls Shutdown
// once it has drained (see Example).
//
// A Client is safe for concurrent use. The zero Config is usable: the
// default URL, http.DefaultClient's transport with a timeout, the system
// clock, no logs.
package agones

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultPort        = "9358"
	DefaultAttempts    = 5
	DefaultBackoff     = 200 * time.Millisecond
	MaxBackoff         = 5 * time.Second
	DefaultCallTimeout = 5 * time.Second
	// MaxWatchLine bounds one line of the watch stream (one GameServer);
	// a longer one ends the stream, which is then reopened.
	MaxWatchLine = 1 << 20
)

// Clock is the time source of the waits between tries and of the health
// pings: Now returns the current time; Sleep blocks until d has passed or
// ctx is done, then returns ctx.Err() in the second case. A server.Clock
// (server.SystemClock, or a test's) is one.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// systemClock is the Clock of the time package.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrSidecar is wrapped by the errors of calls the sidecar answered with
// an error status or never answered, after every attempt.
var ErrSidecar = errors.New("agones: sidecar call failed")

// URL returns the sidecar's REST address from the environment lookup
// getenv (os.Getenv in a command): http://localhost:$AGONES_SDK_HTTP_PORT,
// or port DefaultPort when the variable is unset.
func URL(getenv func(string) string) string {
	port := getenv("AGONES_SDK_HTTP_PORT")
	if port == "" {
		port = DefaultPort
	}
	return "http://localhost:" + port
}

// Config configures a Client. The zero value is usable.
type Config struct {
	// URL is the sidecar's REST address; "" means URL(os.Getenv)'s default
	// port on localhost (commands should pass URL(os.Getenv)).
	URL string
	// HTTPClient makes the requests; nil means a client with
	// DefaultCallTimeout per request (the watch stream has no timeout:
	// it is bounded by its context).
	HTTPClient *http.Client
	// Attempts is how many times a call is tried before it returns its
	// error (0 means DefaultAttempts); between tries the wait doubles from
	// Backoff (0 means DefaultBackoff) up to MaxBackoff.
	Attempts int
	Backoff  time.Duration
	// Clock times the waits between tries and the health pings; nil means
	// the time package's.
	Clock Clock
	// Logger receives a line per failed try; nil means none.
	Logger *slog.Logger
}

// Client talks to the Agones SDK sidecar. Create it with New.
type Client struct {
	url      string
	hc       *http.Client
	attempts int
	backoff  time.Duration
	clock    Clock
	log      *slog.Logger
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.Attempts < 0 || cfg.Backoff < 0 {
		return nil, fmt.Errorf("agones: Attempts = %d, Backoff = %v: want ≥ 0 (0: defaults %d, %v)", cfg.Attempts, cfg.Backoff, DefaultAttempts, DefaultBackoff)
	}
	c := &Client{url: strings.TrimSuffix(cfg.URL, "/"), hc: cfg.HTTPClient, attempts: cfg.Attempts, backoff: cfg.Backoff, clock: cfg.Clock, log: cfg.Logger}
	if c.url == "" {
		c.url = "http://localhost:" + DefaultPort
	}
	if !strings.HasPrefix(c.url, "http://") && !strings.HasPrefix(c.url, "https://") {
		return nil, fmt.Errorf("agones: URL %q: want http://host:port", cfg.URL)
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: DefaultCallTimeout}
	}
	if c.attempts == 0 {
		c.attempts = DefaultAttempts
	}
	if c.backoff == 0 {
		c.backoff = DefaultBackoff
	}
	if c.clock == nil {
		c.clock = systemClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Ready tells Agones the server is ready to take players (its GameServer
// moves to Ready and may be allocated).
func (c *Client) Ready(ctx context.Context) error { return c.call(ctx, http.MethodPost, "/ready", nil) }

// Health sends one health ping. Agones marks the GameServer Unhealthy when
// pings stop for longer than its health settings allow (see KeepHealthy).
func (c *Client) Health(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/health", nil)
}

// Allocate marks the GameServer Allocated itself (a matchmaker's
// GameServerAllocation is the usual way).
func (c *Client) Allocate(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/allocate", nil)
}

// Shutdown tells Agones the server is done: its GameServer moves to
// Shutdown and the pod is deleted (it gets SIGTERM). Call it after the
// drain.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/shutdown", nil)
}

// keyValue is the body of the metadata calls.
type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SetLabel sets a label on the GameServer; Agones prefixes the key with
// "agones.dev/sdk-". Keys and values follow Kubernetes' label rules (at
// most 63 characters of letters, digits, '-', '_' and '.').
func (c *Client) SetLabel(ctx context.Context, key, value string) error {
	return c.call(ctx, http.MethodPut, "/metadata/label", keyValue{key, value})
}

// SetAnnotation sets an annotation on the GameServer (key prefixed with
// "agones.dev/sdk-"); values may be longer and freer than a label's.
func (c *Client) SetAnnotation(ctx context.Context, key, value string) error {
	return c.call(ctx, http.MethodPut, "/metadata/annotation", keyValue{key, value})
}

// GameServer is what the sidecar says of this server's GameServer
// resource: the fields a game server uses. It decodes the gateway's
// documented snake_case ("object_meta") and the camelCase spelling
// ("objectMeta") alike.
type GameServer struct {
	ObjectMeta ObjectMeta `json:"object_meta"`
	Status     struct {
		// State is Scheduled, RequestReady, Ready, Reserved, Allocated,
		// Shutdown, Unhealthy…
		State   string `json:"state"`
		Address string `json:"address"`
		Ports   []struct {
			Name string `json:"name"`
			Port int    `json:"port"`
		} `json:"ports"`
	} `json:"status"`
}

// ObjectMeta is the GameServer's Kubernetes metadata: its name, and the
// labels and annotations (those set through the SDK carry the
// "agones.dev/sdk-" prefix).
type ObjectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// UnmarshalJSON decodes a GameServer from either spelling of its metadata.
func (gs *GameServer) UnmarshalJSON(b []byte) error {
	type plain GameServer // without this method
	var v struct {
		plain
		Camel *ObjectMeta `json:"objectMeta"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*gs = GameServer(v.plain)
	if v.Camel != nil && gs.ObjectMeta.Name == "" {
		gs.ObjectMeta = *v.Camel
	}
	return nil
}

// State values of GameServer.Status.State that a game server acts on.
const (
	StateReady     = "Ready"
	StateAllocated = "Allocated"
	StateShutdown  = "Shutdown"
)

// GetGameServer returns the GameServer as the sidecar has it now.
func (c *Client) GetGameServer(ctx context.Context) (GameServer, error) {
	var gs GameServer
	var body []byte
	err := c.retry(ctx, "GET /gameserver", func(ctx context.Context) error {
		var err error
		body, err = c.do(ctx, http.MethodGet, "/gameserver", nil)
		return err
	})
	if err != nil {
		return gs, err
	}
	if err := json.Unmarshal(body, &gs); err != nil {
		return gs, fmt.Errorf("%w: GET /gameserver: the answer is no GameServer: %v", ErrSidecar, err)
	}
	return gs, nil
}

// KeepHealthy sends a health ping every interval until ctx is done, then
// returns nil. When healthy is not nil it is asked first, and no ping goes
// out while it returns an error (so a stuck tick loop stops the pings and
// Agones marks the server Unhealthy): package admin's Probes.Healthy fits.
// Failed pings are logged and the next one is tried at the next interval.
func (c *Client) KeepHealthy(ctx context.Context, interval time.Duration, healthy func() error) error {
	if interval <= 0 {
		return fmt.Errorf("agones: KeepHealthy interval %v, want > 0 (a few seconds, under the GameServer's health periodSeconds)", interval)
	}
	for {
		if healthy == nil {
			_ = c.once(ctx, http.MethodPost, "/health", nil)
		} else if err := healthy(); err != nil {
			c.log.Warn("agones: no health ping: the server is not healthy", "err", err)
		} else {
			_ = c.once(ctx, http.MethodPost, "/health", nil)
		}
		if err := c.clock.Sleep(ctx, interval); err != nil {
			return nil
		}
	}
}

// Watch streams the GameServer's updates to fn (on Watch's goroutine) until
// ctx is done, then returns nil. A stream that breaks, or a sidecar not up
// yet, is reopened after a backoff; lines that do not decode are logged and
// skipped.
func (c *Client) Watch(ctx context.Context, fn func(GameServer)) error {
	wait := c.backoff
	for ctx.Err() == nil {
		got, err := c.watchOnce(ctx, fn)
		if ctx.Err() != nil {
			break
		}
		if got {
			wait = c.backoff // it worked for a while: start over
		}
		c.log.Warn("agones: watch stream ended; reopening", "err", err, "in", wait)
		if c.clock.Sleep(ctx, wait) != nil {
			break
		}
		wait = min(2*wait, MaxBackoff)
	}
	return nil
}

// watchEvent is one line of the watch stream.
type watchEvent struct {
	Result *GameServer     `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// watchOnce reads one watch stream until it ends; got says whether any
// update arrived.
func (c *Client) watchOnce(ctx context.Context, fn func(GameServer)) (got bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/watch/gameserver", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "application/json")
	hc := *c.hc
	hc.Timeout = 0 // a stream: bounded by ctx, not by a per-request timeout
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %s", resp.Status)
	}
	return c.readWatch(resp.Body, fn)
}

// readWatch reads a watch stream's lines from r until it ends, passing each
// update to fn; got says whether any arrived. A line longer than
// MaxWatchLine ends the stream with an error; lines that do not decode are
// logged and skipped.
func (c *Client) readWatch(r io.Reader, fn func(GameServer)) (got bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxWatchLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var ev watchEvent
		if err := json.Unmarshal(line, &ev); err != nil || (ev.Result == nil && ev.Error == nil) {
			c.log.Warn("agones: watch: a line that is no GameServer update, skipped", "err", err, "bytes", len(line))
			continue
		}
		if ev.Result == nil {
			return got, fmt.Errorf("the sidecar reported %s", ev.Error)
		}
		got = true
		fn(*ev.Result)
	}
	if err := sc.Err(); err != nil {
		return got, err
	}
	return got, io.EOF
}

// call runs one call with retries.
func (c *Client) call(ctx context.Context, method, path string, body any) error {
	return c.retry(ctx, method+" "+path, func(ctx context.Context) error {
		_, err := c.do(ctx, method, path, body)
		return err
	})
}

// once runs one call without retries, logging its failure.
func (c *Client) once(ctx context.Context, method, path string, body any) error {
	if _, err := c.do(ctx, method, path, body); err != nil {
		if ctx.Err() == nil {
			c.log.Warn("agones: sidecar call failed", "call", method+" "+path, "err", err)
		}
		return fmt.Errorf("%w: %s %s: %v", ErrSidecar, method, path, err)
	}
	return nil
}

// retry runs try up to c.attempts times, logging each failure and waiting
// a doubling backoff between tries.
func (c *Client) retry(ctx context.Context, what string, try func(context.Context) error) error {
	wait := c.backoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = try(ctx); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %s: %w", ErrSidecar, what, ctx.Err())
		}
		c.log.Warn("agones: sidecar call failed", "call", what, "attempt", attempt, "of", c.attempts, "err", err)
		if attempt == c.attempts {
			return fmt.Errorf("%w: %s after %d attempts: %v", ErrSidecar, what, attempt, err)
		}
		if serr := c.clock.Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w: %s: %w", ErrSidecar, what, serr)
		}
		wait = min(2*wait, MaxBackoff)
	}
}

// do sends one request; the body, when not nil, is JSON ({} for nil on
// POST, as the sidecar's gateway expects a body).
func (c *Client) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if method != http.MethodGet {
		b := []byte("{}")
		if body != nil {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return nil, err
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxWatchLine))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("status %s: %s", resp.Status, bytes.TrimSpace(b[:min(len(b), 200)]))
	}
	return b, nil
}
