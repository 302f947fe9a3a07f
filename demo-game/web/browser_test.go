package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/demo-game/internal/clientui"
	"github.com/tickwire/tickwire/netcode/netsim"
	"github.com/tickwire/tickwire/server/client"
)

// requireBrowserEnv, when set, makes a missing Chromium fail the test
// instead of skipping it (CI sets it: .ci/run).
const requireBrowserEnv = "TICKWIRE_REQUIRE_BROWSER"

// pageStats is globalThis.tickwireStats, what the wasm client publishes
// (demo-game/client/window/report_js.go).
type pageStats struct {
	Connected bool         `json:"connected"`
	Own       uint32       `json:"own"`
	X         float64      `json:"x"`
	Y         float64      `json:"y"`
	RTTMs     float64      `json:"rttMs"`
	Loss      float64      `json:"loss"`
	TPS       float64      `json:"tps"`
	Updates   float64      `json:"updates"`
	FPS       float64      `json:"fps"`
	Jumps     uint64       `json:"inputJumps"`
	Ticks     int          `json:"ticks"`
	Stalls    uint64       `json:"stalls"`
	Status    string       `json:"status"`
	Players   []playerSeen `json:"players"`
}

type playerSeen struct {
	ID uint32  `json:"id"`
	X  float64 `json:"x"`
	Y  float64 `json:"y"`
}

