package state

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomWorld evolves a set of entities: some move a little, some jump,
// some appear and disappear, every value stays inside testSchema.
type randomWorld struct {
	rng    *rand.Rand
	cur    *Snapshot
	nextID uint32
}

func (w *randomWorld) randomFields(f []int32) {
	for k, fd := range testSchema.Fields {
		lo, hi := fd.rawRange()
		f[k] = fieldRange{signed: fd.Signed}.fromRaw(lo + w.rng.Int64N(hi-lo+1))
	}
}

func (w *randomWorld) step(tick uint32) *Snapshot {
	next := NewSnapshot(tick, testSchema.NumFields(), w.cur.Len()+4)
	for i, id := range w.cur.IDs {
		if w.rng.IntN(40) == 0 {
			continue // removed
		}
		f := next.Add(id)
		copy(f, w.cur.Fields(i))
		switch r := w.rng.IntN(10); {
		case r < 5: // resting
		case r < 9: // moving a little
			for k := range 2 {
				f[k] = min(max(f[k]+w.rng.Int32N(21)-10, 0), 65535)
			}
		default: // anything
			w.randomFields(f)
		}
	}
	for range w.rng.IntN(4) {
		w.nextID += 1 + uint32(w.rng.IntN(1000))
		w.randomFields(next.Add(w.nextID))
	}
	next.Sort()
	w.cur = next
	return next
}

// TestDeltaEqualsFullProperty runs a server and a client over a lossy,
// delaying, reordering link: the server encodes each snapshot against the
// newest one the client acked (BaselineTracker), the client decodes with a
// bounded History and acks what it decoded. Every decoded snapshot must equal
// the server's full snapshot, and the only failures allowed are deltas whose
// baseline the client lacks.
func TestDeltaEqualsFullProperty(t *testing.T) {
	ticks := 1500
	if testing.Short() {
		ticks = 400
	}
	tests := []struct {
		seed               uint64
		loss, ackLoss      int // percent
		maxDelay           int // ticks
		serverHist, client int // history sizes
	}{
		{seed: 1, loss: 0, ackLoss: 0, maxDelay: 0, serverHist: 32, client: 32},
		{seed: 2, loss: 10, ackLoss: 10, maxDelay: 3, serverHist: 32, client: 32},
		{seed: 3, loss: 40, ackLoss: 30, maxDelay: 8, serverHist: 64, client: 64},
		// The client keeps fewer snapshots than the server can refer to:
		// late acks name baselines the client has dropped.
		{seed: 4, loss: 20, ackLoss: 0, maxDelay: 20, serverHist: 64, client: 4},
		{seed: 5, loss: 90, ackLoss: 50, maxDelay: 5, serverHist: 16, client: 16},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("seed%d_loss%d_ackloss%d_delay%d_hist%d/%d", tt.seed, tt.loss, tt.ackLoss, tt.maxDelay, tt.serverHist, tt.client), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 99))
			world := &randomWorld{rng: rng, cur: NewSnapshot(0, testSchema.NumFields(), 0)}
			for range 50 {
				world.nextID += 1 + uint32(rng.IntN(10))
				world.randomFields(world.cur.Add(world.nextID))
			}
			enc, dec := newCodec(t, CodecConfig{Schema: testSchema})
			tracker, err := NewBaselineTracker(tt.serverHist)
			require.NoError(t, err)
			hist, err := NewHistory(tt.client)
			require.NoError(t, err)

			type inFlight struct {
				at      int
				payload []byte
				tick    uint32
			}
			var toClient []inFlight
			type ack struct {
				at   int
				tick uint32
			}
			var toServer []ack
			sent := map[uint32]*Snapshot{}
			var decoded, deltas, missing, stale int

			for now := 1; now <= ticks; now++ {
				cur := world.step(uint32(now))
				sent[cur.Tick] = cur
				base := tracker.Baseline()
				payload, err := enc.Encode(nil, cur, base)
				require.NoError(t, err)
				tracker.Sent(cur)
				if rng.IntN(100) >= tt.loss {
					toClient = append(toClient, inFlight{at: now + rng.IntN(tt.maxDelay+1), payload: payload, tick: cur.Tick})
				}

				// Deliver what is due, in arrival order (which reorders).
				keep := toClient[:0]
				for _, p := range toClient {
					if p.at > now {
						keep = append(keep, p)
						continue
					}
					got, err := hist.Decode(dec, p.payload)
					switch {
					case errors.Is(err, ErrMissingBaseline):
						h, herr := dec.ReadHeader(p.payload)
						require.NoError(t, herr)
						_, have := hist.Get(h.Baseline)
						require.False(t, have, "ErrMissingBaseline only when the baseline is really missing")
						missing++
						continue
					case errors.Is(err, ErrStaleSnapshot):
						stale++
						continue
					}
					require.NoError(t, err)
					require.True(t, sent[p.tick].Equal(got), "tick %d decoded differs from the full snapshot", p.tick)
					if h, _ := dec.ReadHeader(p.payload); h.Delta {
						deltas++
					}
					decoded++
					if rng.IntN(100) >= tt.ackLoss {
						toServer = append(toServer, ack{at: now + rng.IntN(tt.maxDelay+1), tick: p.tick})
					}
				}
				toClient = keep
				keepAcks := toServer[:0]
				for _, a := range toServer {
					if a.at > now {
						keepAcks = append(keepAcks, a)
						continue
					}
					tracker.Ack(a.tick)
				}
				toServer = keepAcks
				delete(sent, uint32(now-200))
			}
			t.Logf("decoded %d (%d deltas), missing baseline %d, stale %d", decoded, deltas, missing, stale)
			assert.Positive(t, decoded)
			if tt.loss < 90 {
				assert.Greater(t, deltas, decoded/2, "most snapshots are deltas")
			}
			if tt.client < tt.serverHist {
				assert.Positive(t, missing, "the lost-baseline path was exercised")
			}
		})
	}
}

