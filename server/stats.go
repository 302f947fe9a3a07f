package server

import (
	"fmt"
	"time"
)

// DropReason says why the server dropped something a client sent, or a
// snapshot it was to send. Stats.Drops counts each reason; String gives the
// reason's label in the drops_total metric (package server/admin).
type DropReason uint8

const (
	// DropInputLate: an input for a tick already simulated (InputLate).
	DropInputLate DropReason = iota
	// DropInputFarFuture: an input too far ahead (InputFarFuture).
	DropInputFarFuture
	// DropInputOversized: an input longer than InputConfig.MaxInputSize
	// (InputOversized).
	DropInputOversized
	// DropInputMalformed: a message on the input channel that does not
	// decode as a wire.InputMessage.
	DropInputMalformed
	// DropUnexpectedMsg: a message on the control channel that is not a
	// game message, or any message on the snapshot channel.
	DropUnexpectedMsg
	// DropMessageMalformed: a game message that does not decode (unknown
	// type id, a body that does not fit its type).
	DropMessageMalformed
	// DropMessageUnhandled: a game message, but the Game is no
	// MessageHandler.
	DropMessageUnhandled
	// DropSnapshotInvalid: the snapshot the Game built for a player did
	// not encode (a value outside its field, too many entities…).
	DropSnapshotInvalid
	// DropSnapshotSendFail: the transport refused a snapshot.
	DropSnapshotSendFail
	// NumDropReasons is the number of drop reasons: every DropReason is
	// below it.
	NumDropReasons
)

var dropReasonNames = [NumDropReasons]string{
	"input_late", "input_far_future", "input_oversized", "input_malformed", "unexpected_message",
	"message_malformed", "message_unhandled", "snapshot_invalid", "snapshot_send_failed",
}

// String returns the reason's metric label, such as input_late or
// message_malformed.
func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropReasonNames[r]
	}
	return fmt.Sprintf("DropReason(%d)", uint8(r))
}

// verdictDrops maps an input verdict to the drop it is, or NumDropReasons
// for none.
var verdictDrops = [NumInputVerdicts]DropReason{
	InputAccepted:  NumDropReasons,
	InputDuplicate: NumDropReasons,
	InputLate:      DropInputLate,
	InputFarFuture: DropInputFarFuture,
	InputOversized: DropInputOversized,
}

// Stats is what a Server did so far, as of the end of its last tick (or
// its shutdown): everything its metrics export (package server/admin)
// except the tick-duration and per-client link distributions, which go to
// its Observer. Counters only grow.
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
	// Connects counts the players added to the game. Disconnects counts
	// the clients that left or timed out, that the Game's AddPlayer
	// refused, or that were kicked; Kicks counts the players Kick removed;
	// Refused the players the Game's AddPlayer refused (the transport's
	// own refusals are in Transport.Refused), a room's JoinChecker
	// refused, that named no room, a full room, or came while draining.
	// (The players removed at shutdown are in none of them.)
	Connects, Disconnects, Kicks, Refused uint64
	// SnapshotsPartial counts the snapshots whose budget left some of
	// the client's entities stale (see Config.SnapshotBudget).
	SnapshotsPartial uint64
	// Rooms is the number of rooms (the Game passed to New is one);
	// RoomsCreated and RoomsClosed count them (see Server.Rooms).
	Rooms                     int
	RoomsCreated, RoomsClosed uint64
	// MessagesIn counts the game messages players sent that reached the
	// Game's HandleMessage; MessagesOut the game messages queued to
	// players (one per player a SendTo or Broadcast reached).
	MessagesIn, MessagesOut uint64
	// MessagesDropped counts the messages clients sent on the control and
	// snapshot channels that were dropped: the sum of Drops at
	// DropUnexpectedMsg, DropMessageMalformed and DropMessageUnhandled.
	MessagesDropped uint64
	// Inputs counts the inputs clients sent (each copy of a repeated
	// input), by what the input queue did with them (index: InputVerdict).
	Inputs [NumInputVerdicts]uint64
	// InputTicks counts player ticks by where the applied input came from
	// (index: InputSource).
	InputTicks [NumInputSources]uint64
	// Snapshots sent, and their message bytes (header included), full
	// and delta.
	SnapshotsFull, SnapshotsDelta         uint64
	SnapshotBytesFull, SnapshotBytesDelta uint64
	// Drops counts what the server dropped, by reason (index: DropReason).
	// The late, far-future and oversized inputs are also in Inputs.
	Drops [NumDropReasons]uint64
	// Transport is the transport's Counters as of the server's last sample
	// of them: at New, once per second of ticks and at shutdown. Its Drops
	// and Refused maps are the server's copies, shared by every Stats until
	// the counts change: read them, never write them.
	Transport TransportCounters
}

