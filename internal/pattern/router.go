package pattern

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/azmq/azmq/internal/pipe"
)

// router prefixes what it receives with the sender's routing id and sends
// each message to the peer its first frame names (libzmq router.cpp).
type router struct {
	base
	mandatory bool
	handover  bool // RoutingOptions.Handover
	probe     bool // RoutingOptions.Probe
	notify    int  // RoutingOptions.Notify
	fq        fq

	byID    map[string]*pipe.Pipe   // addressable peers
	ignored map[*pipe.Pipe]struct{} // duplicate ids: read and dropped
	anon    map[*pipe.Pipe]struct{} // no Peer yet: id not known
	nextID  uint32                  // next generated id

	fixed map[*pipe.Pipe][]byte // ids the application chose (AttachID)

	// With Notify: connections told as made and not yet as ended, ended
	// ones told once their data is read, and what Recv has to tell.
	live    map[*pipe.Pipe]struct{}
	leaving map[*pipe.Pipe]struct{}
	notes   notes
}

// IDAttacher is ROUTER and STREAM: they take connections whose routing id
// the application chose (libzmq's ZMQ_CONNECT_ROUTING_ID).
type IDAttacher interface {
	// AttachID is Attach, giving p the routing id id whatever its peer
	// announces, on this and every later connection of a persistent
	// pipe. ErrIDInUse if another peer has it.
	AttachID(p *pipe.Pipe, id []byte) error
	// IDInUse reports whether a peer has the routing id id.
	IDInUse(id []byte) bool
}

// ErrIDInUse is a routing id given for a connection that another peer of
// the socket already has.
var ErrIDInUse = errors.New("azmq: routing id already in use")

// errHandedOver ends a connection whose routing id a newer one took
// (Handover).
var errHandedOver = errors.New("azmq: a new connection took this peer's routing id (ROUTER_HANDOVER)")

func newRouter(o Options) *router {
	s := &router{
		mandatory: o.RouterMandatory,
		handover:  o.Routing.Handover,
		probe:     o.Routing.Probe,
		notify:    o.Routing.Notify,
		byID:      make(map[string]*pipe.Pipe),
		ignored:   make(map[*pipe.Pipe]struct{}),
		anon:      make(map[*pipe.Pipe]struct{}),
		nextID:    rand.Uint32(), // as libzmq: ids do not repeat across runs
	}
	if s.notify != 0 {
		s.live = make(map[*pipe.Pipe]struct{})
		s.leaving = make(map[*pipe.Pipe]struct{})
	}
	s.init()
	return s
}

// identify gives p its routing id: the one the application chose, the
// peer's Identity, or a generated 5-byte id 00+u32. A pipe whose id is
// taken stays attached but ignored, libzmq's default; with Handover it
// takes the id, and the pipe that had it gets a generated one and has its
// connection ended (libzmq's identify_peer). A pipe whose Peer is not
// known yet (a connect-side pipe before its connection) waits in anon.
func (s *router) identify(p *pipe.Pipe) {
	peer := p.Peer()
	id, fixed := s.fixed[p]
	if !fixed && peer == nil {
		s.anon[p] = struct{}{}
		return
	}
	delete(s.anon, p)
	if !fixed {
		id = bytes.Clone(peer.RoutingID)
	}
	if len(id) == 0 {
		id = s.generate()
	}
	p.ID = id
	if q, taken := s.byID[string(id)]; taken && q != p {
		if !s.handover {
			s.ignored[p] = struct{}{}
			return
		}
		// Messages the old connection sent before are still delivered,
		// under its new id, as libzmq does.
		q.ID = s.generate()
		s.byID[string(q.ID)] = q
		q.Fail(errHandedOver)
	}
	s.byID[string(id)] = p
}

// generate makes a routing id no peer has.
func (s *router) generate() []byte {
	id := make([]byte, 5)
	for {
		binary.BigEndian.PutUint32(id[1:], s.nextID)
		s.nextID++
		if _, taken := s.byID[string(id)]; !taken {
			return id
		}
	}
}

