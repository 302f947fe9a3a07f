package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/internal/buildinfo"
	"github.com/tickwire/tickwire/internal/clitest"
	"github.com/tickwire/tickwire/netcode/netsim"
)

var base = []string{"-listen", "127.0.0.1:7001", "-target", "127.0.0.1:7000"}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o options)
	}{
		{"defaults", nil, func(t *testing.T, o options) {
			assert.Equal(t, "127.0.0.1:7001", o.proxy.Listen)
			assert.Equal(t, "127.0.0.1:7000", o.proxy.Target)
			assert.Equal(t, netsim.Config{ReorderDelay: 10 * time.Millisecond}, o.proxy.Up)
			assert.Equal(t, o.proxy.Up, o.proxy.Down)
			assert.Equal(t, uint64(1), o.proxy.Seed)
			assert.Equal(t, 5*time.Second, o.statsInterval)
			assert.Equal(t, 256, o.proxy.MaxClients)
			assert.Equal(t, time.Minute, o.proxy.IdleTimeout)
		}},
		{"the README example", []string{"-loss", "10%", "-latency", "80ms", "-jitter", "20ms"}, func(t *testing.T, o options) {
			assert.InDelta(t, 0.10, o.proxy.Up.Loss, 1e-12)
			assert.Equal(t, 80*time.Millisecond, o.proxy.Up.Latency)
			assert.Equal(t, 20*time.Millisecond, o.proxy.Down.Jitter)
		}},
		{"everything", []string{"-loss", "0.05", "-dup", "1%", "-reorder", "2.5%", "-reorder-delay", "15ms",
			"-bandwidth", "1mbit", "-queue", "100", "-queue-bytes", "65536", "-mtu", "1200", "-burst-loss", "5%",
			"-burst-len", "4", "-seed", "0x2a", "-keep-order=true", "-stats-interval", "0", "-max-clients", "8", "-idle-timeout", "30s"},
			func(t *testing.T, o options) {
				c := o.proxy.Up
				assert.InDelta(t, 0.05, c.Loss, 1e-12)
				assert.InDelta(t, 0.01, c.Duplicate, 1e-12)
				assert.InDelta(t, 0.025, c.Reorder, 1e-12)
				assert.Equal(t, 15*time.Millisecond, c.ReorderDelay)
				assert.Equal(t, int64(125_000), c.Bandwidth)
				assert.Equal(t, 100, c.QueuePackets)
				assert.Equal(t, 65536, c.QueueBytes)
				assert.Equal(t, 1200, c.MaxDatagramSize)
				assert.InDelta(t, 0.05, c.Burst.LossRate(), 1e-12)
				assert.InDelta(t, 0.25, c.Burst.BadToGood, 1e-12)
				assert.Equal(t, uint64(42), o.proxy.Seed)
				assert.True(t, c.PreserveOrder)
				assert.Zero(t, o.statsInterval)
				assert.Equal(t, 8, o.proxy.MaxClients)
				assert.Equal(t, 30*time.Second, o.proxy.IdleTimeout)
			}},
		{"raw gilbert-elliott", []string{"-ge", "1%,30%,0.5%,80%"}, func(t *testing.T, o options) {
			assert.Equal(t, netsim.GilbertElliott{GoodToBad: 0.01, BadToGood: 0.3, LossGood: 0.005, LossBad: 0.8}, o.proxy.Up.Burst)
		}},
		{"gilbert-elliott default state losses", []string{"-ge", "0.01,0.3"}, func(t *testing.T, o options) {
			assert.Equal(t, netsim.GilbertElliott{GoodToBad: 0.01, BadToGood: 0.3, LossBad: 1}, o.proxy.Up.Burst)
		}},
		{"one direction", []string{"-direction", "down", "-loss", "20%", "-mtu", "1000"}, func(t *testing.T, o options) {
			assert.Zero(t, o.proxy.Up.Loss)
			assert.Equal(t, 1000, o.proxy.Up.MaxDatagramSize, "the MTU applies both ways")
			assert.InDelta(t, 0.2, o.proxy.Down.Loss, 1e-12)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseArgs(append(append([]string{}, base...), tt.args...), io.Discard)
			require.NoError(t, err)
			tt.check(t, o)
			require.NoError(t, o.proxy.Validate())
		})
	}
}

