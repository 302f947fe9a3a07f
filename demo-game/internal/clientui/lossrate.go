package clientui

// SnapshotLoss estimates the share of snapshots lost on their way to the
// client over a recent window of server ticks, from two counters a client
// has every frame: the newest snapshot's tick and the number of snapshots
// decoded. Over a window the server sent (tick span) / (ticks per snapshot)
// snapshots; the decoded ones are the counter's increase. Unlike the
// endpoint's loss, an average over its last 1024 packets (many seconds at
// the demo's rates), it follows a change of the link within the window: the
// HUD's loss graph reads it.
//
// The zero SnapshotLoss is ready to use; it is not safe for concurrent use.
type SnapshotLoss struct {
	samples []lossSample // oldest first
	epoch   uint64
}

type lossSample struct {
	tick  uint32
	snaps uint64
}

// Add records the newest snapshot's tick and the snapshots decoded so far
// (epoch changes on every new connection: the server's ticks start again),
// and returns the loss over the last window ticks (at most; at least half
// of it must have passed for ok), for a server sending a snapshot every
// ticksPerSnapshot ticks.
func (s *SnapshotLoss) Add(epoch uint64, tick uint32, snapshots uint64, ticksPerSnapshot float64, window uint32) (loss float64, ok bool) {
	if n := len(s.samples); epoch != s.epoch || n > 0 && (int32(tick-s.samples[n-1].tick) < 0 || snapshots < s.samples[n-1].snaps) {
		s.samples, s.epoch = s.samples[:0], epoch
	}
	if n := len(s.samples); n == 0 || tick != s.samples[n-1].tick {
		s.samples = append(s.samples, lossSample{tick: tick, snaps: snapshots})
	} else {
		s.samples[n-1].snaps = snapshots
	}
	// Keep one sample at or before the window's start.
	drop := 0
	for drop+1 < len(s.samples) && tick-s.samples[drop+1].tick >= window {
		drop++
	}
	if drop > 0 {
		s.samples = append(s.samples[:0], s.samples[drop:]...)
	}
	old := s.samples[0]
	span := tick - old.tick
	if ticksPerSnapshot <= 0 || span == 0 || span < window/2 {
		return 0, false
	}
	sent := float64(span) / ticksPerSnapshot
	got := float64(snapshots - old.snaps)
	return min(max(1-got/sent, 0), 1), true
}
