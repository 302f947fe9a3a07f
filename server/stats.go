package server

import "time"

// Stats is what a Server did so far, as of the end of its last tick (or
// its shutdown). The metrics have the same counts and more.
type Stats struct {
	Tick    uint32 // the last tick run
	Clients int    // connected players
	// Ticks, Overruns, Late and Skipped count as LoopStats does, over the
	// ticks of Step and Run alike (a Step is never late nor skips). An
	// overrun is a tick that took longer than the tick interval.
	Ticks, Overruns, Late, Skipped uint64
	// LastTickDuration is how long the last tick took, AvgTickDuration the
	// mean over all ticks.
	LastTickDuration, AvgTickDuration time.Duration
	// MessagesIn counts the game messages players sent that reached the
	// Game's HandleMessage; MessagesOut the game messages queued to
	// players (one per player a SendTo or Broadcast reached).
	MessagesIn, MessagesOut uint64
	// MessagesDropped counts the messages clients sent on the control and
	// snapshot channels that were dropped: game messages that do not
	// decode or that no MessageHandler takes, and messages of other kinds.
	// (Malformed inputs are counted in the drops_total metric only.)
	MessagesDropped uint64
	// Kicks counts the players Kick removed.
	Kicks uint64
}

// Stats returns the server's counters as of the end of its last tick.
// Safe from any goroutine, also while Run runs.
func (s *Server) Stats() Stats {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.pub
}

// publish makes the tick goroutine's counters what Stats returns.
func (s *Server) publish() {
	s.st.Tick = s.tick
	s.pubMu.Lock()
	s.pub = s.st
	s.pubMu.Unlock()
}
