package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// sub keeps a counted set of topics, tells every publisher about them and
// fair-queues what they send, dropping messages that match no topic
// (libzmq sub.cpp, xsub.cpp). It also implements XSUB (xsub.go), which
// sends, and does not filter.
type sub struct {
	base
	x      bool
	topics countTrie
	pipes  []*pipe.Pipe
	fq     fq
	// invert (SUB) keeps the messages that match none of the topics.
	invert bool
	// conflate (SUB) keeps only the newest message from each publisher;
	// the queue toward it carries subscriptions and is left whole.
	conflate bool
}

func newSub(x bool, o PubSubOptions) Socket {
	s := &sub{x: x, invert: o.Invert, conflate: o.Conflate}
	s.init()
	if x {
		return &xsub{s}
	}
	return s
}

// subMsg is the flagged subscription (b = 1) or cancel (b = 0) of topic.
func subMsg(b byte, topic []byte) pipe.Msg {
	f := make([]byte, 1+len(topic))
	f[0] = b
	copy(f[1:], topic)
	fl := pipe.Subscribe
	if b == 0 {
		fl = pipe.Cancel
	}
	return pipe.Msg{Frames: [][]byte{f}, Tag: pipe.TagOf(fl)}
}

// resend offers p every current topic: a new connection knows none of
// them. Called with the mutex held.
func (s *sub) resend(p *pipe.Pipe) {
	for _, t := range s.topics.topics() {
		p.Out.TryPush(subMsg(1, t))
	}
}

// Attach adds a publisher and subscribes it to the current topics.
func (s *sub) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if s.conflate {
		p.In.SetConflate()
	}
	s.pipes = append(s.pipes, p)
	s.fq.add(p)
	s.resend(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a publisher.
func (s *sub) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.pipes, _ = removePipe(s.pipes, p)
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// Hiccup subscribes the new connection behind p to the current topics.
func (s *sub) Hiccup(p *pipe.Pipe) {
	s.mu.Lock()
	for _, q := range s.pipes {
		if q == p {
			s.resend(p)
			break
		}
	}
	s.mu.Unlock()
}

// Subscribe counts one more reference to topic and tells every publisher,
// every time (a publisher keeps a set, so repeats are harmless). A
// publisher whose pipe is full misses it, as in libzmq.
func (s *sub) Subscribe(topic []byte) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	s.topics.add(topic)
	toAll(s.pipes, subMsg(1, topic))
	s.mu.Unlock()
	return nil
}

// Unsubscribe drops one reference to topic; the publishers are told only
// when none is left. An unknown topic is ignored (libzmq says EINVAL).
func (s *sub) Unsubscribe(topic []byte) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if last, _ := s.topics.rm(topic); last {
		toAll(s.pipes, subMsg(0, topic))
	}
	s.mu.Unlock()
	return nil
}

// Send is not allowed on SUB.
func (s *sub) Send(context.Context, pipe.Msg) error { return ErrNotSupported }

// Recv takes the next message, in fair-queue order, whose first frame
// matches a topic (with invert: matches none; XSUB: any message).
func (s *sub) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	var accept func(pipe.Msg, *pipe.Pipe) (pipe.Msg, bool)
	if !s.x {
		accept = func(m pipe.Msg, _ *pipe.Pipe) (pipe.Msg, bool) {
			var first []byte
			if len(m.Frames) > 0 {
				first = m.Frames[0]
			}
			return m, s.topics.match(first) != s.invert
		}
	}
	m, p, err := s.recvFQ(ctx, &s.fq, accept)
	return m, peerOf(p), err
}
