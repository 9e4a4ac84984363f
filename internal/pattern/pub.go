package pattern

import (
	"bytes"
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
	o      PubSubOptions
	// slow routes Send through sendOpts: an option changes who gets a
	// message or makes Send wait. Without one, Send takes the plain path.
	slow bool
	// lastPipe (Manual) is the subscriber whose (un)subscription Recv
	// returned last: Subscribe and Unsubscribe apply to it (libzmq's
	// last_pipe). nil once it has gone.
	lastPipe *subPipe
	targets  []*subPipe // sendOpts' scratch
}

func newPub(x bool, o Options) Socket {
	s := &pub{byP: make(map[*pipe.Pipe]*subPipe), maxSub: o.MaxSubscriptionBytes, o: o.PubSub}
	if !x {
		// What XPUB hands its application means nothing to PUB.
		s.o.VerboseSubs, s.o.VerboseUnsubs, s.o.Manual, s.o.LastValue = false, false, false, false
	}
	s.slow = s.o.NoDrop || s.o.Invert || (s.o.Manual && s.o.LastValue)
	s.init()
	if x {
		s.x = &pending{max: maxPending, maxBytes: maxPendingBytes}
		return &xpub{s}
	}
	return s
}

// welcome queues the welcome message, if any, for a new subscriber. Each
// gets its own copy: an inproc one owns what it receives.
func (s *pub) welcome(p *pipe.Pipe) {
	if s.o.Welcome != nil {
		p.Out.TryPush(pipe.Msg{Frames: [][]byte{bytes.Clone(s.o.Welcome)}})
	}
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
	if s.o.Conflate {
		p.Out.SetConflate()
	}
	s.welcome(p)
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
		// Apply what every pipe sent first: this one's last
		// subscriptions, which XPUB reports before their cancels (as
		// libzmq, which reads a pipe before it sees it end), and the
		// others' changes, so XPUB does not report a topic gone that
		// another pipe has already asked for.
		s.process()
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
		s.dropSubs(sp)
	}
	s.mu.Unlock()
	s.wake()
}

// Hiccup sends the welcome message to the new connection behind a
// persistent pipe: to that subscriber it is a new attachment.
func (s *pub) Hiccup(p *pipe.Pipe) {
	s.mu.Lock()
	if _, ok := s.byP[p]; ok {
		s.welcome(p)
	}
	s.mu.Unlock()
}

