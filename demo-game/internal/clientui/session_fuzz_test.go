package clientui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/server/wire"
)

// FuzzSessionHandleMessage feeds arbitrary server messages to a welcomed
// session (seeded with real welcome and snapshot messages): it must never
// panic, and must keep producing views and input messages.
func FuzzSessionHandleMessage(f *testing.F) {
	srv := newFakeServer(&testing.T{})
	f.Add(srv.welcome())
	for range 4 {
		if msg := srv.step(); msg != nil {
			f.Add(msg)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{2, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		s, err := NewSession(SessionConfig{})
		require.NoError(t, err)
		fs := newFakeServer(t)
		now := t0
		require.NoError(t, s.HandleMessage(now, fs.welcome()))
		fs.step()
		require.NoError(t, s.HandleMessage(now, fs.step()))
		_ = s.HandleMessage(now, msg)
		_ = s.HandleMessage(now, msg) // twice: duplicates must be harmless
		now = now.Add(50 * time.Millisecond)
		s.View(now, DefaultToggles())
		for _, out := range s.Tick(now, game.Input{Buttons: game.ButtonUp}) {
			var m wire.InputMessage
			require.NoError(t, wire.DecodeInputMessage(out, &m), "the session's own input messages stay valid")
		}
	})
}

// BenchmarkSessionFrame measures one 60 Hz client frame: every other frame
// a snapshot arrives (decode, clock, reconcile, interpolator), then the tick
// (prediction, input message) and the view (interpolation). The fake
// server's work is outside the timer.
func BenchmarkSessionFrame(b *testing.B) {
	fs := newFakeServer(&testing.T{})
	fs.noLog = true
	s, err := NewSession(SessionConfig{})
	require.NoError(b, err)
	now := t0
	require.NoError(b, s.HandleMessage(now, fs.welcome()))
	t := DefaultToggles()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		msg := fs.step()
		now = now.Add(time.Second / 60)
		b.StartTimer()
		if msg != nil {
			_ = s.HandleMessage(now, msg)
		}
		if out := s.Tick(now, Script(uint32(i))); len(out) > 0 {
			b.StopTimer()
			for _, msg := range out {
				fs.receive(msg)
			}
			b.StartTimer()
		}
		s.View(now, t)
		i++
	}
}
