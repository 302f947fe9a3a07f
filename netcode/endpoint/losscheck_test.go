package endpoint

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLossCheckSkipsNothing: detectLosses skips its pass between acks until
// the oldest undecided packet's deadline. A twin whose every Flush makes
// the full pass (lossDirty forced, as before the skip) gets the same
// traffic — reliable and unreliable messages, pings, random loss,
// reordering and late acks both ways, and a ping into a blackout after a
// quiet spell, which only time can decide — and must emit the same packets
// and report the same Stats at every step.
func TestLossCheckSkipsNothing(t *testing.T) {
	for seed := range uint64(8) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		cfg := Config{AckDelay: 5 * time.Millisecond}
		var a, full, b, bFull *Endpoint
		for _, e := range []**Endpoint{&a, &full, &b, &bFull} {
			var err error
			*e, err = NewEndpoint(cfg, now)
			require.NoError(t, err)
		}
		rng := rand.New(rand.NewPCG(seed, 99))
		type inFlight struct {
			due         time.Time
			data, twinD []byte
			toB         bool
		}
		var wire []inFlight
		skipped, passes := 0, 0
		// Phases: random traffic; a quiet spell without loss in which a
		// sends nothing to ack, so every packet it sent gets decided; then
		// one ping into a blackout, which only time can decide; then random
		// traffic again.
		quiet, blackout := false, false
		send := func(toB bool, p, twin []byte) {
			require.Equal(t, p, twin, "seed %d: the twins' packets differ", seed)
			if blackout || !quiet && rng.Float64() < 0.2 {
				return // lost
			}
			delay := 20*time.Millisecond + time.Duration(rng.IntN(30))*time.Millisecond
			wire = append(wire, inFlight{due: now.Add(delay), data: p, twinD: twin, toB: toB})
		}
		flushBoth := func(e, twin *Endpoint, toB bool) {
			if !e.lossDirty && e.clock(now) < e.lossCheckAt {
				skipped++
			} else {
				passes++
			}
			twin.lossDirty = true
			pe, pt := flushed(e, now), flushed(twin, now)
			require.Len(t, pt, len(pe), "seed %d: the twins sent different packet counts", seed)
			for i := range pe {
				send(toB, pe[i], pt[i])
			}
		}
		msg := make([]byte, 40)
		for step := range 3000 {
			quiet, blackout = step >= 1000 && step < 1300, step >= 1300 && step < 1700
			now = now.Add(time.Duration(1+rng.IntN(8)) * time.Millisecond)
			kept := wire[:0]
			for _, f := range wire {
				if f.due.After(now) {
					kept = append(kept, f)
					continue
				}
				if f.toB {
					errB, errT := b.Receive(now, f.data), bFull.Receive(now, f.twinD)
					require.Equal(t, errB, errT)
				} else {
					errA, errT := a.Receive(now, f.data), full.Receive(now, f.twinD)
					require.Equal(t, errA, errT)
				}
			}
			wire = kept
			for _, e := range []*Endpoint{b, bFull} {
				for ch := range e.cfg.Channels {
					for _, ok := e.ReadMessage(ch); ok; _, ok = e.ReadMessage(ch) {
					}
				}
			}
			switch r := rng.IntN(10); {
			case step == 1300:
				a.Ping()
				full.Ping()
			case quiet || blackout:
			case r < 4:
				msg[0] = byte(step)
				ch := rng.IntN(len(a.cfg.Channels))
				_, errA := a.Send(ch, msg)
				_, errT := full.Send(ch, msg)
				require.Equal(t, errA, errT)
			case r == 4:
				a.Ping()
				full.Ping()
			}
			if rng.IntN(3) > 0 {
				flushBoth(a, full, true)
			}
			if rng.IntN(4) == 0 {
				flushBoth(b, bFull, false)
			}
			require.Equal(t, full.Stats(), a.Stats(), "seed %d, step %d", seed, step)
		}
		st := a.Stats()
		require.Greater(t, skipped, passes/4, "seed %d: the skip should be taken (%d skipped, %d passes)", seed, skipped, passes)
		require.NotZero(t, st.PacketsLost, "seed %d: the run should lose packets", seed)
		require.NotZero(t, st.PacketsAcked, "seed %d", seed)
	}
}