// forget makes p unaddressable.
func (s *router) forget(p *pipe.Pipe) {
	if q, ok := s.byID[string(p.ID)]; ok && q == p {
		delete(s.byID, string(p.ID))
	}
	delete(s.ignored, p)
	delete(s.anon, p)
}

// identifyAnon identifies the pipes whose connection has come since.
func (s *router) identifyAnon() {
	for p := range s.anon {
		if p.Peer() != nil {
			s.identify(p)
		}
	}
}

// connected is a new connection of p, identified: with Probe it gets the
// empty message, with Notify the application hears of it. As in libzmq,
// where the engine tells, inproc peers are not told of (nor is a peer
// ignored for a duplicate id, whose messages are dropped).
func (s *router) connected(p *pipe.Pipe) {
	if s.probe {
		sendProbe(p)
	}
	if s.notify == 0 || p.Inproc {
		return
	}
	if _, ignored := s.ignored[p]; ignored {
		return
	}
	s.live[p] = struct{}{}
	if s.notify&NotifyConnect != 0 {
		s.tell(p)
	}
}

// disconnected is the end of a connection of p: with Notify the
// application hears of it once what the connection sent is read.
func (s *router) disconnected(p *pipe.Pipe) {
	if _, ok := s.live[p]; !ok {
		return
	}
	delete(s.live, p)
	if s.notify&NotifyDisconnect == 0 {
		return
	}
	if p.In.Len() == 0 {
		s.tell(p)
	} else {
		s.leaving[p] = struct{}{}
	}
}

// tell queues the notification [p's id, ""] for Recv.
func (s *router) tell(p *pipe.Pipe) {
	s.notes = append(s.notes, note{id: bytes.Clone(p.ID), peer: p.Peer()})
}

// Attach adds a peer under its routing id.
func (s *router) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	s.identify(p)
	s.fq.add(p)
	if p.Peer() != nil {
		s.connected(p)
	}
	s.mu.Unlock()
	s.wake()
	return nil
}

// AttachID is Attach under the routing id id (IDAttacher). A persistent
// pipe is addressable at once: what is sent to it waits for its
// connection.
func (s *router) AttachID(p *pipe.Pipe, id []byte) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if _, taken := s.byID[string(id)]; taken {
		s.mu.Unlock()
		return fmt.Errorf("%w: %x", ErrIDInUse, id)
	}
	if s.fixed == nil {
		s.fixed = make(map[*pipe.Pipe][]byte)
	}
	s.fixed[p] = bytes.Clone(id)
	s.identify(p)
	s.fq.add(p)
	if p.Peer() != nil {
		s.connected(p)
	}
	s.mu.Unlock()
	s.wake()
	return nil
}

// IDInUse reports whether a peer has the routing id id.
func (s *router) IDInUse(id []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, taken := s.byID[string(id)]
	return taken
}

// Detach forgets a peer. What it sent before is still delivered.
func (s *router) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.disconnected(p)
	s.forget(p)
	delete(s.fixed, p)
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// Hiccup identifies the pipe again, as its new connection may announce
// another Identity, and tells of the new connection.
func (s *router) Hiccup(p *pipe.Pipe) {
	s.mu.Lock()
	_, ignored := s.ignored[p]
	_, anon := s.anon[p]
	if !ignored && !anon && s.byID[string(p.ID)] != p {
		s.mu.Unlock()
		return // not attached
	}
	if _, ok := s.leaving[p]; ok {
		// The last connection's data is still unread: its end is told
		// now, before the new connection is.
		delete(s.leaving, p)
		s.tell(p)
	}
	s.forget(p)
	s.identify(p)
	s.connected(p)
	s.mu.Unlock()
	s.wake()
}

// Hangup tells of the end of a persistent pipe's connection.
func (s *router) Hangup(p *pipe.Pipe) {
	if s.notify == 0 {
		return
	}
	s.mu.Lock()
	s.disconnected(p)
	s.mu.Unlock()
	s.wake()
}

