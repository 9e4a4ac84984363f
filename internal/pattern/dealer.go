package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// dealer load-balances what it sends and fair-queues what it receives,
// leaving the frames untouched (libzmq dealer.cpp).
type dealer struct {
	base
	lb    lb
	fq    fq
	probe bool // RoutingOptions.Probe
	// conflate keeps only the newest message in each direction of each
	// peer's pipe.
	conflate bool
}

func newDealer(o RoutingOptions) *dealer {
	s := &dealer{probe: o.Probe}
	s.init()
	return s
}

// Attach adds a peer. With Probe, an empty message goes to it first: a
// persistent pipe is attached before its first connection, which sends
// what was queued.
func (s *dealer) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if s.conflate {
		p.In.SetConflate()
		p.Out.SetConflate()
	}
	if s.probe {
		sendProbe(p)
	}
	s.lb.add(p)
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Hiccup probes the new connection of a persistent pipe.
func (s *dealer) Hiccup(p *pipe.Pipe) {
	if s.probe {
		sendProbe(p)
	}
}

// sendProbe queues the empty message of PROBE_ROUTER (libzmq's
// xattach_pipe in router.cpp and dealer.cpp): the ROUTER at the other
// end learns of the connection at once, as [routing id, ""]. A full queue
// drops it: messages are flowing there anyway.
func sendProbe(p *pipe.Pipe) {
	p.Out.TryPush(pipe.Msg{Frames: [][]byte{{}}})
}

// Detach forgets a peer (its queued input is still delivered).
func (s *dealer) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.lb.remove(p)
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// Send queues m on the next peer with room, waiting while there is none.
func (s *dealer) Send(ctx context.Context, m pipe.Msg) error {
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		s.lb.direct = s.takeWaited()
		p := s.lb.send(m)
		s.mu.Unlock()
		return p != nil, nil
	})
}

// Recv takes the next message in fair-queue order.
func (s *dealer) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	m, p, err := s.recvFQ(ctx, &s.fq, nil)
	return m, peerOf(p), err
}
