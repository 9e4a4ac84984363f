package azmq

import (
	"sync"

	"github.com/azmq/azmq/internal/pipe"
)

// soloTracker keeps the pattern told which pipe is its only one, if any:
// a receiver on a socket with one peer may read that peer's connection
// itself (pipe.Queue.ReadNow) instead of waiting for the connection's
// reader goroutine to hand each message over.
type soloTracker struct {
	mu    sync.Mutex
	pipes map[*pipe.Pipe]struct{}
}

// patAttach hands p to the pattern.
func (s *Socket) patAttach(p *pipe.Pipe) error {
	if err := s.pat.Attach(p); err != nil {
		return err
	}
	s.soloChange(p, true)
	return nil
}

// patDetach takes p from the pattern.
func (s *Socket) patDetach(p *pipe.Pipe) {
	s.soloChange(p, false)
	s.pat.Detach(p)
}

func (s *Socket) soloChange(p *pipe.Pipe, attached bool) {
	t := &s.solo
	t.mu.Lock()
	defer t.mu.Unlock()
	if attached {
		if t.pipes == nil {
			t.pipes = make(map[*pipe.Pipe]struct{})
		}
		t.pipes[p] = struct{}{}
	} else {
		delete(t.pipes, p)
	}
	var only *pipe.Queue
	if len(t.pipes) == 1 {
		for q := range t.pipes {
			only = q.In
		}
	}
	s.pat.SetSolo(only)
}
