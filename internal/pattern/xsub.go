package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// xsub is a SUB that sends and does not filter (libzmq xsub.cpp).
type xsub struct {
	*sub
}

// Send treats a message whose first frame starts with 01 or 00 as a
// subscription change: it updates the local set (counted as on SUB, so a
// cancel goes out only when the count reaches 0) and forwards the message
// as it is, as data, to every publisher. Other messages go to every
// publisher too. It never blocks: a full publisher misses the message.
func (s *xsub) Send(_ context.Context, m pipe.Msg) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind, topic := parseSub(&m); kind {
	case kindSubscribe:
		s.topics.add(topic)
	case kindCancel:
		if last, _ := s.topics.rm(topic); !last {
			return nil
		}
	}
	toAll(s.pipes, m)
	return nil
}