// findChrome returns the Chromium to drive: $TICKWIRE_CHROME, or the
// first of chromium, chromium-browser, google-chrome on $PATH; "" for none.
func findChrome() string {
	if p := os.Getenv("TICKWIRE_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserPlaysWithNativeBot is the end to end test of play in a
// browser, once over WebTransport and once over WebRTC: the web command's
// site (demo server + WebTransport + WebRTC + page) runs in-process, a
// native client plays in the same arena, and headless Chromium runs the
// wasm client with scripted input for ~10 s. It asserts what the page
// reports (connected, the route, RTT, loss, ticks per second), what the
// server counts, that each side sees the other move, a non-blank
// screenshot, and that closing the tab frees the player's slot within 1 s.
func TestBrowserPlaysWithNativeBot(t *testing.T) {
	chrome := requireChrome(t)
	dir := buildClient(t)
	for _, route := range []string{"webtransport", "webrtc"} {
		t.Run(route, func(t *testing.T) { playWithBot(t, chrome, dir, route) })
	}
}

func playWithBot(t *testing.T, chrome, dir, route string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s := startSite(t, options{dir: dir})
	bot := startBot(t, ctx, s.srv.Addr().String())
	tab, closeTab, console := openGame(t, ctx, chrome, s, "script=1&transport="+route)

	// Connected: the client's welcome arrived and a snapshot shows its player.
	first, ok := waitPage(tab, 45*time.Second, func(p pageStats) bool { return p.Connected && p.Own != 0 && p.X != 0 })
	require.True(t, ok, "the page never reported a connection; last stats %+v; console:\n%s", first, console)
	taken, err := chromedp.Run(tab, chromedp.Evaluate[string]("globalThis.tickwire.route"))
	require.NoError(t, err)
	assert.Equal(t, route, taken, "the route the client took")
	require.Eventually(t, func() bool { return bot.own() != 0 }, 20*time.Second, 20*time.Millisecond, "the native bot never got its welcome")
	browserID, botID := first.Own, bot.own()

	// Play for ~10 s, reading the page twice a second.
	var samples []pageStats
	browserSeen, botSeen := map[[2]float64]bool{}, map[[2]float64]bool{}
	until := time.Now().Add(10 * time.Second)
	for time.Now().Before(until) {
		p, err := readPage(tab)
		require.NoError(t, err)
		samples = append(samples, p)
		browserSeen[[2]float64{p.X, p.Y}] = true
		for _, pl := range p.Players {
			if pl.ID == botID {
				botSeen[[2]float64{pl.X, pl.Y}] = true
			}
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("timed out while playing")
		}
	}
	shot, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	last := samples[len(samples)-1]
	t.Logf("page after 10 s: %+v", last)

	// The page's readings (the last ones: the first include the start).
	assert.True(t, last.Connected, "still connected")
	assert.Less(t, last.RTTMs, 80.0, "RTT in ms")
	assert.Greater(t, last.RTTMs, 0.0, "RTT measured")
	assert.Less(t, last.Loss, 0.05, "packet loss")
	half := samples[len(samples)/2:]
	assert.GreaterOrEqual(t, median(half, func(p pageStats) float64 { return p.TPS }), 30.0, "game ticks per second (median of the second half)")
	fps := median(half, func(p pageStats) float64 { return p.FPS })
	t.Logf("median of the second half: %.1f frames/s, %.1f ebiten updates/s", fps, median(half, func(p pageStats) float64 { return p.Updates }))
	if fps >= minFPSForStalls {
		assert.Zero(t, last.Stalls, "interpolation stalls")
	} else {
		// A browser drawing a frame every few hundred ms (a machine whose
		// cores other work keeps busy) handles its snapshots in bursts
		// as well: its stalls say how starved it was, not how the client
		// interpolates.
		t.Logf("the page drew %.1f frames/s (under %d: starved of CPU): %d interpolation stalls, not checked", fps, minFPSForStalls, last.Stalls)
	}

	// The server's view: two players (browser and bot) playing; the
	// session came through the browser conn.
	st := s.srv.Stats()
	assert.Equal(t, 2, st.Clients, "clients connected to the server")
	cs := s.conn.Stats()
	assert.Equal(t, 1, cs.Open, "browser sessions open")
	assert.Greater(t, cs.DatagramsIn, uint64(30), "datagrams from the browser in 10 s")
	assert.Greater(t, cs.DatagramsOut, uint64(150), "datagrams to the browser in 10 s (snapshots at 30 Hz)")
	assert.Zero(t, cs.DropsQueueFull+cs.DropsSessionQueue+cs.DropsMalformed, "browser datagrams dropped")

	// The same through the admin server's Prometheus metrics.
	metrics := scrape(t, ctx, "http://"+s.srv.AdminAddr()+"/metrics")
	assert.Equal(t, "2", metrics["tickwire_server_clients"])
	assert.Equal(t, "1", metrics["tickwire_browser_sessions_open"])
	assert.Equal(t, "1", metrics["tickwire_browser_sessions_opened_total"])
	assert.Equal(t, "0", metrics[`tickwire_browser_drops_total{reason="malformed"}`])

	// Each side sees the other move.
	assert.GreaterOrEqual(t, len(browserSeen), 3, "the browser player moved (positions it reported)")
	assert.GreaterOrEqual(t, len(botSeen), 3, "the browser saw the bot (id %d) move", botID)
	assert.Greater(t, bot.positionsOf(browserID), 5, "the bot saw the browser player (id %d) move", browserID)

	// The screenshot: kept, and not blank.
	checkScreenshot(t, shot, "screenshot-browser-"+route+".png")

	// Closing the tab frees the player's slot within 1 s.
	closed := time.Now()
	closeTab()
	freed := time.Duration(-1)
	for time.Since(closed) < 5*time.Second {
		if s.srv.Arena().Stats().Players == 1 {
			freed = time.Since(closed)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("slot freed %v after the tab closed", freed)
	require.GreaterOrEqual(t, freed, time.Duration(0), "the browser player's slot was never freed")
	assert.Less(t, freed, time.Second, "slot freed after the tab closed")
	assert.Eventually(t, func() bool { return s.conn.Stats().Open == 0 }, 2*time.Second, 10*time.Millisecond, "the session closed")
}

// requireChrome returns the Chromium to drive, or skips the test (fails it
// with $TICKWIRE_REQUIRE_BROWSER set) when there is none.
func requireChrome(t *testing.T) string {
	t.Helper()
	chrome := findChrome()
	if chrome == "" {
		if os.Getenv(requireBrowserEnv) != "" {
			t.Fatalf("no Chromium found ($TICKWIRE_CHROME, chromium, chromium-browser, google-chrome) and $%s is set: install it with apt-get install -y --no-install-recommends chromium chromium-headless-shell fonts-liberation", requireBrowserEnv)
		}
		t.Skipf("no Chromium found: install it (apt-get install -y --no-install-recommends chromium chromium-headless-shell fonts-liberation) or set $TICKWIRE_CHROME; set $%s=1 to fail instead of skipping", requireBrowserEnv)
	}
	return chrome
}

// startSite runs the web command's site on free loopback ports (o.dir
// and o.link as given) until the test ends.
func startSite(t *testing.T, o options) *site {
	t.Helper()
	o.addr, o.wtAddr, o.rtcAddr, o.httpAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	o.host, o.maxPlayers, o.npcs, o.admin = "127.0.0.1", 8, 2, "127.0.0.1:0"
	s, err := start(o, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	runCtx, stopSite := context.WithCancel(context.Background())
	siteDone := make(chan error, 1)
	go func() { siteDone <- s.run(runCtx) }()
	t.Cleanup(func() {
		stopSite()
		assert.NoError(t, <-siteDone)
	})
	return s
}

// openGame starts headless Chromium and opens the game (with the page
// query, e.g. script=1 for scripted input) in a 640×400 page (the size the frame and tick rates are
// for), in a tab of its own that closeTab closes (a first, blank tab keeps
// the browser running). console collects the page's console.
func openGame(t *testing.T, ctx context.Context, chrome string, s *site, query string) (tab context.Context, closeTab context.CancelFunc, console *lockedBuffer) {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(640, 400),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	_, err := chromedp.Run(browser, chromedp.Navigate("about:blank"))
	require.NoError(t, err, "start Chromium")
	tab, closeTab = chromedp.NewContext(browser)
	t.Cleanup(closeTab)
	// The tab exists once an action ran; Console subscribes when it
	// returns (on this goroutine: chromedp's target set-up is not safe
	// for concurrent first use), and the messages are read on another.
	_, err = chromedp.Run(tab, chromedp.EmulateViewport(640, 400))
	require.NoError(t, err, "open a tab")
	console = &lockedBuffer{}
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			fmt.Fprintln(console, m)
		}
	}()
	_, err = chromedp.Run(tab, chromedp.Navigate(s.PageURL()+"?"+query))
	require.NoError(t, err, "open %s", s.PageURL())
	return tab, closeTab, console
}

// TestBrowserOnLossyLink: with netsim on the server's socket (5% loss and
// 50 ms each way), the browser client plays 10 s without a stall.
func TestBrowserOnLossyLink(t *testing.T) {
	chrome := requireChrome(t)
	dir := buildClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s := startSite(t, options{dir: dir, link: netsim.Config{Loss: 0.05, Latency: 50 * time.Millisecond}})
	tab, _, console := openGame(t, ctx, chrome, s, "script=1")
	first, ok := waitPage(tab, 45*time.Second, func(p pageStats) bool { return p.Connected && p.Own != 0 && p.X != 0 })
	require.True(t, ok, "the page never reported a connection; last stats %+v; console:\n%s", first, console)
	// Let the interpolation delay settle to the link's jitter, then play.
	_, ok = waitPage(tab, 10*time.Second, func(p pageStats) bool { return p.Ticks > first.Ticks+30 })
	require.True(t, ok, "the game stopped updating")
	begin, err := readPage(tab)
	require.NoError(t, err)
	select {
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
		t.Fatal("timed out while playing")
	}
	end, err := readPage(tab)
	require.NoError(t, err)
	t.Logf("page after 10 s at 5%% loss, 50 ms: %+v", end)
	assert.True(t, end.Connected, "still connected")
	assert.Zero(t, end.Stalls-begin.Stalls, "interpolation stalls over 10 s")
	assert.Greater(t, end.RTTMs, 90.0, "RTT in ms: the link's 2 x 50 ms are there")
}

// TestWasmClientBudget: the demo client's wasm links no net/http (the
// browser's fetch is called through syscall/js) and is at most 6 MB
// gzipped. It needs no browser.
func TestWasmClientBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm client")
	}
	cmd := exec.Command("go", "list", "-deps", "../client/window")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	assert.NotContains(t, deps, "net/http", "the wasm client's dependencies")
	assert.NotContains(t, deps, "github.com/pion/webrtc/v4", "the wasm client's dependencies")

	wasm, err := os.ReadFile(filepath.Join(buildClient(t), "client.wasm"))
	require.NoError(t, err)
	var gz bytes.Buffer
	w, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	require.NoError(t, err)
	_, err = w.Write(wasm)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	t.Logf("client.wasm: %d KiB, gzipped %d KiB", len(wasm)>>10, gz.Len()>>10)
	assert.LessOrEqual(t, gz.Len(), 6<<20, "gzipped wasm bytes")
}

// scrape returns the samples of a Prometheus endpoint: the value of each
// series, by its name and labels as written.
func scrape(t *testing.T, ctx context.Context, url string) map[string]string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	rsp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rsp.StatusCode, "GET %s", url)
	m := map[string]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
			m[line[:i]] = line[i+1:]
		}
	}
	return m
}

