package client

import (
	"math"
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
// link. Two controllers add ticks to it:
//
//   - late: the server reports in every snapshot how many ticks ahead of it
//     the client's newest input was (wire.SnapshotHeader.InputLead). When
//     that falls below lateInputMinLead (a slow or bursty frame rate,
//     jitter the clock does not see, lost packets) the lead grows by a
//     tick, at most every leadRaiseEvery, and shrinks by one, at most every
//     leadLowerEvery, when inputs arrive with more than comfortableLead
//     ticks to spare.
//   - loss: each input goes out in InputRedundancy consecutive frames, but
//     a copy helps only if it arrives before the server runs the tick. On
//     a lossy link the lead must let enough copies arrive in time that all
//     of them are lost with a probability below lateTarget: c copies with
//     loss^c <= lateTarget, the last one sent (c-1) frames after the first.
//     The clock's buffer covers about a tick of that; the rest is added
//     (raised at once, lowered a tick at a time, at the same rates). Unlike
//     the late controller it needs no late input to learn: it follows the
//     connection's measured packet loss.
const (
	maxExtraLead     = 15                     // ticks, for each controller
	leadRaiseEvery   = 250 * time.Millisecond // at most one raise per period (a raise shows after an RTT)
	leadLowerEvery   = 2 * time.Second        // at most one lowering per period
	comfortableLead  = 4                      // InputLead above this for a while lowers the late lead
	lateInputMinLead = 1                      // InputLead below this raises it
	lateTarget       = 1e-4                   // share of inputs the loss lead lets miss their tick
	bufferCovers     = 1                      // ticks of the clock's buffer that count toward the loss lead
	frameSmoothing   = 0.1                    // weight of a new frame interval in its moving average
)

// leadControl holds the two adaptive additions to the clock's lead, in
// ticks. The zero value adds nothing.
type leadControl struct {
	late, loss     int
	lateAt, lossAt time.Time     // when each last changed
	frame          time.Duration // smoothed interval between frames
	lastFrame      time.Time
}

// extra returns the ticks to add to the clock's prediction tick.
func (l *leadControl) extra() int { return l.late + l.loss }

// observe feeds the InputLead of a snapshot received at now.
func (l *leadControl) observe(now time.Time, inputLead int32) {
	switch {
	case inputLead < lateInputMinLead && l.late < maxExtraLead && now.Sub(l.lateAt) >= leadRaiseEvery:
		l.late++
		l.lateAt = now
	case inputLead > comfortableLead && l.late > 0 && now.Sub(l.lateAt) >= leadLowerEvery:
		l.late--
		l.lateAt = now
	}
}

// frameAt records a frame at now and moves the loss lead toward what the
// link's packet loss needs, with redundancy copies of each input sent one
// per frame and a server tick of tickDt.
func (l *leadControl) frameAt(now time.Time, loss float64, redundancy int, tickDt time.Duration) {
	if !l.lastFrame.IsZero() {
		if d := now.Sub(l.lastFrame); l.frame == 0 {
			l.frame = d
		} else {
			l.frame += time.Duration(frameSmoothing * float64(d-l.frame))
		}
	}
	l.lastFrame = now
	want := lossLead(loss, redundancy, l.frame, tickDt)
	switch {
	case want > l.loss && now.Sub(l.lossAt) >= leadRaiseEvery:
		l.loss, l.lossAt = want, now
	case want < l.loss && now.Sub(l.lossAt) >= leadLowerEvery:
		l.loss--
		l.lossAt = now
	}
}

// lossLead returns the ticks of lead, beyond what the clock's buffer
// covers, that let enough of an input's copies (at most redundancy, one per
// frame) reach the server in time on a link losing the given share of
// packets.
func lossLead(loss float64, redundancy int, frame, tickDt time.Duration) int {
	if loss <= 0 || frame <= 0 || tickDt <= 0 {
		return 0
	}
	copies := redundancy
	if loss < 1 {
		copies = min(redundancy, int(math.Ceil(math.Log(lateTarget)/math.Log(loss))))
	}
	if copies <= 1 {
		return 0
	}
	ticks := int(math.Ceil(float64(time.Duration(copies-1)*frame)/float64(tickDt))) - bufferCovers
	return min(max(ticks, 0), maxExtraLead)
}
