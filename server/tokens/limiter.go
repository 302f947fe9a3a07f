package tokens

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps a token bucket per caller id, at most max of them: the
// least recently seen caller is forgotten first. Safe for concurrent use.
type limiter struct {
	rate  rate.Limit
	burst int
	max   int

	mu    sync.Mutex
	order *list.List // of *bucket, most recently seen first
	byID  map[string]*list.Element
}

type bucket struct {
	id string
	l  *rate.Limiter
}

func newLimiter(r float64, burst, maxCallers int) *limiter {
	return &limiter{rate: rate.Limit(r), burst: burst, max: maxCallers, order: list.New(), byID: make(map[string]*list.Element)}
}

// allow takes one token of id's bucket at now; when there is none it
// returns false and how long until there is.
func (l *limiter) allow(id string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, ok := l.byID[id]; ok {
		l.order.MoveToFront(e)
		b = e.Value.(*bucket)
	} else {
		if l.order.Len() >= l.max {
			old := l.order.Back()
			l.order.Remove(old)
			delete(l.byID, old.Value.(*bucket).id)
		}
		b = &bucket{id: id, l: rate.NewLimiter(l.rate, l.burst)}
		l.byID[id] = l.order.PushFront(b)
	}
	r := b.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// callers returns how many callers are remembered.
func (l *limiter) callers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}
