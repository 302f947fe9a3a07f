package server

// Drain stops the server from taking new players, for a graceful shutdown
// or a hand-over: from the next tick on, a client that connects is
// disconnected at once (counted in Stats.Refused and logged) and the Game
// never hears of it, while the players already in play go on until they
// leave or are kicked. Drain is safe to call from any goroutine and cannot
// be undone; call it, wait for Stats.Clients to reach 0 (or a deadline, then
// Kick the rest), then Close.
func (s *Server) Drain() {
	if s.draining.CompareAndSwap(false, true) {
		s.log.Info("draining: new players are refused")
	}
}

// Draining reports whether Drain was called. Safe from any goroutine.
func (s *Server) Draining() bool { return s.draining.Load() }
