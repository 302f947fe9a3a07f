package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/netcode/state"
	"github.com/tickwire/tickwire/server"
)

// TestClientsAgainstServer runs the clients role in-process against a
// server for one second and checks they connect, play and leave.
func TestClientsAgainstServer(t *testing.T) {
	o := serverOpts{tick: 60, snap: 30, workers: 2, props: 2, log: slog.New(slog.DiscardHandler)}
	rec := &tickRecorder{interval: time.Second / 60}
	rec.measuring.Store(true)
	srv, tr, err := newServer("127.0.0.1:0", 32, o, rec)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	stdinR, stdinW := io.Pipe()
	var out bytes.Buffer
	clientsDone := make(chan error, 1)
	go func() {
		clientsDone <- runClients(ctx, tr.Addr().String(), 20, 30*time.Second, clientOpts{decode: true, inputEvery: 2}, stdinR, &out)
	}()
	time.AfterFunc(1500*time.Millisecond, func() { _ = stdinW.Close() })
	select {
	case err := <-clientsDone:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("clients did not stop")
	}
	cancel()
	require.NoError(t, <-done)

	assert.True(t, strings.HasPrefix(out.String(), "ready 20\n"), out.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	d, ok := parseClientsDone(lines[len(lines)-1])
	require.True(t, ok, "the last line is the clients' report: %q", lines[len(lines)-1])
	assert.Positive(t, d.cpu)
	assert.True(t, d.sys >= 0 && d.sys <= d.cpu, "kernel time %g within CPU time %g", d.sys, d.cpu)
	assert.True(t, d.frames > 0 && d.frames <= 1, "share of frames run %g in (0, 1]", d.frames)
	_, ok = parseClientsDone("done cpu=1 wall=2")
	assert.False(t, ok, "a line without the kernel time and frames is not a report")
	st := srv.Stats()
	assert.Positive(t, st.SnapshotsDelta)
	assert.Positive(t, st.Inputs[server.InputAccepted])
	assert.Equal(t, uint64(20), st.Connects)
	rec.mu.Lock()
	assert.NotEmpty(t, rec.durations)
	rec.mu.Unlock()
}

func TestLoadGameInterest(t *testing.T) {
	g := newLoadGame(1, 2)
	for id := server.PlayerID(1); id <= 400; id++ {
		require.NoError(t, g.AddPlayer(id))
	}
	g.ApplyInput(1, 0, []byte{3, 0xFD})
	g.Step(0)
	s := server.ViewSnapshot(g, 1, 0, schema.NumFields())
	i, ok := s.Find(1)
	require.True(t, ok, "a player sees itself")
	f := s.Fields(i)
	assert.Equal(t, []int32{3, -3}, f[2:4])
	assert.Less(t, s.Len(), 1200/4, "interest management shows a neighbourhood, not the world")
	me := g.players[1]
	for i := range s.Len() { // the world indexes View marked are the right entities
		f := s.Fields(i)
		assert.LessOrEqual(t, abs(cellOf(f[0])-cellOf(me.x)), 1, "entity %d", s.IDs[i])
		assert.LessOrEqual(t, abs(cellOf(f[1])-cellOf(me.y)), 1, "entity %d", s.IDs[i])
	}
	enc, err := state.NewEncoder(state.CodecConfig{Schema: schema})
	require.NoError(t, err)
	_, err = enc.Encode(nil, s, nil)
	require.NoError(t, err, "values fit the schema")
	g.RemovePlayer(1)
	s = server.ViewSnapshot(g, 1, 1, schema.NumFields())
	assert.Zero(t, s.Len(), "a viewer with no player sees nothing")
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