// buildClient builds the wasm client as make web does and copies
// wasm_exec.js into a temporary directory, and returns it.
func buildClient(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "client.wasm"), "../client/window")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "build the wasm client:\n%s", out)
	t.Logf("wasm client built in %v", time.Since(began).Round(time.Millisecond))
	src, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wasm_exec.js"), src, 0o644))
	return dir
}

// readPage returns the page's stats (zero before the client published any).
func readPage(tab context.Context) (pageStats, error) {
	return chromedp.Run(tab, chromedp.Evaluate[pageStats]("globalThis.tickwireStats ?? {}"))
}

// waitPage reads the page every 100 ms until ok holds or timeout passes.
func waitPage(tab context.Context, timeout time.Duration, ok func(pageStats) bool) (pageStats, bool) {
	var p pageStats
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var err error
		if p, err = readPage(tab); err == nil && ok(p) {
			return p, true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p, false
}

// minFPSForStalls is the frame rate under which the page's interpolation
// stalls are not checked: the browser itself did not get the CPU to run.
const minFPSForStalls = 15

// median returns the median of f over ps.
func median(ps []pageStats, f func(pageStats) float64) float64 {
	v := make([]float64, 0, len(ps))
	for _, p := range ps {
		v = append(v, f(p))
	}
	if len(v) == 0 {
		return 0
	}
	for i := range v { // insertion sort: a handful of values
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return v[len(v)/2]
}

// checkScreenshot writes the PNG to the artifacts directory and asserts it
// shows a drawn game: many colours, no single colour over 90% of pixels.
func checkScreenshot(t *testing.T, shot []byte, name string) {
	t.Helper()
	dir := artifactDir(t)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	total := b.Dx() * b.Dy()
	assert.Greater(t, len(counts), 8, "colours in the screenshot")
	assert.Less(t, float64(most)/float64(total), 0.9, "share of the most common colour")
}

// artifactDir is where the screenshot is kept: $TICKWIRE_ARTIFACTS or
// artifacts/ at the repository root (gitignored).
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TICKWIRE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// lockedBuffer collects console lines from another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// nativeBot is a native client of the demo server (UDP, the public client
// runtime) that walks the script and remembers where it saw each player.
type nativeBot struct {
	mu     sync.Mutex
	id     uint32
	places map[uint32]map[[2]int32]bool
}

func (b *nativeBot) own() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.id
}

func (b *nativeBot) positionsOf(id uint32) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.places[id])
}