// dropSubs forgets a subscriber that left, telling XPUB's application
// which topics went with it (libzmq xpipe_terminated): by default those no
// other pipe holds; with VerboseUnsubs every one of them; with Manual
// every topic it had asked for, the application having applied them.
// Called with the mutex held.
func (s *pub) dropSubs(sp *subPipe) {
	p := sp.p
	switch {
	case s.o.Manual:
		for topic := range sp.asked.m {
			s.x.push(notice(0, []byte(topic)), p.Peer(), nil, true)
		}
		sp.asked = topicSet{}
		if s.lastPipe == sp {
			s.lastPipe = nil
		}
		s.subs.rmAll(sp, nil)
	case s.x != nil && s.o.VerboseUnsubs:
		for topic := range sp.topics {
			s.subs.rm(sp, []byte(topic))
			s.x.push(notice(0, []byte(topic)), p.Peer(), nil, true)
		}
	default:
		s.subs.rmAll(sp, func(topic string) {
			if s.x != nil {
				s.x.push(notice(0, []byte(topic)), p.Peer(), nil, true)
			}
		})
	}
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
	case m.Flags()&pipe.Subscribe != 0:
		return kindSubscribe, f[1:]
	case m.Flags()&pipe.Cancel != 0:
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
// cancel of it (VerboseSubs: every subscription; VerboseUnsubs: every
// cancel too; Manual: every one, applying none).
func (s *pub) apply(sp *subPipe, m *pipe.Msg) {
	kind, topic := parseSub(m)
	if s.o.Manual && kind != kindData {
		s.applyManual(sp, kind, topic)
		return
	}
	switch kind {
	case kindSubscribe:
		if s.overLimit(sp, topic) {
			// The subscriber goes, with the reason; its topics go with
			// it at Detach.
			sp.p.Fail(ErrTooManySubscriptions)
			return
		}
		if s.subs.add(sp, topic) || s.o.VerboseSubs {
			if s.x != nil {
				s.x.push(notice(1, topic), sp.p.Peer(), sp, true)
			}
		}
	case kindCancel:
		if s.subs.rm(sp, topic) || s.o.VerboseUnsubs {
			if s.x != nil {
				s.x.push(notice(0, topic), sp.p.Peer(), sp, true)
			}
		}
	default:
		if s.x != nil {
			s.x.push(*m, sp.p.Peer(), sp, false)
		}
	}
}

// applyManual hands XPUB's application a (un)subscription without
// applying it, and remembers what the subscriber asked for, to cancel it
// when it leaves. What it asked for counts toward the subscription limit
// as applied topics do.
func (s *pub) applyManual(sp *subPipe, kind int, topic []byte) {
	if kind == kindSubscribe {
		if s.maxSub > 0 && !sp.p.Inproc && !sp.asked.has(topic) &&
			sp.asked.cost+SubscriptionCost(topic) > s.maxSub {
			sp.p.Fail(ErrTooManySubscriptions)
			return
		}
		sp.asked.add(topic)
		s.x.push(notice(1, topic), sp.p.Peer(), sp, true)
		return
	}
	sp.asked.rm(topic)
	s.x.push(notice(0, topic), sp.p.Peer(), sp, true)
}

// overLimit reports whether a new topic would take sp's subscriptions past
// the limit. Inproc subscribers are the process's own code, not strangers:
// they have none.
func (s *pub) overLimit(sp *subPipe, topic []byte) bool {
	return s.maxSub > 0 && !sp.p.Inproc && !sp.holds(topic) &&
		sp.cost+SubscriptionCost(topic) > s.maxSub
}

// Send offers m to every subscriber matching its first frame. It never
// blocks; a full subscriber misses the whole message. The options that
// change this take sendOpts.
func (s *pub) Send(ctx context.Context, m pipe.Msg) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	if s.slow {
		return s.sendOpts(ctx, m)
	}
	var first []byte
	if len(m.Frames) > 0 {
		first = m.Frames[0]
	}
	var (
		d    distributor
		only *pipe.Pipe // the first match, held back until a second comes
		n    int
	)
	s.mu.Lock()
	s.process()
	s.subs.match(first, func(sp *subPipe) {
		switch n++; n {
		case 1:
			only = sp.p
			return
		case 2:
			d.push(only, m)
		}
		d.push(sp.p, m)
	})
	if n == 1 {
		// One subscriber: it is the message's only user, so a Send copy
		// keeps pipe.Owned and its chunk, and its writer gives the
		// memory back once written.
		d.pushOne(only, m)
	}
	s.mu.Unlock()
	if d.dropped > 0 {
		s.dropped.Add(uint64(d.dropped))
	}
	return nil
}

// sendOpts is Send with Invert, NoDrop or LastValue. With NoDrop it waits
// while any subscriber the message is for has a full queue, then sends to
// all of them at once (libzmq checks every matching pipe's HWM before
// writing to any): no subscriber misses it, and none gets it twice.
func (s *pub) sendOpts(ctx context.Context, m pipe.Msg) error {
	var first []byte
	if len(m.Frames) > 0 {
		first = m.Frames[0]
	}
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.process()
		targets, last := s.collect(first)
		defer clear(targets)
		if s.o.NoDrop {
			for _, sp := range targets {
				if sp.p.Out.Full() {
					return false, nil
				}
			}
		}
		var d distributor
		for _, sp := range targets {
			d.push(sp.p, m)
		}
		if d.dropped > 0 {
			s.dropped.Add(uint64(d.dropped))
		}
		if last {
			s.lastPipe = nil
		}
		return true, nil
	})
}

// collect lists the subscribers a message whose first frame is first goes
// to: those matching it, or with Invert those not matching it. With
// LastValue, after Recv returned a subscription, only that subscriber
// (if the message is for it), and last reports that this was so: once
// sent, the next messages go to everyone again (libzmq's
// mark_last_pipe_as_matching). Called with the mutex held.
func (s *pub) collect(first []byte) (targets []*subPipe, last bool) {
	targets = s.targets[:0]
	if s.o.Manual && s.o.LastValue && s.lastPipe != nil {
		lp := s.lastPipe
		hit := false
		s.subs.match(first, func(sp *subPipe) { hit = hit || sp == lp })
		if hit != s.o.Invert {
			targets = append(targets, lp)
		}
		s.targets = targets
		return targets, true
	}
	if !s.o.Invert {
		s.subs.match(first, func(sp *subPipe) { targets = append(targets, sp) })
	} else {
		// match marks every pipe it finds with the generation it ends on.
		s.subs.match(first, func(*subPipe) {})
		gen := s.subs.gen
		for _, sp := range s.pipes {
			if sp.mark != gen {
				targets = append(targets, sp)
			}
		}
	}
	s.targets = targets
	return targets, false
}

// Recv is not allowed on PUB.
func (s *pub) Recv(context.Context) (pipe.Msg, *pipe.Peer, error) {
	return pipe.Msg{}, nil, ErrNotSupported
}
