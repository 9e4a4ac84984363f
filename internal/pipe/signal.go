package pipe

import (
	"sync"
	"sync/atomic"
)

// Signal wakes every goroutine waiting for a condition to change. It is a
// broadcast, like sync.Cond, but usable in a select next to ctx.Done().
//
// A waiter takes the channel with C, re-checks its condition, and only then
// blocks on the channel. A Notify after C closes that channel, so a change
// between the check and the block is never lost. Notify with no waiter costs
// one atomic load, which keeps it cheap on the hot path.
type Signal struct {
	armed atomic.Bool
	mu    sync.Mutex
	ch    chan struct{}
}

// C returns a channel that is closed by the next Notify.
func (s *Signal) C() <-chan struct{} {
	s.mu.Lock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	s.armed.Store(true)
	ch := s.ch
	s.mu.Unlock()
	return ch
}

// Notify wakes every waiter that took a channel with C before this call.
func (s *Signal) Notify() {
	if !s.armed.Load() {
		return
	}
	s.mu.Lock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
	s.armed.Store(false)
	s.mu.Unlock()
}
