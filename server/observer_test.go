package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recObserver records what an Observer is told, in one log with OnTick's
// calls.
type recObserver struct{ log *[]string }

func (o recObserver) ObserveTick(ti TickInfo, took time.Duration) {
	*o.log = append(*o.log, fmt.Sprintf("tick %d %v", ti.Tick, took))
}

func (o recObserver) ObserveLink(p PlayerID, l LinkStats) {
	*o.log = append(*o.log, fmt.Sprintf("link %d %v %v", p, l.RTT, l.PacketLoss))
}

// TestObserver: an Observer set between Steps sees every later tick with
// its duration (before OnTick), each player's link once per second of
// ticks and at shutdown, and nothing once removed.
func TestObserver(t *testing.T) {
	clock := &stepClock{now: time.Unix(50, 0)}
	g := newTestGame(0)
	g.stepHook = func(tick uint32) { clock.now = clock.now.Add(time.Duration(tick) * time.Millisecond) }
	var log []string
	ts := newTestServer(t, Config{TickRate: 4, Clock: clock, OnTick: func(ti TickInfo, _ time.Duration) {
		log = append(log, fmt.Sprintf("on tick %d", ti.Tick))
	}}, g)
	ts.tr.connect(1)
	ts.tr.connect(2)
	ts.tr.stats[1] = LinkStats{RTT: 30 * time.Millisecond, PacketLoss: 0.25}
	ts.stepTo(t, 0)
	ts.SetObserver(recObserver{&log})
	ts.stepTo(t, 5)
	assert.Equal(t, []string{
		"on tick 0", // no observer yet
		"tick 1 1ms", "on tick 1", "tick 2 2ms", "on tick 2", "tick 3 3ms", "on tick 3",
		"link 1 30ms 0.25", // a second of ticks: player 2's transport has no stats
		"tick 4 4ms", "on tick 4", "tick 5 5ms", "on tick 5",
	}, log)

	log = nil
	ts.tr.stats[2] = LinkStats{RTT: time.Second}
	require.NoError(t, ts.Close())
	assert.Equal(t, []string{"link 1 30ms 0.25", "link 2 1s 0"}, log, "sampled at shutdown")

	log = nil
	ts2 := newTestServer(t, Config{TickRate: 4, Clock: clock}, newTestGame(0))
	ts2.SetObserver(recObserver{&log})
	ts2.stepTo(t, 0)
	ts2.SetObserver(nil)
	ts2.stepTo(t, 8)
	assert.Equal(t, []string{"tick 0 0s"}, log)
}
