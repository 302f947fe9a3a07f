package server

import (
	"slices"

	"github.com/tickwire/tickwire/netcode/state"
)

// Prioritizer is an optional interface of a Game that says which entities
// matter most to each player when its snapshots cannot carry everything it
// sees (Config.SnapshotBudget, or the link's own send budget): every
// snapshot, each entity in the player's view gains Priority, and the
// snapshot carries the entities of highest accumulated priority that fit;
// those start again from zero (without a Prioritizer, every entity weighs
// 1 but the one whose id is the viewer's PlayerID, the usual player entity,
// which is urgent). The others keep the values the player last
// got (a delta encodes them as unchanged, at one bit each) until their
// turn, or until they are Config.MaxStaleTicks old, when they are sent
// whatever the budget. An entity the player was never sent appears when
// its turn comes (its priority accumulates like the others').
//
// Priority runs like Interest.View: only reading, concurrently for
// different viewers with Config.SnapshotWorkers above 1.
type Prioritizer interface {
	// Priority returns how much world entity i (world.IDs[i]) matters to
	// viewer now: ≥ 0, larger is more (nearness, say: 10 for what is
	// close, 1 for the rest). UrgentPriority or more sends the entity
	// fresh in every snapshot, whatever the budget (the viewer's own
	// player, what is about to hit it).
	Priority(viewer PlayerID, world *state.Snapshot, i int) float32
}

// UrgentPriority is the Prioritizer weight from which an entity goes fresh
// in every snapshot, whatever the budget.
const UrgentPriority = 1000

// entPrio is a client's record of one entity in its view.
type entPrio struct {
	id   uint32
	acc  float32 // accumulated priority since it was last sent
	w    float32 // this tick's weight
	src  uint32  // the tick of the values it was last sent with
	sent bool    // the client was sent it (and has it, unless it left the view)
}

// prioState is a client's priority accumulator (only for clients whose
// budget cannot carry their whole view).
type prioState struct {
	ents, next []entPrio // by id
	stale      []state.Stale
	// costPerFresh is the estimated bytes one more fresh entity adds to a
	// snapshot, learned from the snapshots encoded. lag is the estimated
	// number of snapshots that go out after one before its ack comes
	// back: a delta against the acked baseline carries an entity sent
	// fresh again in each of them, so one fresh entity costs
	// costPerFresh·(1+lag) over its life.
	costPerFresh, lag float32
}

// rank orders the candidates of a snapshot.
type rank struct {
	acc float32
	pos int32 // index in prioState.next
}

// snapshotHeaderBudget is the bytes a snapshot costs besides its entities
// (message header, codec envelope): an estimate.
const snapshotHeaderBudget = 24

// snapshotShare is the part of a connection's send budget its snapshots
// may take: the rest is for the game's messages, the acks and the resends.
const snapshotShare = 0.8

// budgetBytes returns the bytes a client's snapshot may take this tick:
// its share of Config.SnapshotBudget and of the connection's own send
// budget (st.SendBudget, which the transport's congestion response moves),
// the smaller; 0 for no cap.
func (s *Server) budgetBytes(st LinkStats) int {
	perSecond := s.cfg.SnapshotBudget
	if st.SendBudget > 0 {
		link := int(float64(st.SendBudget) * snapshotShare)
		if perSecond <= 0 || link < perSecond {
			perSecond = link
		}
	}
	if perSecond <= 0 {
		return 0
	}
	return max(perSecond/s.cfg.SnapshotRate, snapshotHeaderBudget+1)
}

// unlimited is the budget of a client that had a limit once and has none
// now: it stays on the budgeted path, whose records stay right, with room
// for everything.
const unlimited = 1 << 30

