package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary be the attacker process, as the command
// is: bench runs os.Args[0] with senderFlag.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == senderFlag {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// A small run: every client connects and plays before and during the
// flood, the attacker process sends every datagram, and the server sees
// them (the loss figures depend on the machine's load and are not
// asserted here; the command prints them).
func TestBenchSmallRun(t *testing.T) {
	for _, secure := range []bool{false, true} {
		o := defaultOptions()
		o.clients, o.hostile, o.secure = 3, 3000, secure
		o.warmup, o.cooldown = 300*time.Millisecond, 300*time.Millisecond
		rep, err := bench(context.Background(), o)
		require.NoError(t, err)
		assert.Equal(t, 3000, rep.sentHostile)
		assert.Zero(t, rep.disconnected)
		assert.Equal(t, uint64(3), rep.stats.Accepted)
		assert.NotZero(t, rep.upBefore.sent)
		assert.NotZero(t, rep.downBefore.got)
		assert.GreaterOrEqual(t, rep.stats.DatagramsReceived+uint64(max(rep.kernelDrops, 0)), uint64(3000))
		assert.NotZero(t, rep.stats.DropsMalformed+rep.stats.DropsUnknownAddr, "the flood reached the server")
		var out bytes.Buffer
		rep.print(&out)
		assert.Contains(t, out.String(), "loss during the flood")
		assert.True(t, rep.ok(0))
	}
}

func TestFlagsValidated(t *testing.T) {
	var stderr bytes.Buffer
	for _, args := range [][]string{{"-clients", "0"}, {"-hostile", "-1"}, {"-senders", "65"}, {"-warmup", "1ms"}, {"-max-loss", "2"}} {
		_, err := parseFlags(args, &stderr)
		assert.Error(t, err, "%v", args)
	}
	o, err := parseFlags([]string{"-clients", "5", "-secure"}, &stderr)
	require.NoError(t, err)
	assert.Equal(t, 5, o.clients)
	assert.True(t, o.secure)
	assert.Equal(t, 2, run([]string{"-clients", "0"}, &stderr, &stderr))
	assert.Equal(t, 1, run([]string{senderFlag, "x"}, &stderr, &stderr), "the attacker wants its four arguments")
}

func TestWindowLoss(t *testing.T) {
	var tl tally
	t0 := time.Unix(100, 0)
	for i := range 10 {
		tl.sentAt = append(tl.sentAt, t0.Add(time.Duration(i)*time.Second))
	}
	for _, s := range []uint32{0, 2, 3, 4, 9} {
		tl.received(s)
	}
	w := tl.count(t0.Add(2*time.Second), t0.Add(6*time.Second)) // seqs 2..5
	assert.Equal(t, window{sent: 4, got: 3}, w)
	assert.InDelta(t, 0.25, w.loss(), 1e-9)
	assert.Zero(t, window{}.loss())
}