// Stats returns the server's counters as of the end of its last tick.
// Safe from any goroutine, also while Run runs; it does not allocate.
func (s *Server) Stats() Stats {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.pub
}

// publish makes the tick goroutine's counters what Stats returns.
func (s *Server) publish() {
	s.st.Tick = s.tick
	s.st.Rooms = len(s.rooms)
	s.publishRooms()
	s.pubMu.Lock()
	s.pub = s.st
	s.pubMu.Unlock()
}

// drop counts a drop for reason.
func (s *Server) drop(r DropReason) { s.st.Drops[r]++ }

// verdict counts an input verdict, and the drop it implies.
func (s *Server) verdict(v InputVerdict) {
	s.st.Inputs[v]++
	if d := verdictDrops[v]; d < NumDropReasons {
		s.st.Drops[d]++
	}
}

// sampleTransport copies the transport's counters into the stats. Its
// drops map is copied into a new map only when a count changed, so a
// published map never changes and an idle second allocates nothing.
func (s *Server) sampleTransport() {
	c := s.tr.Counters()
	c.Drops = copyIfChanged(s.st.Transport.Drops, c.Drops)
	c.Refused = copyIfChanged(s.st.Transport.Refused, c.Refused)
	s.st.Transport = c
}

// copyIfChanged returns old when cur has the same counts, else a copy of
// cur: a map once published is never written again.
func copyIfChanged(old, cur map[string]uint64) map[string]uint64 {
	same := len(old) == len(cur) && (old == nil) == (cur == nil)
	for reason, n := range cur {
		if v, ok := old[reason]; !ok || v != n {
			same = false
			break
		}
	}
	if same {
		return old
	}
	m := make(map[string]uint64, len(cur))
	for reason, n := range cur {
		m[reason] = n
	}
	return m
}

// Observer receives what a Server measures beyond its Stats, as it
// measures it: package server/admin's metrics are one (their tick-duration
// histogram and per-client RTT and loss summaries). Set one with
// Server.SetObserver.
//
// The server calls its methods on the goroutine that runs the ticks
// (Run's, or the caller of Step), never concurrently; they must be fast,
// must not block, and must not call the Server except Stats, Tick and
// Clients. The values they get are only valid during the call.
type Observer interface {
	// ObserveTick is called after every tick (Run's and Step's), once
	// Stats counts it and before Config.OnTick, with how long it took.
	ObserveTick(ti TickInfo, took time.Duration)
	// ObserveLink is called once per second of ticks, and at shutdown,
	// for each connected player the transport has link statistics of.
	ObserveLink(p PlayerID, link LinkStats)
}

// observerBox holds an Observer for an atomic pointer.
type observerBox struct{ o Observer }

// SetObserver makes o the server's Observer, replacing any earlier one
// (nil removes it). Safe from any goroutine; it takes effect from the next
// tick on (a tick running meanwhile may report to either).
func (s *Server) SetObserver(o Observer) {
	if o == nil {
		s.obs.Store(nil)
		return
	}
	s.obs.Store(&observerBox{o})
}

// observer returns the Observer, or nil.
func (s *Server) observer() Observer {
	if b := s.obs.Load(); b != nil {
		return b.o
	}
	return nil
}