// buildBudgeted fills ss.out like buildSnapshot when the client's budget
// is limited: iv is the client's view (Interest), the snapshot carries the
// entities of highest accumulated priority that fit in budget bytes, the
// others it already has with the values it last got.
func (s *Server) buildBudgeted(sw *snapWorker, ss *session, world *state.Snapshot, iv *state.View, budget int) {
	r := ss.room
	p := ss.prio
	if p == nil {
		p = &prioState{costPerFresh: float32(4 * s.stride), lag: 2}
		ss.prio = p
	}
	// Merge the view (world order: by id) with the client's records.
	p.next = p.next[:0]
	j := 0
	for i := range world.Len() {
		if !iv.Has(i) {
			continue
		}
		id := world.IDs[i]
		for j < len(p.ents) && p.ents[j].id < id {
			j++ // left the view: forgotten (the client drops it)
		}
		e := entPrio{id: id}
		if j < len(p.ents) && p.ents[j].id == id {
			e = p.ents[j]
		}
		w := float32(1)
		switch {
		case r.prioritizer != nil:
			w = max(r.prioritizer.Priority(ss.player, world, i), 0)
		case id == uint32(ss.player):
			w = UrgentPriority // the usual player entity: its id is the PlayerID
		}
		e.acc += w
		e.w = w
		p.next = append(p.next, e)
	}
	p.ents, p.next = p.next, p.ents

	// Rank by accumulated priority. Fresh are the first of them that fit
	// the budget, and whatever must be: values as old as allowed, or an
	// entity waiting as long as allowed to appear.
	//
	// Without an acked baseline the snapshot is a full one, and replaces
	// what the client has: it carries only fresh entities, those the client
	// was sent first, so that the set it sees stays the same until an ack
	// comes (a full snapshot of every entity sent so far at full cost would
	// outgrow the budget, and delay the acks further).
	base := ss.views.Baseline(r.worlds, &sw.base)
	ranks := sw.ranks[:0]
	must := growLen(sw.must, len(p.ents))
	for k := range p.ents {
		e := &p.ents[k]
		must[k] = (e.sent && s.tick-e.src >= uint32(s.maxStale)) || e.w >= UrgentPriority
		acc := e.acc
		if base == nil && e.sent {
			acc += 1e30
		}
		ranks = append(ranks, rank{acc: acc, pos: int32(k)})
	}
	sw.must = must
	slices.SortFunc(ranks, func(a, b rank) int {
		switch {
		case a.acc > b.acc:
			return -1
		case a.acc < b.acc:
			return 1
		}
		return int(a.pos - b.pos)
	})
	sw.ranks = ranks

	// How many fresh entities fit, at the learned costs; then correct by
	// what the encoder says (at most three encodes).
	// The snapshots sent since the acked one: what the next ones will
	// carry again of this one's fresh entities, smoothed.
	if acked, ok := ss.views.AckedTick(); ok {
		period := float32(s.cfg.TickRate) / float32(s.cfg.SnapshotRate)
		now := max(float32(s.tick-acked)/period-1, 0)
		p.lag += (now - p.lag) / 8
	}
	fresh := len(ranks)
	has := 0
	if budget < unlimited {
		for k := range p.ents {
			if p.ents[k].sent {
				has++
			}
		}
		room := float32(budget-snapshotHeaderBudget) - float32(has)/8
		fresh = min(len(ranks), max(0, int(room/(max(p.costPerFresh, 0.125)*(1+p.lag)))))
	}
	prevFresh, prevSize := -1, 0
	var n int // the entities the final encoding carries fresh
	for attempt := 0; ; attempt++ {
		var ok bool
		if n, ok = s.encodeBudgeted(sw, ss, world, base, fresh); !ok {
			return
		}
		size := len(ss.out)
		if prevFresh >= 0 && prevFresh != n {
			marginal := float32(prevSize-size) / float32(prevFresh-n)
			if marginal > 0 {
				p.costPerFresh += (marginal - p.costPerFresh) / 2
			}
		}
		if size <= budget || fresh == 0 || attempt == 2 {
			break
		}
		over := float32(size - budget)
		prevFresh, prevSize = n, size
		fresh = max(0, fresh-1-int(over/max(p.costPerFresh, 0.125)))
	}
	if n > 0 && budget < unlimited {
		// What one fresh entity cost this time, its re-sends included:
		// the controller's feedback, so that snapshots settle at the budget.
		obs := (float32(len(ss.out)-snapshotHeaderBudget) - float32(has)/8) / (float32(n) * (1 + p.lag))
		p.costPerFresh += (max(obs, 0.125) - p.costPerFresh) / 4
	}

	for k, f := range sw.isFresh {
		e := &p.ents[k]
		if f {
			e.acc, e.src, e.sent = 0, s.tick, true
		} else if base == nil && e.sent {
			e.sent, e.src = false, s.tick // not in this full snapshot: the client drops it
		}
	}
	if n < len(p.ents) {
		ss.partial = true
	}
}

// encodeBudgeted encodes ss's snapshot with the first fresh entities of
// sw.ranks and those in sw.must fresh, and every other one the client was
// sent stale. It returns how many went fresh (sw.isFresh marks them), or
// false (ss.err set) when it cannot encode.
func (s *Server) encodeBudgeted(sw *snapWorker, ss *session, world *state.Snapshot, base *state.Snapshot, fresh int) (int, bool) {
	p := ss.prio
	isFresh := growLen(sw.isFresh, len(p.ents))
	copy(isFresh, sw.must)
	for _, rk := range sw.ranks[:fresh] {
		isFresh[rk.pos] = true
	}
	sw.isFresh = isFresh
	n := countTrue(isFresh)
	ss.view.Reset(world.Len())
	p.stale = p.stale[:0]
	k := 0
	for i := range world.Len() {
		if k == len(p.ents) {
			break
		}
		if world.IDs[i] != p.ents[k].id {
			continue
		}
		e := &p.ents[k]
		switch {
		case isFresh[k]:
			ss.view.Add(i)
		case e.sent && base != nil:
			ss.view.Add(i)
			if e.src != s.tick {
				p.stale = append(p.stale, state.Stale{Index: int32(i), Src: e.src})
			}
		}
		k++
	}
	cur, err := ss.view.SelectStale(world, p.stale, ss.room.worlds, &sw.cur)
	if err != nil {
		ss.err = err
		return 0, false
	}
	ss.out = s.appendHeader(ss)
	out, err := sw.enc.Encode(ss.out, cur, base)
	if err != nil {
		ss.err = err
		return 0, false
	}
	ss.out = out
	ss.full = base == nil
	return n, true
}

// growLen returns s with length n, reusing its memory when it can.
func growLen[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}