// badArgs are bad command lines (after base) and the start of the message.
var badArgs = []struct {
	args []string
	want string
}{
	{[]string{"-loss", "150%"}, `-loss "150%": must be between 0% and 100%`},
	{[]string{"-loss", "-1%"}, `-loss "-1%": must be between 0% and 100%`},
	{[]string{"-loss", "10"}, `-loss "10": a fraction must be between 0 and 1 (write 10% for ten percent)`},
	{[]string{"-loss", "lots"}, `-loss "lots": not a number`},
	{[]string{"-dup", "200%"}, `-dup "200%": must be between 0% and 100%`},
	{[]string{"-reorder", "x%"}, `-reorder "x%": not a number before %`},
	{[]string{"-latency", "80"}, `-latency "80": not a duration; want a number with a unit, like 80ms or 1.5s`},
	{[]string{"-latency", "-5ms"}, `-latency "-5ms": must be between 0 and 1h`},
	{[]string{"-jitter", "2h"}, `-jitter "2h": must be between 0 and 1h`},
	{[]string{"-bandwidth", "fast"}, `-bandwidth "fast": want a number and a unit`},
	{[]string{"-bandwidth", "10furlongs"}, `-bandwidth "10furlongs": unknown unit "furlongs"`},
	{[]string{"-queue", "-3"}, `-queue "-3": must be a whole number between 0 and 2147483647`},
	{[]string{"-mtu", "70000"}, `-mtu "70000": must be a whole number between 0 and 65507`},
	{[]string{"-burst-loss", "100%"}, `-burst-loss "100%": must be at most 75% with -burst-len 3`},
	{[]string{"-burst-loss", "60%", "-burst-len", "1"}, `-burst-loss "60%": must be at most 50% with -burst-len 1`},
	{[]string{"-burst-len", "0.5"}, `-burst-len "0.5": must be a number between 1 and 1e+06`},
	{[]string{"-ge", "1%"}, `-ge "1%": want p,r or p,r,lossGood,lossBad`},
	{[]string{"-ge", "1%,0%"}, `-ge "1%,0%": r (bad→good) must be above 0`},
	{[]string{"-ge", "1%,300%"}, `-ge "1%,300%": part 2 "300%": must be between 0% and 100%`},
	{[]string{"-ge", "1%,30%", "-burst-loss", "5%"}, `-ge "1%,30%": cannot be combined with -burst-loss`},
	{[]string{"-keep-order", "maybe"}, `-keep-order "maybe": must be true or false`},
	{[]string{"-seed", "-1"}, `-seed "-1": must be a whole number`},
	{[]string{"-max-clients", "0"}, `-max-clients "0": must be a whole number between 1 and 1048576`},
	{[]string{"-idle-timeout", "0s"}, `-idle-timeout "0s": must be above 0`},
	{[]string{"-direction", "sideways"}, `-direction "sideways": must be both, up or down`},
	{[]string{"-target", "localhost"}, `-target "localhost": want host:port`},
	{[]string{"-target", ""}, `-target "": is required`},
	{[]string{"-listen", "127.0.0.1:99999"}, `-listen "127.0.0.1:99999": want host:port with a port from 0 to 65535`},
	{[]string{"-nope"}, "flag provided but not defined: -nope"},
	{[]string{"stray"}, `unexpected argument "stray"`},
}

func TestParseArgsErrors(t *testing.T) {
	for _, tt := range badArgs {
		t.Run(tt.want, func(t *testing.T) {
			_, err := parseArgs(append(append([]string{}, base...), tt.args...), io.Discard)
			require.Error(t, err)
			var fe *flagError
			require.ErrorAs(t, err, &fe)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := parseArgs([]string{"-loss", "1%"}, io.Discard)
	assert.ErrorContains(t, err, `-listen "": is required`)
}

// TestRunUsageErrors runs the command on every bad command line: one line
// on stderr with the prefix once, naming the flag, the value and what is
// allowed; exit status 2.
func TestRunUsageErrors(t *testing.T) {
	for _, tt := range badArgs {
		t.Run(tt.want, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append(append([]string{}, base...), tt.args...), &stdout, &stderr)
			clitest.UsageError(t, "netsim:", "netsim: "+tt.want, code, stdout.String(), stderr.String())
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	var stdout bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &stdout, io.Discard))
	help := stdout.String()
	assert.Contains(t, help, "Usage: netsim -listen")
	for _, line := range []string{"-latency delay", "-keep-order true|false", "-loss percentage", "-version"} {
		assert.Contains(t, help, line)
	}
	assert.NotContains(t, help, " string\n")
	_, err := parseArgs([]string{"-h"}, io.Discard)
	assert.True(t, errors.Is(err, flag.ErrHelp))

	stdout.Reset()
	assert.Equal(t, 0, run(context.Background(), []string{"-version"}, &stdout, io.Discard))
	assert.Regexp(t, `^netsim \S+ .*go1\.[\d.]+\n$`, stdout.String())

	var stderr bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"-listen", "192.0.2.1:1", "-target", "127.0.0.1:9"}, io.Discard, &stderr),
		"a listen address not on this machine fails at start")
	assert.True(t, strings.HasPrefix(stderr.String(), "netsim: listen on"), stderr.String())
	assert.Equal(t, 1, strings.Count(stderr.String(), "netsim:"), "the prefix once: %q", stderr.String())
}

func TestDescribe(t *testing.T) {
	assert.Equal(t, "perfect", describe(netsim.Config{}))
	assert.Equal(t, "loss 10% latency 80ms jitter 20ms dup 1%", describe(netsim.Config{Loss: 0.1, Latency: 80 * time.Millisecond, Jitter: 20 * time.Millisecond, Duplicate: 0.01}))
	assert.Equal(t, "reorder 5% by 10ms mtu 1200", describe(netsim.Config{Reorder: 0.05, ReorderDelay: 10 * time.Millisecond, MaxDatagramSize: 1200}))
}

func TestVersion(t *testing.T) {
	assert.Equal(t, "netsim (devel) rev 0123456789ab+dirty 2026-12-01T04:00:00Z go1.26.0", buildinfo.Format("netsim", &debug.BuildInfo{GoVersion: "go1.26.0", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-01T04:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}))
	assert.Equal(t, "netsim v1.2.0 go1.26.0", buildinfo.Format("netsim", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}}))
}

// TestRunStopsOnCancel runs the command until its context (SIGINT in main)
// ends, and checks it exits 0 with its final counters.
func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-target", "127.0.0.1:9", "-stats-interval", "0"}, io.Discard, &stderr)
	}()
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	assert.Contains(t, stderr.String(), "final stats")
	assert.Contains(t, stderr.String(), `up=perfect down=perfect`, "the conditions read like the flags, not a Go struct")
}
