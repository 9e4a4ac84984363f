package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// radio sends each message to the dishes that joined its group, dropping
// for a full pipe and never blocking (libzmq radio.cpp). A udp path
// (Peer.Datagram) joins nothing and gets every group.
type radio struct {
	base
	pipes  map[*pipe.Pipe]*dishPipe
	groups map[string]map[*dishPipe]struct{}
	udp    []*pipe.Pipe

	// Joins and leaves arrive on the pipes' In queues and are applied
	// before each Send, as PUB applies subscriptions.
	in inbox

	maxSub int64
}

// dishPipe is one dish and the groups it joined.
type dishPipe struct {
	p      *pipe.Pipe
	groups map[string]struct{}
	cost   int64
}

func newRadio(o Options) *radio {
	s := &radio{
		pipes:  make(map[*pipe.Pipe]*dishPipe),
		groups: make(map[string]map[*dishPipe]struct{}),
		maxSub: o.MaxSubscriptionBytes,
	}
	s.init()
	return s
}

// Attach adds a dish; it gets nothing until it joins, unless it is a udp
// path.
func (s *radio) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if peer := p.Peer(); peer != nil && peer.Datagram {
		s.udp = append(s.udp, p)
	} else {
		s.pipes[p] = &dishPipe{p: p, groups: make(map[string]struct{})}
		s.in.dirty = true
	}
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach drops the dish and its groups.
func (s *radio) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.udp, _ = removePipe(s.udp, p)
	if dp, ok := s.pipes[p]; ok {
		delete(s.pipes, p)
		for g := range dp.groups {
			s.unjoin(dp, g)
		}
	}
	s.mu.Unlock()
	s.wake()
}

// Hangup forgets the groups of a connection that ended: the next one on
// the same pipe joins them again.
func (s *radio) Hangup(p *pipe.Pipe) {
	s.mu.Lock()
	if dp, ok := s.pipes[p]; ok {
		for g := range dp.groups {
			s.unjoin(dp, g)
		}
	}
	s.mu.Unlock()
}

func (s *radio) unjoin(dp *dishPipe, g string) {
	if _, ok := dp.groups[g]; !ok {
		return
	}
	delete(dp.groups, g)
	dp.cost -= SubscriptionCost([]byte(g))
	if set := s.groups[g]; set != nil {
		delete(set, dp)
		if len(set) == 0 {
			delete(s.groups, g)
		}
	}
}

// process applies the joins and leaves that arrived since the last time.
// Called with the mutex held.
func (s *radio) process() {
	if !s.in.due(&s.readable) {
		return
	}
	for _, dp := range s.pipes {
		s.in.take(dp.p.In, func(m *pipe.Msg) { s.apply(dp, m) })
	}
}

// apply handles one message from a dish: JOIN and LEAVE; anything else is
// dropped, as is a group no DISH could have joined.
func (s *radio) apply(dp *dishPipe, m *pipe.Msg) {
	if len(m.Frames) != 1 || len(m.Frames[0]) > MaxGroup {
		return
	}
	g := m.Frames[0]
	switch {
	case m.Flags()&pipe.Join != 0:
		if _, ok := dp.groups[string(g)]; ok {
			return
		}
		cost := SubscriptionCost(g)
		if s.maxSub > 0 && !dp.p.Inproc && dp.cost+cost > s.maxSub {
			dp.p.Fail(ErrTooManySubscriptions)
			return
		}
		key := string(g)
		dp.groups[key] = struct{}{}
		dp.cost += cost
		set := s.groups[key]
		if set == nil {
			set = make(map[*dishPipe]struct{})
			s.groups[key] = set
		}
		set[dp] = struct{}{}
	case m.Flags()&pipe.Leave != 0:
		s.unjoin(dp, string(g))
	}
}

// Send needs a group: SendAddr.
func (s *radio) Send(context.Context, pipe.Msg) error { return ErrNotSupported }

// Recv is not allowed on RADIO.
func (s *radio) Recv(context.Context) (pipe.Msg, *pipe.Peer, error) {
	return pipe.Msg{}, nil, ErrNotSupported
}

// SendAddr offers m to every dish that joined a.Group and to every udp
// path. It never blocks; a full dish misses the message.
func (s *radio) SendAddr(_ context.Context, a Addr, m pipe.Msg) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	if len(m.Frames) != 1 {
		return ErrMultipart
	}
	if len(a.Group) > MaxGroup {
		return ErrGroupTooLong
	}
	// The group travels as the first frame (libzmq radio_session).
	m.Frames = [][]byte{[]byte(a.Group), m.Frames[0]}
	var d distributor
	s.mu.Lock()
	s.process()
	for dp := range s.groups[a.Group] {
		d.push(dp.p, m)
	}
	for _, p := range s.udp {
		d.push(p, m)
	}
	s.mu.Unlock()
	if d.dropped > 0 {
		s.dropped.Add(uint64(d.dropped))
	}
	return nil
}

// RecvAddr is not allowed on RADIO.
func (s *radio) RecvAddr(context.Context) (pipe.Msg, Addr, *pipe.Peer, error) {
	return pipe.Msg{}, Addr{}, nil, ErrNotSupported
}
