package client

import "time"

// Stats is what a HUD or a test reads about a Client. Counters add up over
// the Client's life, across reconnects; the link figures are the current
// connection's (zero while there is none).
type Stats struct {
	State ConnState

	// The link, from the connection's endpoint: smoothed round trip and
	// its deviation (both 0 until the first acknowledgement), the share of
	// recent packets lost, and the traffic over the last second.
	RTT, Jitter            time.Duration
	Loss                   float64
	SentKbps, ReceivedKbps float64

	// Snapshots decoded and used after the welcome, and their rate over
	// the last second.
	Snapshots    uint64
	SnapshotRate float64
	// EarlySnapshots arrived before the welcome: kept as delta baselines
	// only.
	EarlySnapshots uint64
	// MissingBaselines: deltas whose baseline the client did not have (a
	// lost or evicted snapshot); the input messages ask the server for a
	// full snapshot until one arrives.
	MissingBaselines uint64
	// StaleSnapshots arrived after a newer one that took their history slot.
	StaleSnapshots uint64

	// Corrections: reconciliations where the server's own state differed
	// from the prediction by a visible amount (Config.Correction's length
	// above 0; every difference without Correction). CorrectionSize sums
	// their lengths and MaxCorrection is the largest; SnappedCorrections
	// were above Config.SnapDistance and snapped instead of sliding.
	Corrections        uint64
	CorrectionSize     float64
	MaxCorrection      float64
	SnappedCorrections uint64

	// Remote calls (Frames); of those, the ones drawn past the newest
	// snapshot (Extrapolated) and the ones past it by more than
	// MaxExtrapolation, frozen (Stalls). InterpDelay is how far behind the
	// newest snapshots remote entities are drawn now.
	Frames, Extrapolated, Stalls uint64
	InterpDelay                  time.Duration

	// InputLead is how many ticks ahead of the server the newest input was
	// when the server ran its tick, from the newest snapshot: below 1, the
	// inputs arrive (nearly) late. ExtraLead is the ticks the lead
	// controller adds to the clock's lead in response; LossLead the ticks
	// it adds so that enough of each input's redundant copies arrive in
	// time on a lossy link (from the measured packet loss).
	InputLead int32
	ExtraLead int
	LossLead  int
	// ServerSendBudget and ServerEstimatedRate are the server's send budget
	// for this client and its estimate of the downlink's rate, in bytes per
	// second, from the newest snapshot (0 when the server has no budget:
	// see server.LinkStats).
	ServerSendBudget, ServerEstimatedRate int
	// InputsSent counts ticks of input predicted and sent; InputMessages
	// the input messages (each with up to InputRedundancy inputs);
	// InputSendErrors the messages the connection refused (a full queue).
	InputsSent, InputMessages, InputSendErrors uint64
	// InputJumps counts the times the client was so far behind its target
	// tick (a long stall) that it jumped ahead instead of sending every
	// tick it missed.
	InputJumps uint64

	// GameMessages received and delivered by Messages; BadMessages dropped
	// (malformed, of an unknown type or kind, a second welcome); BadStates
	// are own entities Config.OwnState refused.
	GameMessages, BadMessages, BadStates uint64

	// Connects counts the connections made.
	Connects uint64
}

// Stats returns the counters and the current link figures (rates as of
// the last Update).
func (c *Client[S, I]) Stats() Stats {
	st := c.stats
	st.State = c.status.State
	if c.conn != nil {
		ls := c.conn.Stats()
		st.RTT, st.Jitter, st.Loss = ls.RTT, ls.RTTVar, ls.PacketLoss
		st.SentKbps, st.ReceivedKbps = ls.SentKbps, ls.ReceivedKbps
	}
	if !c.now.IsZero() {
		st.SnapshotRate = c.arrivals.Rate(c.now)
	}
	if c.interp != nil {
		st.InterpDelay = c.interp.Delay()
	}
	st.InputLead = c.newestHdr.InputLead
	st.ServerSendBudget, st.ServerEstimatedRate = int(c.newestHdr.SendBudget), int(c.newestHdr.EstimatedRate)
	st.ExtraLead, st.LossLead = c.lead.late, c.lead.loss
	return st
}
