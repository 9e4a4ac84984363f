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
	// one: a Signal of one waiter (NewSingle). Its channel is kept, and
	// Notify leaves a token in it instead of closing it.
	one bool
}

// NewSingle returns a Signal for one waiter at a time, as a connection's
// writer waits for its queue: a wake-up makes no channel, where a
// broadcast closes one and its waiter makes the next. A waiter may find
// a token left by a Notify it did not wait for, and look once more for
// nothing.
func NewSingle() *Signal {
	return &Signal{ch: make(chan struct{}, 1), one: true}
}

// C returns a channel that is closed by the next Notify (or, for a
// NewSingle Signal, receives from it).
func (s *Signal) C() <-chan struct{} {
	if s.one {
		s.armed.Store(true)
		return s.ch
	}
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
	if s.one {
		s.armed.Store(false)
		select {
		case s.ch <- struct{}{}:
		default: // a token waits already
		}
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
