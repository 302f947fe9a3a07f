package client

import (
	"time"

	"github.com/tickwire/tickwire/netcode"
	"github.com/tickwire/tickwire/server/wire"
)

// maxTicksPerUpdate bounds the ticks of input one Update predicts and
// sends (half a second of ticks, at least 30); a client further behind its
// prediction target jumps ahead instead of flooding the server with inputs
// it has simulated already.
func maxTicksPerUpdate(tickRate int) int { return max(30, tickRate/2) }

// sender is what inputSender sends through (a *netcode.Client).
type sender interface {
	Send(ch int, msg []byte) (netcode.MessageID, error)
}

// inputSender holds the encoded inputs of the last ticks and sends them.
// Every input goes out in n frames (n = the redundancy), in messages of at
// most n consecutive inputs. Repeating an input within one frame would not
// help, since a frame's messages share a packet: it is the later frames'
// packets that must carry it again. In steady state (one tick per frame)
// that is one message with the last n inputs per frame, as
// wire.InputWriter sends; after a slow frame that covered more than n ticks
// it is several messages per frame for the next n frames, so that no tick's
// input is left unsent or sent fewer times than the others.
//
// The zero inputSender holds nothing; reset sizes it.
type inputSender struct {
	n        int
	ring     []inputSlot // by tick mod len
	newest   uint32
	from     uint32 // oldest tick of the run of consecutive ticks ending at newest
	have     bool
	acked    uint32 // newest tick the server has consumed (inputs up to it are too late)
	hasAcked bool
	msg      wire.InputMessage
	out      []byte
}

type inputSlot struct {
	tick uint32
	sent int // frames it went out in
	b    []byte
}

// reset empties the sender and sizes it for a server of tickRate ticks per
// second; it allocates only when the ring grows.
func (s *inputSender) reset(n, tickRate int) {
	size := 2*maxTicksPerUpdate(tickRate) + 2*n
	if cap(s.ring) < size {
		s.ring = make([]inputSlot, size)
	}
	s.ring = s.ring[:size]
	for i := range s.ring {
		s.ring[i].tick, s.ring[i].sent = 0, 0
	}
	if cap(s.msg.Inputs) < n {
		s.msg.Inputs = make([][]byte, 0, n)
	}
	s.n, s.have, s.hasAcked = n, false, false
}

// push records the encoded input (copied) of tick. Ticks are consecutive
// except after a jump, which starts a new run.
func (s *inputSender) push(tick uint32, b []byte) {
	if !s.have || tick != s.newest+1 {
		s.from = tick
	}
	sl := &s.ring[tick%uint32(len(s.ring))]
	sl.tick, sl.sent, sl.b = tick, 0, append(sl.b[:0], b...)
	s.newest, s.have = tick, true
}

// ack records that the server consumed the inputs up to tick.
func (s *inputSender) ack(tick uint32) {
	if !s.hasAcked || tick > s.acked {
		s.acked, s.hasAcked = tick, true
	}
}

// oldest returns the oldest tick whose input the ring still holds.
func (s *inputSender) oldest() uint32 {
	lo := s.from
	if span := uint32(len(s.ring) - 1); s.newest-lo > span {
		lo = s.newest - span
	}
	return lo
}

// pending returns the oldest tick whose input must still go out: sent in
// fewer than n frames and not yet consumed by the server.
func (s *inputSender) pending() (uint32, bool) {
	if !s.have {
		return 0, false
	}
	lo, found := s.newest, false
	oldest := s.oldest()
	for t := s.newest; ; t-- {
		if s.hasAcked && t <= s.acked {
			break
		}
		if sl := &s.ring[t%uint32(len(s.ring))]; sl.tick != t || sl.sent >= s.n {
			break
		}
		lo, found = t, true
		if t == oldest {
			break
		}
	}
	return lo, found
}

// flush sends this frame's input messages on channel ch of conn, newest
// inputs first, and returns how many it sent. Each message carries n
// consecutive inputs when the ring has them (older, already sent ones fill
// a message up: they cost a few bytes and add redundancy).
func (s *inputSender) flush(conn sender, ch int, resync bool) (int, error) {
	lo, ok := s.pending()
	if !ok {
		return 0, nil
	}
	oldest := s.oldest()
	sent := 0
	for hi := s.newest; ; {
		count := min(uint32(s.n), hi-oldest+1)
		s.msg.NewestTick, s.msg.Resync = hi, resync
		s.msg.Inputs = s.msg.Inputs[:0]
		for t := hi; t != hi-count; t-- {
			s.msg.Inputs = append(s.msg.Inputs, s.ring[t%uint32(len(s.ring))].b)
		}
		s.out = wire.AppendInputMessage(s.out[:0], &s.msg)
		if _, err := conn.Send(ch, s.out); err != nil {
			return sent, err
		}
		sent++
		for t := hi; t != hi-count; t-- {
			s.ring[t%uint32(len(s.ring))].sent++
		}
		low := hi - count + 1
		if low <= lo {
			return sent, nil
		}
		hi = low - 1
	}
}

// Adaptive input lead. The clock runs the prediction RTT/2 + a buffer of
// two ticks + the jitter ahead of the server, which is enough on a clean
// link. The server reports in every snapshot how many ticks ahead of it the
// client's newest input was (wire.SnapshotHeader.InputLead). When that
// falls below lateInputMinLead (a slow or bursty frame rate, jitter the
// clock does not see, lost packets that carried the newest inputs) the lead
// grows by a tick, at most every leadRaiseEvery; it shrinks by a tick, at
// most every leadLowerEvery, when inputs arrive with more than
// comfortableLead ticks to spare. On a lossy link it settles where enough
// of each input's redundant copies arrive in time.
const (
	maxExtraLead     = 15                     // ticks
	leadRaiseEvery   = 250 * time.Millisecond // at most one raise per period (a raise shows after an RTT)
	leadLowerEvery   = 2 * time.Second        // at most one lowering per period
	comfortableLead  = 4                      // InputLead above this for a while lowers the extra lead
	lateInputMinLead = 1                      // InputLead below this raises it
)

// leadControl is the adaptive extra lead, in ticks. The zero value adds
// nothing.
type leadControl struct {
	extra   int
	changed time.Time
}

// observe feeds the InputLead of a snapshot received at now.
func (l *leadControl) observe(now time.Time, inputLead int32) {
	switch {
	case inputLead < lateInputMinLead && l.extra < maxExtraLead && now.Sub(l.changed) >= leadRaiseEvery:
		l.extra++
		l.changed = now
	case inputLead > comfortableLead && l.extra > 0 && now.Sub(l.changed) >= leadLowerEvery:
		l.extra--
		l.changed = now
	}
}