// Recv returns [routing id, frames...]. Messages from ignored pipes are
// dropped.
func (s *router) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	if s.notify != 0 {
		return s.recvNotify(ctx)
	}
	m, id, _, peer, err := s.RecvSplit(ctx)
	if err != nil {
		return m, peer, err
	}
	// id is never written (a handover gives the pipe a new one): it can
	// be copied here, out of the mutex.
	frames := make([][]byte, 0, len(m.Frames)+1)
	frames = append(frames, bytes.Clone(id)) // the caller owns it
	m.Frames = append(frames, m.Frames...)
	return m, peer, nil
}

// admit identifies p if it has no routing id yet, and reports whether
// its messages are delivered (not those of a peer ignored for a taken
// id). Under s.mu.
func (s *router) admit(p *pipe.Pipe) bool {
	if _, ok := s.anon[p]; ok {
		s.identify(p)
	}
	_, ignored := s.ignored[p]
	return !ignored
}

// RecvSplit implements Splitter: the routing id is the pipe's own, not
// a copy, and no frame list is made for it.
func (s *router) RecvSplit(ctx context.Context) (pipe.Msg, []byte, bool, *pipe.Peer, error) {
	if s.notify != 0 {
		m, peer, err := s.recvNotify(ctx)
		return m, nil, false, peer, err
	}
	var id []byte
	m, p, err := s.recvFQ(ctx, &s.fq, func(m pipe.Msg, p *pipe.Pipe) (pipe.Msg, bool) {
		if !s.admit(p) {
			return m, false
		}
		id = p.ID // under the mutex: a handover gives p a new slice
		return m, true
	})
	return m, id, true, peerOf(p), err
}

// recvNotify is Recv with Notify: the notifications [id, ""] come first,
// and a connection's end is told after the last message it sent.
func (s *router) recvNotify(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	var (
		out  pipe.Msg
		peer *pipe.Peer
	)
	err := s.block(ctx, &s.readable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if m, p, ok := s.notes.pop(); ok {
			out, peer = m, p
			return true, nil
		}
		for {
			m, p, ok := s.fq.pop()
			if !ok {
				return false, nil
			}
			if _, ok := s.anon[p]; ok {
				s.identify(p)
			}
			if _, ok := s.leaving[p]; ok && p.In.Len() == 0 {
				delete(s.leaving, p)
				s.tell(p)
			}
			if _, ok := s.ignored[p]; ok {
				continue
			}
			frames := make([][]byte, 0, len(m.Frames)+1)
			frames = append(frames, bytes.Clone(p.ID)) // the caller owns it
			out, peer = pipe.Msg{Frames: append(frames, m.Frames...), Tag: m.Tag}, p.Peer()
			return true, nil
		}
	})
	return out, peer, err
}

// Send routes m to the peer named by its first frame, which is stripped.
// A message with no body, an unknown id or a full pipe is dropped; with
// RouterMandatory, an unknown id is ErrHostUnreachable and a full pipe
// blocks until it has room.
func (s *router) Send(ctx context.Context, m pipe.Msg) error {
	if len(m.Frames) < 2 {
		if s.isClosed.Load() {
			return ErrClosed
		}
		s.dropped.Add(1)
		return nil
	}
	id := m.Frames[0]
	body := pipe.Msg{Frames: m.Frames[1:], Tag: m.Tag}
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		if len(s.anon) > 0 {
			s.identifyAnon()
		}
		p := s.byID[string(id)]
		var (
			ok  bool
			err error
		)
		if p != nil && s.takeWaited() {
			// A reply to a request it waited for: written from here when
			// the connection's writer is idle. Under the mutex, as
			// TryPushDirect asks.
			ok, err = p.Out.TryPushDirect(body)
			s.mu.Unlock()
		} else {
			s.mu.Unlock()
			if p != nil {
				ok, err = p.Out.TryPush(body)
			}
		}
		if p != nil {
			if ok {
				return true, nil
			}
			if err == nil && s.mandatory {
				return false, nil // full: wait for room
			}
			if err == nil {
				s.dropped.Add(1) // full: dropped
				return true, nil
			}
			// Closing: the peer is as good as gone.
		}
		if s.mandatory {
			return false, ErrHostUnreachable
		}
		s.dropped.Add(1)
		return true, nil
	})
}
