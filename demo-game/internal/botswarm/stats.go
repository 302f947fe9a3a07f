package botswarm

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Stats sums the measurements of a swarm's bots.
type Stats struct {
	Elapsed    time.Duration // since Dial returned
	Bots       int           // asked for
	Connected  int           // handshakes that succeeded
	DialFailed int
	Welcomed   int // bots whose reliable welcome arrived on every connection
	Ended      int // connected bots that are not connected now (server gone, reconnecting)
	// Lost counts the connections that ended during the run, Reconnects
	// the connections made after a bot's first; EndReason is why the first
	// bot that is not connected now is not ("" when all are).
	Lost, Reconnects int
	EndReason        string

	// Link measurements across the connected bots.
	RTTMedian, RTTMax time.Duration
	LossMean, LossMax float64

	// Client runtime counters (server/client's Stats), summed over the
	// bots.
	Snapshots       uint64 // snapshots decoded
	MissingBaseline uint64 // deltas whose baseline was gone (each recovered by a resync)
	BadMessages     uint64 // messages that failed to decode
	Corrections     uint64 // reconciliations that moved the own player
	Snapped         uint64 // of those, corrections that snapped (respawns)
	CorrectionUnits float64
	Deaths          uint64 // the bots' players killed: each respawn is one correction (a teleport)
	Frames          uint64 // views drawn with remote entities
	Stalls          uint64 // views past the extrapolation bound
	Extrapolated    uint64 // views past the newest snapshot, within the bound
	InputsSent      uint64
	InputJumps      uint64
}

// StallRatio is Stalls per Frame (0 without frames).
func (s Stats) StallRatio() float64 {
	if s.Frames == 0 {
		return 0
	}
	return float64(s.Stalls) / float64(s.Frames)
}

// CorrectionsPerBotSecond is the prediction corrections per bot per second
// since the start.
func (s Stats) CorrectionsPerBotSecond() float64 {
	if s.Connected == 0 || s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Corrections) / float64(s.Connected) / s.Elapsed.Seconds()
}

// SnapshotsPerBotSecond is the snapshots decoded per bot per second.
func (s Stats) SnapshotsPerBotSecond() float64 {
	if s.Connected == 0 || s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Snapshots) / float64(s.Connected) / s.Elapsed.Seconds()
}

// Sub returns the counters of s minus those of an earlier sample (for a
// per-interval report); the gauges (RTT, loss, bot counts) are s's.
func (s Stats) Sub(prev Stats) Stats {
	d := s
	d.Elapsed -= prev.Elapsed
	d.Snapshots -= prev.Snapshots
	d.MissingBaseline -= prev.MissingBaseline
	d.BadMessages -= prev.BadMessages
	d.Corrections -= prev.Corrections
	d.Snapped -= prev.Snapped
	d.Lost -= prev.Lost
	d.Reconnects -= prev.Reconnects
	d.CorrectionUnits -= prev.CorrectionUnits
	d.Deaths -= prev.Deaths
	d.Frames -= prev.Frames
	d.Stalls -= prev.Stalls
	d.Extrapolated -= prev.Extrapolated
	d.InputsSent -= prev.InputsSent
	d.InputJumps -= prev.InputJumps
	return d
}

func summarize(asked, failed int, elapsed time.Duration, bots []BotStats) Stats {
	s := Stats{Elapsed: elapsed, Bots: asked, DialFailed: failed}
	rtts := make([]time.Duration, 0, len(bots))
	for _, b := range bots {
		if !b.Connected {
			continue
		}
		s.Connected++
		if b.Welcomed {
			s.Welcomed++
		}
		if b.Ended != "" {
			if s.Ended == 0 {
				s.EndReason = b.Ended
			}
			s.Ended++
		}
		s.Lost += b.Lost
		s.Reconnects += b.Reconnects
		if b.RTT > 0 {
			rtts = append(rtts, b.RTT)
		}
		s.LossMean += b.Loss
		s.LossMax = max(s.LossMax, b.Loss)
		ss := &b.Client
		s.Snapshots += ss.Snapshots
		s.MissingBaseline += ss.MissingBaselines
		s.BadMessages += ss.BadMessages
		s.Corrections += ss.Corrections
		s.Snapped += ss.SnappedCorrections
		s.CorrectionUnits += ss.CorrectionSize
		s.Deaths += uint64(max(b.Deaths, 0))
		s.Frames += ss.Frames
		s.Stalls += ss.Stalls
		s.Extrapolated += ss.Extrapolated
		s.InputsSent += ss.InputsSent
		s.InputJumps += ss.InputJumps
	}
	if s.Connected > 0 {
		s.LossMean /= float64(s.Connected)
	}
	if len(rtts) > 0 {
		slices.Sort(rtts)
		s.RTTMedian, s.RTTMax = rtts[len(rtts)/2], rtts[len(rtts)-1]
	}
	return s
}

// WriteLine writes s as one line of a periodic report: bots, link, and the
// per-bot rates over s.Elapsed (pass s.Sub(previous) for an interval).
func (s Stats) WriteLine(w io.Writer, label string) {
	fmt.Fprintf(w, "%s bots %d/%d welcomed %d ended %d lost %d reconnects %d | rtt p50 %v max %v | loss mean %.1f%% max %.1f%% | snapshots %.1f/s/bot | corrections %.2f/s/bot (%d, avg %.1f units; %d snapped, %d respawns) | stalls %.3f%% (%d of %d frames), extrapolated %d | missing baselines %d, bad messages %d\n",
		label, s.Connected, s.Bots, s.Welcomed, s.Ended, s.Lost, s.Reconnects,
		s.RTTMedian.Round(time.Millisecond), s.RTTMax.Round(time.Millisecond),
		100*s.LossMean, 100*s.LossMax, s.SnapshotsPerBotSecond(),
		s.CorrectionsPerBotSecond(), s.Corrections, s.avgCorrection(), s.Snapped, s.Deaths,
		100*s.StallRatio(), s.Stalls, s.Frames, s.Extrapolated,
		s.MissingBaseline, s.BadMessages)
}

func (s Stats) avgCorrection() float64 {
	if s.Corrections == 0 {
		return 0
	}
	return s.CorrectionUnits / float64(s.Corrections)
}