// randomValue returns a value inside f, often one of its ends.
func randomValue(rng *rand.Rand, f Field) int32 {
	lo, hi := f.rawRange()
	switch rng.IntN(10) {
	case 0:
		return f.fromRaw(lo)
	case 1:
		return f.fromRaw(hi)
	}
	return f.fromRaw(lo + rng.Int64N(hi-lo+1))
}

// randomKindsSnapshot returns a snapshot of kindsCfg over the IDs below
// idSpace. An ID of prev stays with probability 7/8, as prev's entity a
// little changed (3 times in 4) or as a new random one, often of another
// kind; any other ID appears with probability 1/3, of a random kind with
// random fields.
func randomKindsSnapshot(rng *rand.Rand, tick uint32, idSpace int, prev *Snapshot) *Snapshot {
	s := NewSnapshot(tick, kindsCfg.Stride(), idSpace)
	for id := range uint32(idSpace) {
		i, inPrev := 0, false
		if prev != nil {
			i, inPrev = prev.Find(id)
		}
		if (inPrev && rng.IntN(8) == 0) || (!inPrev && rng.IntN(3) != 0) {
			continue
		}
		if inPrev {
			if rng.IntN(4) != 0 {
				kind := prev.Kind(i)
				f := s.AddKind(id, kind)
				copy(f, prev.Fields(i))
				for k, fd := range kindsCfg.Kinds[kind].Fields {
					switch rng.IntN(6) {
					case 0:
						f[k] = randomValue(rng, fd)
					case 1: // a small step, kept in range
						lo, hi := fd.rawRange()
						raw := min(max(int64(fd.Int(f[k]))+rng.Int64N(7)-3, lo), hi)
						f[k] = fd.fromRaw(raw)
					}
				}
				continue
			}
		}
		kind := uint8(rng.IntN(len(kindsCfg.Kinds)))
		f := s.AddKind(id, kind)
		for k, fd := range kindsCfg.Kinds[kind].Fields {
			f[k] = randomValue(rng, fd)
		}
	}
	return s
}

// TestKindsCodecProperty: for random pairs of snapshots with kinds (IDs
// that stay, change kind, appear and disappear; fields at their ends and
// anywhere between), decode(encode(cur, base)) == cur, full and delta.
func TestKindsCodecProperty(t *testing.T) {
	iters := 3000
	if testing.Short() {
		iters = 500
	}
	enc, dec := newCodec(t, kindsCfg)
	rng := rand.New(rand.NewPCG(11, 12))
	var buf []byte
	got := &Snapshot{}
	base := randomKindsSnapshot(rng, 0, 40, nil)
	var kept, changedKind, added int
	for it := range iters {
		idSpace := 1 + rng.IntN(64)
		var cur *Snapshot
		if rng.IntN(8) == 0 {
			cur = randomKindsSnapshot(rng, uint32(it+1), idSpace, nil) // unrelated
		} else {
			cur = randomKindsSnapshot(rng, uint32(it+1), idSpace, base)
		}
		for _, b := range []*Snapshot{nil, base} {
			var err error
			buf, err = enc.Encode(buf[:0], cur, b)
			require.NoError(t, err, "iteration %d delta=%v", it, b != nil)
			_, err = dec.Decode(got, buf, base)
			require.NoError(t, err, "iteration %d delta=%v", it, b != nil)
			require.True(t, cur.Equal(got), "iteration %d delta=%v\nbase %+v\nwant %+v\ngot  %+v", it, b != nil, base, cur, got)
		}
		for i, id := range cur.IDs {
			switch j, ok := base.Find(id); {
			case !ok:
				added++
			case base.Kind(j) != cur.Kind(i):
				changedKind++
			default:
				kept++
			}
		}
		base = cur
	}
	t.Logf("entities kept %d, changed kind %d, added %d", kept, changedKind, added)
	assert.Positive(t, changedKind)
	assert.Greater(t, kept, added, "most deltas are of kept entities")
}
