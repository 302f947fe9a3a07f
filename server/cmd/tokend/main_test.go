package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickwire/tickwire/internal/clitest"
	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/server/tokens"
)

const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// files writes a key, a secret and a token file in a temporary directory.
func files(t *testing.T) (key, secret, toks string) {
	t.Helper()
	dir := t.TempDir()
	key, secret, toks = filepath.Join(dir, "key.hex"), filepath.Join(dir, "secret"), filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(key, []byte(testKey+"\n"), 0o600))
	require.NoError(t, os.WriteFile(secret, []byte("0123456789abcdef-secret\n"), 0o600))
	require.NoError(t, os.WriteFile(toks, []byte("AAAAAAAAAAAAAAAAAAAA web-eu\n"), 0o600))
	return key, secret, toks
}

func TestParseFlags(t *testing.T) {
	key, secret, _ := files(t)
	o, err := parseFlags([]string{"-key-file", key, "-protocol-id", "0x10", "-servers", "10.0.0.1:7777, 10.0.0.2:7777",
		"-secret-file", secret, "-rooms", "a,b", "-ttl", "1m", "-rate", "0.5", "-burst", "2", "-max-callers", "9"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, uint64(16), o.cfg.ProtocolID)
	assert.Equal(t, byte(0x1f), o.cfg.Key[31])
	assert.Equal(t, time.Minute, o.cfg.TokenTTL)
	assert.Equal(t, 0.5, o.cfg.Rate)
	assert.Equal(t, 2, o.cfg.Burst)
	assert.Equal(t, 9, o.cfg.MaxCallers)
	assert.True(t, o.cfg.Rooms("a"))
	assert.False(t, o.cfg.Rooms("c"))
	assert.Equal(t, "127.0.0.1:8080", o.addr)
}

// TestRunUsageErrors: one line on stderr naming the flag, the value and
// what is allowed, the prefix once, exit status 2.
func TestRunUsageErrors(t *testing.T) {
	key, secret, toks := files(t)
	dir := t.TempDir()
	shortKey := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(shortKey, []byte("abcd"), 0o600))
	zeroKey := filepath.Join(dir, "zero")
	require.NoError(t, os.WriteFile(zeroKey, []byte(strings.Repeat("0", 64)), 0o600))
	shortSecret := filepath.Join(dir, "shortsecret")
	require.NoError(t, os.WriteFile(shortSecret, []byte("pw"), 0o600))
	ok := []string{"-key-file", key, "-protocol-id", "7", "-servers", "10.0.0.1:7777", "-secret-file", secret}
	with := func(extra ...string) []string { return append(append([]string(nil), ok...), extra...) }
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "tokend: flag provided but not defined: -nope"},
		{with("stray"), `tokend: unexpected argument "stray"`},
		{with("-servers", ""), `tokend: -servers "": want comma-separated ip:port addresses`},
		{with("-servers", "game.example:7777"), `tokend: -servers "game.example:7777": want comma-separated ip:port addresses like 203.0.113.7:7777 ("game.example:7777" is not one)`},
		{with("-servers", "10.0.0.1:7777,10.0.0.1:7777"), `tokend: -servers "10.0.0.1:7777,10.0.0.1:7777": server 10.0.0.1:7777 listed twice`},
		{with("-protocol-id", "0"), `tokend: -protocol-id "0": want the game's protocol id`},
		{with("-key-file", ""), `tokend: -key-file "": required`},
		{with("-key-file", shortKey), `tokend: -key-file "` + shortKey + `": a key of 4 characters, want 64 hex digits`},
		{with("-key-file", zeroKey), `tokend: -key-file "` + zeroKey + `": the key is all zero`},
		{with("-key-file", filepath.Join(dir, "missing")), `tokend: -key-file "` + filepath.Join(dir, "missing") + `": open`},
		{with("-tokens-file", toks), `tokend: -secret-file "` + secret + `", -tokens-file "` + toks + `": want exactly one of them`},
		{with("-secret-file", shortSecret), `tokend: -secret-file "` + shortSecret + `": a secret of 2 bytes, want at least 16`},
		{with("-rooms", "a,b c"), `tokend: -rooms "a,b c": want comma-separated room names`},
		{with("-ttl", "0s"), `tokend: -ttl 0s: want 1s..1h`},
		{with("-rate", "0"), `tokend: -rate 0: want 0.001..1000`},
		{with("-burst", "0"), `tokend: -burst 0: want 1..1000`},
		{with("-max-callers", "0"), `tokend: -max-callers 0: want 1..10000000`},
		{with("-addr", "nowhere"), `tokend: -addr "nowhere": want host:port`},
		{with("-log-level", "loud"), `tokend: -log-level "loud": want debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.want[len("tokend: "):min(len(tt.want), 40)], func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr, nil)
			clitest.UsageError(t, "tokend:", tt.want, code, stdout.String(), stderr.String())
		})
	}
}

func TestHelpVersionGenKey(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(t.Context(), []string{"-h"}, &stdout, &stderr, nil))
	assert.Contains(t, stderr.String(), "Usage: tokend ")
	assert.Contains(t, stderr.String(), "-servers addresses")

	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, run(t.Context(), []string{"-version"}, &stdout, &stderr, nil))
	assert.Regexp(t, `^tokend \S+ .*go1\.\d+`, stdout.String())

	stdout.Reset()
	require.Equal(t, 0, run(t.Context(), []string{"-gen-key"}, &stdout, &stderr, nil))
	k, err := hex.DecodeString(strings.TrimSpace(stdout.String()))
	require.NoError(t, err)
	assert.Len(t, k, netcode.KeySize)
	assert.NotEqual(t, make([]byte, netcode.KeySize), k)
}

// TestRunServes runs the command on an ephemeral port with bearer tokens:
// a known caller gets a token for the listed server, an unknown one 401,
// /healthz answers, and cancelling (SIGTERM) exits 0.
func TestRunServes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	key, _, toks := files(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan string, 1)
	exit := make(chan int, 1)
	var logs clitest.SyncBuffer
	go func() {
		exit <- run(ctx, []string{"-addr", "127.0.0.1:0", "-key-file", key, "-protocol-id", "0x10", "-servers", "10.0.0.1:7777",
			"-tokens-file", toks, "-rooms", "arena-1"}, io.Discard, &logs, func(a string) { ready <- a })
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-exit:
		t.Fatalf("exited %d: %s", code, logs.String())
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	post := func(bearer, body string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/token", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := client.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp
	}
	resp := post("AAAAAAAAAAAAAAAAAAAA", `{"room":"arena-1"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got tokens.Response
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, "10.0.0.1:7777", got.Server)
	tok, err := base64.StdEncoding.DecodeString(got.Token)
	require.NoError(t, err)
	pub, err := netcode.ParseConnectToken(tok)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x10), pub.ProtocolID)

	assert.Equal(t, http.StatusNotFound, post("AAAAAAAAAAAAAAAAAAAA", `{"room":"arena-2"}`).StatusCode)
	assert.Equal(t, http.StatusUnauthorized, post("BBBBBBBBBBBBBBBBBBBB", `{}`).StatusCode)
	h, err := client.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	_ = h.Body.Close()
	assert.Equal(t, http.StatusOK, h.StatusCode)

	cancel()
	select {
	case code := <-exit:
		require.Equal(t, 0, code, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("tokend did not stop")
	}
	client.CloseIdleConnections()
	assert.Contains(t, logs.String(), `msg="token issued" caller=web-eu room=arena-1 server=10.0.0.1:7777`)
	assert.Contains(t, logs.String(), "tokend stopped")
}