func startBot(t *testing.T, ctx context.Context, addr string) *nativeBot {
	t.Helper()
	ncfg := clientui.NetcodeConfig()
	d, err := clientui.NewUDPDialer(clientui.DialerConfig{Addr: addr, Netcode: ncfg})
	require.NoError(t, err)
	static := game.NewStatic()
	cfg := clientui.ClientConfig(static)
	cfg.Netcode = ncfg
	cfg.Dial = d.Dial
	c, err := client.New(cfg)
	require.NoError(t, err)
	on := clientui.NewOnline(c, static, nil, addr)
	b := &nativeBot{places: map[uint32]map[[2]int32]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / game.TickRate)
		defer tick.Stop()
		toggles := clientui.DefaultToggles()
		var n uint32
		var ox, oy int32
		var origin bool
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			now := time.Now()
			if err := on.Update(now, clientui.ScriptFrom(n, ox, oy), toggles); err != nil {
				return
			}
			n++
			v := on.View(now, toggles)
			b.mu.Lock()
			b.id = v.Own
			for _, e := range v.Entities {
				if e.Kind != game.KindPlayer {
					continue
				}
				if e.ID == v.Own && !origin {
					ox, oy, origin = e.X, e.Y, true
				}
				if b.places[e.ID] == nil {
					b.places[e.ID] = map[[2]int32]bool{}
				}
				if len(b.places[e.ID]) < 1000 {
					b.places[e.ID][[2]int32{e.X, e.Y}] = true
				}
			}
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		<-done
		_ = on.Close()
	})
	return b
}
