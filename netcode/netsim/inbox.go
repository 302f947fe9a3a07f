package netsim

import (
	"net"
	"os"
	"sync"
	"time"
)

// inbox makes ReadFrom wait for the datagrams of a Link: it sleeps until a
// writer signals readable, the next held datagram falls due, the read
// deadline passes, the owner closes, or the source fails.
type inbox struct {
	link     *Link
	readable chan struct{} // signalled (non-blocking) after each Send
	closed   chan struct{} // closed by the owner's Close
	rd       *deadline

	srcDone chan struct{} // nil, or closed once the source fails for good
	srcErr  error         // why; written before srcDone is closed

	timersMu sync.Mutex
	timers   []*time.Timer // idle timers for read waits
}

func newInbox(l *Link) *inbox {
	return &inbox{
		link:     l,
		readable: make(chan struct{}, 1),
		closed:   make(chan struct{}),
		rd:       newDeadline(),
	}
}

func (ib *inbox) signal() {
	select {
	case ib.readable <- struct{}{}:
	default:
	}
}

// read returns the next due datagram, copied into p (truncated if longer).
// err is net.ErrClosed, os.ErrDeadlineExceeded or the source's error, for
// the caller to wrap in a *net.OpError.
func (ib *inbox) read(p []byte) (n int, addr net.Addr, err error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			ib.putTimer(timer)
		}
	}()
	for {
		if isClosed(ib.closed) {
			return 0, nil, net.ErrClosed
		}
		deadline := ib.rd.wait()
		if isClosed(deadline) {
			return 0, nil, os.ErrDeadlineExceeded
		}
		now := time.Now()
		n, addr, ok, next, more := ib.link.readInto(now, p)
		if ok {
			if more && !next.After(now) {
				ib.signal() // let another reader take the next due datagram
			}
			return n, addr, nil
		}
		if !more && ib.srcDone != nil && isClosed(ib.srcDone) {
			return 0, nil, ib.srcErr
		}
		var due <-chan time.Time
		if more {
			if timer == nil {
				timer = ib.getTimer()
			}
			timer.Reset(next.Sub(now))
			due = timer.C
		}
		select {
		case <-ib.readable:
		case <-due:
		case <-deadline:
		case <-ib.closed:
		case <-ib.srcDone:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// close wakes every reader for good.
func (ib *inbox) close() {
	close(ib.closed)
	ib.rd.stop()
}

func (ib *inbox) getTimer() *time.Timer {
	ib.timersMu.Lock()
	defer ib.timersMu.Unlock()
	if n := len(ib.timers); n > 0 {
		t := ib.timers[n-1]
		ib.timers = ib.timers[:n-1]
		return t
	}
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

func (ib *inbox) putTimer(t *time.Timer) {
	t.Stop()
	ib.timersMu.Lock()
	ib.timers = append(ib.timers, t)
	ib.timersMu.Unlock()
}
