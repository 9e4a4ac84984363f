package azmq

import (
	"fmt"
	"syscall"

	"github.com/azmq/azmq/internal/pattern"
	"github.com/azmq/azmq/internal/pipe"
)

// inproc joins two sockets of one Context with a pair of queues: messages
// pass as they are, with no engine, no encoding and no copy.

// inprocPending is a Connect that came before the Bind: its pipe exists
// (so messages can queue) and is joined when the name is bound.
type inprocPending struct {
	s        *Socket
	p        *pipe.Pipe
	attached bool
}

// inprocLink is one joined connection; a's view of it is pa, b's is pb.
type inprocLink struct {
	name   string
	a, b   *Socket // a connected, b bound
	pa, pb *pipe.Pipe
}

func sumHWM(x, y int) int {
	if x == 0 || y == 0 {
		return 0
	}
	return x + y
}

func (s *Socket) inprocPeer() *pipe.Peer {
	t := pattern.Type(s.typ)
	p := &pipe.Peer{SocketType: t.String(), Minor: 1}
	p.Props = append(p.Props, pipe.KV{Name: "Socket-Type", Value: t.String()})
	if pattern.SendsIdentity(t) {
		p.RoutingID = s.cfg.routingID
		p.Props = append(p.Props, pipe.KV{Name: "Identity", Value: string(s.cfg.routingID)})
	}
	for _, md := range s.cfg.metadata { // WithMetadata, as a handshake would carry it
		p.Props = append(p.Props, pipe.KV{Name: md.Name, Value: string(md.Value)})
	}
	return p
}

func (s *Socket) bindInproc(name string) error {
	z := s.zctx
	z.mu.Lock()
	defer z.mu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	if _, ok := z.inproc[name]; ok {
		return syscall.EADDRINUSE
	}
	z.inproc[name] = s
	for _, pd := range z.pending[name] {
		// A pending connect of an incompatible type just stays unjoined.
		z.join(pd.s, s, name, pd.p, pd.attached)
	}
	delete(z.pending, name)
	return nil
}

// connectInproc joins s to the socket bound on name and returns that
// socket, or, when none is bound, leaves a pending connect and returns nil.
// p is s's pipe of the connection (a pending one only when s's pattern has
// it attached already).
func (s *Socket) connectInproc(name string) (bound *Socket, p *pipe.Pipe, err error) {
	z := s.zctx
	z.mu.Lock()
	defer z.mu.Unlock()
	if s.isClosed() {
		return nil, nil, ErrClosed
	}
	if b, ok := z.inproc[name]; ok {
		p, err := z.join(s, b, name, nil, false)
		if err != nil {
			return nil, nil, err
		}
		return b, p, nil
	}
	pd := &inprocPending{s: s, p: s.newPipe()}
	pd.p.Inproc = true
	if s.persistent() {
		if err := s.patAttach(pd.p); err != nil {
			return nil, nil, err
		}
		pd.attached = true
	}
	z.pending[name] = append(z.pending[name], pd)
	if !pd.attached {
		return nil, nil, nil
	}
	return nil, pd.p, nil
}

// join connects a (connecting) to b (bound) and returns a's pipe. z.mu is
// held.
func (z *Context) join(a, b *Socket, name string, p *pipe.Pipe, attached bool) (*pipe.Pipe, error) {
	if !pattern.Compatible(pattern.Type(a.typ), b.typ.String()) {
		if attached {
			p.Close()
			a.patDetach(p)
		}
		return nil, fmt.Errorf("%s cannot talk to %s", a.typ, b.typ)
	}
	if p == nil {
		p = pipe.New(a.cfg.sendHWM, a.cfg.recvHWM, a.pat.Readable(), a.pat.Writable(), b.pat.Readable(), b.pat.Writable())
	} else {
		p.Out.SetReadable(b.pat.Readable())
		p.In.SetWritable(b.pat.Writable())
	}
	p.Out.SetHWM(sumHWM(a.cfg.sendHWM, b.cfg.recvHWM))
	p.In.SetHWM(sumHWM(b.cfg.sendHWM, a.cfg.recvHWM))
	pb := &pipe.Pipe{In: p.Out, Out: p.In, Inproc: true}
	p.Inproc = true
	p.SetPeer(b.inprocPeer())
	pb.SetPeer(a.inprocPeer())
	if err := b.patAttach(pb); err != nil {
		p.Close()
		if attached {
			a.patDetach(p)
		}
		return nil, err
	}
	if !attached {
		if err := a.patAttach(p); err != nil {
			p.Close()
			b.patDetach(pb)
			return nil, err
		}
	}
	z.links = append(z.links, &inprocLink{name: name, a: a, b: b, pa: p, pb: pb})
	return p, nil
}

// unlink closes a joined connection: what was queued stays readable by
// both sides, nothing more can be sent.
func (l *inprocLink) unlink() {
	l.pa.Close()
	l.a.patDetach(l.pa)
	l.b.patDetach(l.pb)
}

func (s *Socket) unbindInproc(name string) error {
	z := s.zctx
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.inproc[name] != s {
		return errNotBound
	}
	delete(z.inproc, name)
	return nil
}

func (s *Socket) disconnectInproc(name string) error {
	z := s.zctx
	z.mu.Lock()
	defer z.mu.Unlock()
	found := false
	keep := z.links[:0]
	for _, l := range z.links {
		if l.a == s && l.name == name {
			l.unlink()
			found = true
		} else {
			keep = append(keep, l)
		}
	}
	clear(z.links[len(keep):])
	z.links = keep
	pend := z.pending[name][:0]
	for _, pd := range z.pending[name] {
		if pd.s == s {
			pd.p.Close()
			if pd.attached {
				s.patDetach(pd.p)
			}
			found = true
		} else {
			pend = append(pend, pd)
		}
	}
	z.pending[name] = pend
	if !found {
		return errNotConnected
	}
	return nil
}

// closeInproc drops everything inproc of a closing socket.
func (z *Context) closeInproc(s *Socket) {
	z.mu.Lock()
	defer z.mu.Unlock()
	for name, b := range z.inproc {
		if b == s {
			delete(z.inproc, name)
		}
	}
	keep := z.links[:0]
	for _, l := range z.links {
		if l.a == s || l.b == s {
			l.unlink()
		} else {
			keep = append(keep, l)
		}
	}
	clear(z.links[len(keep):])
	z.links = keep
	for name, pds := range z.pending {
		k := pds[:0]
		for _, pd := range pds {
			if pd.s == s {
				pd.p.Close()
			} else {
				k = append(k, pd)
			}
		}
		z.pending[name] = k
	}
}
