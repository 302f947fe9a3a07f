package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClientDir holds stand-ins for the built client.
func fakeClientDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"client.wasm": "wasm", "client.wasm.gz": "gzipped wasm", "wasm_exec.js": "// go"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	return dir
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// No transparent gzip: the test checks what the server sends.
	rsp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	require.NoError(t, err)
	return rsp, string(b)
}

var pageConfig = regexp.MustCompile(`webtransport: "(https://127\.0\.0\.1:\d+/tickwire)", certHash: "([0-9a-f]{64})", webrtc: "webrtc"`)

func TestSiteServesPageWithFreshCertificate(t *testing.T) {
	dir := fakeClientDir(t)
	hashes := map[string]bool{}
	for range 2 {
		s := startSite(t, options{dir: dir})
		rsp, page := get(t, s.PageURL(), nil)
		require.Equal(t, http.StatusOK, rsp.StatusCode)
		m := pageConfig.FindStringSubmatch(page)
		require.NotNil(t, m, "the page's config in:\n%s", page)
		assert.Equal(t, s.wtURL, m[1])
		hashes[m[2]] = true

		rsp, body := get(t, s.PageURL()+"client.wasm", map[string]string{"Accept-Encoding": "gzip, br"})
		assert.Equal(t, "gzipped wasm", body)
		assert.Equal(t, "gzip", rsp.Header.Get("Content-Encoding"))
		assert.Equal(t, "application/wasm", rsp.Header.Get("Content-Type"))
		rsp, body = get(t, s.PageURL()+"client.wasm", nil)
		assert.Equal(t, "wasm", body, "without gzip")
		assert.Empty(t, rsp.Header.Get("Content-Encoding"))
		_, body = get(t, s.PageURL()+"wasm_exec.js", nil)
		assert.Equal(t, "// go", body)
		rsp, _ = get(t, s.PageURL()+"webrtc", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, rsp.StatusCode, "WebRTC offers are POSTed")
		rsp, _ = get(t, s.PageURL()+"secret", nil)
		assert.Equal(t, http.StatusNotFound, rsp.StatusCode)
	}
	assert.Len(t, hashes, 2, "a new development certificate on every start")
}

func TestCheckOrigin(t *testing.T) {
	s := &site{host: "game.example", log: slog.New(slog.DiscardHandler)}
	for origin, want := range map[string]bool{
		"":                          true,
		"http://game.example:8080":  true,
		"http://localhost:8080":     true,
		"https://evil.example":      false,
		"http://game.example.evil/": false,
		"::bad":                     false,
	} {
		r, err := http.NewRequest(http.MethodGet, "https://game.example:4433/tickwire", nil)
		require.NoError(t, err)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		assert.Equal(t, want, s.checkOrigin(r), "Origin %q", origin)
	}
}
