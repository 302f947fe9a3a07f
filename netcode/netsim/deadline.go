package netsim

import (
	"sync"
	"time"
)

// deadline is a settable deadline whose channel closes when it passes.
// It uses only time.AfterFunc and channels, so it works in fake time inside
// a testing/synctest bubble.
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	done  chan struct{} // closed once the deadline has passed
}

func newDeadline() *deadline { return &deadline{done: make(chan struct{})} }

// set moves the deadline to t; the zero time means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.done // the timer fired or is firing: wait for it to close done
	}
	d.timer = nil
	expired := isClosed(d.done)
	if t.IsZero() {
		if expired {
			d.done = make(chan struct{})
		}
		return
	}
	if wait := time.Until(t); wait > 0 {
		if expired {
			d.done = make(chan struct{})
		}
		ch := d.done
		d.timer = time.AfterFunc(wait, func() { close(ch) })
		return
	}
	if !expired {
		close(d.done)
	}
}

// wait returns a channel that is closed once the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done
}

// stop cancels a pending timer (on Close).
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
