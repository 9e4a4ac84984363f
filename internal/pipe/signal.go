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
	// tok is the channel of a broadcast Signal's lone waiter (Enter): a
	// socket's Recv blocks on it without making a channel each time, as
	// a waiter of NewSingle does. lone says a waiter holds it.
	tok  chan struct{}
	lone bool
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

// Enter is C for a waiter that calls Leave with the channel when it stops
// waiting. While no other such waiter waits, the channel is one the
// Signal keeps and Notify leaves a token in: a waiter on its own (a
// socket's one Recv) makes no channel per wait. A waiter looks at its
// condition after Enter, and Leave takes away a token it did not take.
func (s *Signal) Enter() <-chan struct{} {
	if s.one {
		return s.C()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed.Store(true)
	if !s.lone {
		if s.tok == nil {
			s.tok = make(chan struct{}, 1)
		}
		s.lone = true
		return s.tok
	}
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Leave ends a wait begun with Enter.
func (s *Signal) Leave(ch <-chan struct{}) {
	if s.one {
		return
	}
	s.mu.Lock()
	if ch == (<-chan struct{})(s.tok) {
		s.lone = false
		// A token left now is for a change the waiter looks at anyway
		// after this (it returns, or enters again and looks).
		select {
		case <-s.tok:
		default:
		}
	}
	s.mu.Unlock()
}

// Notify wakes every waiter that took a channel with C or Enter before
// this call.
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
	if s.lone {
		select {
		case s.tok <- struct{}{}:
		default: // a token waits already
		}
	}
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
	s.armed.Store(false)
	s.mu.Unlock()
}
