package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// pub sends each message to the subscribers whose topics prefix its first
// frame, dropping for a full pipe and never blocking (libzmq pub.cpp,
// xpub.cpp). It also implements XPUB, which adds a Recv (xpub.go).
type pub struct {
	base
	subs  mtrie
	pipes []*subPipe
	byP   map[*pipe.Pipe]*subPipe

	// Subscriptions arrive on the pipes' In queues and are applied before
	// each Send (and XPUB Recv).
	in inbox

	x *pending // XPUB only: what Recv hands the application

	maxSub int64 // Options.MaxSubscriptionBytes
}

func newPub(x bool, o Options) Socket {
	s := &pub{byP: make(map[*pipe.Pipe]*subPipe), maxSub: o.MaxSubscriptionBytes}
	s.init()
	if x {
		s.x = &pending{max: maxPending}
		return &xpub{s}
	}
	return s
}

// Attach adds a subscriber; it gets nothing until it subscribes.
func (s *pub) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	sp := &subPipe{p: p}
	s.pipes = append(s.pipes, sp)
	s.byP[p] = sp
	s.in.dirty = true
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach drops the subscriber and its subscriptions; XPUB reports the
// topics no one else holds.
func (s *pub) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	sp, ok := s.byP[p]
	if ok {
		delete(s.byP, p)
		for i, q := range s.pipes {
			if q == sp {
				last := len(s.pipes) - 1
				copy(s.pipes[i:], s.pipes[i+1:])
				s.pipes[last] = nil
				s.pipes = s.pipes[:last]
				break
			}
		}
		// Apply the others' pending changes first, so XPUB does not
		// report a topic gone that another pipe has already asked for.
		s.process()
		s.subs.rmAll(sp, func(topic string) {
			if s.x != nil {
				s.x.push(notice(0, []byte(topic)), p.Peer())
			}
		})
	}
	s.mu.Unlock()
	s.wake()
}

// Subscription kinds found in a message from a subscriber.
const (
	kindData = iota
	kindSubscribe
	kindCancel
)

// parseSub tells a (un)subscription, flagged or in the 3.0 data form
// (first byte 01 or 00), from other data.
func parseSub(m *pipe.Msg) (kind int, topic []byte) {
	if len(m.Frames) == 0 || len(m.Frames[0]) == 0 {
		return kindData, nil
	}
	f := m.Frames[0]
	switch {
	case m.Flags&pipe.Subscribe != 0:
		return kindSubscribe, f[1:]
	case m.Flags&pipe.Cancel != 0:
		return kindCancel, f[1:]
	case f[0] == 1:
		return kindSubscribe, f[1:]
	case f[0] == 0:
		return kindCancel, f[1:]
	}
	return kindData, nil
}

// notice builds the 01T / 00T message XPUB hands its application.
func notice(b byte, topic []byte) pipe.Msg {
	f := make([]byte, 1+len(topic))
	f[0] = b
	copy(f[1:], topic)
	return pipe.Msg{Frames: [][]byte{f}}
}

// process applies what the subscribers sent, if anything arrived since the
// last time. Called with the mutex held.
func (s *pub) process() {
	if !s.in.due(&s.readable) {
		return
	}
	for _, sp := range s.pipes {
		s.in.take(sp.p.In, func(m *pipe.Msg) { s.apply(sp, m) })
	}
}

// apply handles one message from a subscriber. PUB drops plain data;
// XPUB hands it on, with the first subscription to a topic and the last
// cancel of it.
func (s *pub) apply(sp *subPipe, m *pipe.Msg) {
	kind, topic := parseSub(m)
	switch kind {
	case kindSubscribe:
		if s.overLimit(sp, topic) {
			// The subscriber goes, with the reason; its topics go with
			// it at Detach.
			sp.p.Fail(ErrTooManySubscriptions)
			return
		}
		if s.subs.add(sp, topic) && s.x != nil {
			s.x.push(notice(1, topic), sp.p.Peer())
		}
	case kindCancel:
		if s.subs.rm(sp, topic) && s.x != nil {
			s.x.push(notice(0, topic), sp.p.Peer())
		}
	default:
		if s.x != nil {
			s.x.push(*m, sp.p.Peer())
		}
	}
}

// overLimit reports whether a new topic would take sp's subscriptions past
// the limit. Inproc subscribers are the process's own code, not strangers:
// they have none.
func (s *pub) overLimit(sp *subPipe, topic []byte) bool {
	return s.maxSub > 0 && !sp.p.Inproc && !sp.holds(topic) &&
		sp.cost+SubscriptionCost(topic) > s.maxSub
}

// Send offers m to every subscriber matching its first frame. It never
// blocks; a full subscriber misses the whole message.
func (s *pub) Send(_ context.Context, m pipe.Msg) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	var first []byte
	if len(m.Frames) > 0 {
		first = m.Frames[0]
	}
	var d distributor
	s.mu.Lock()
	s.process()
	s.subs.match(first, func(sp *subPipe) { d.push(sp.p, m) })
	s.mu.Unlock()
	if d.dropped > 0 {
		s.dropped.Add(uint64(d.dropped))
	}
	return nil
}

// Recv is not allowed on PUB.
func (s *pub) Recv(context.Context) (pipe.Msg, *pipe.Peer, error) {
	return pipe.Msg{}, nil, ErrNotSupported
}
