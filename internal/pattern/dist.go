package pattern

import (
	"github.com/azmq/azmq/internal/msgcopy"
	"github.com/azmq/azmq/internal/pipe"
)

// distributor fans one message out to many pipes (libzmq dist.cpp). It
// never blocks and never cuts a message: a pipe that is full or closing
// misses the whole message.
type distributor struct {
	sent    int // pipes that got the current message
	inproc  int // inproc pipes among them
	dropped int // pipes that missed it (full or closing)
}

// reset starts a new message.
func (d *distributor) reset() { d.sent, d.inproc, d.dropped = 0, 0, 0 }

// push offers m to p. Every pipe after the first gets its own Frames slice.
// Engines only read the bodies, so they share them; an inproc receiver owns
// what it receives, so only the first one gets the original bodies and the
// others get copies.
func (d *distributor) push(p *pipe.Pipe, m pipe.Msg) {
	// Several pipes may share the bodies: none of them is their last user.
	m.Flags &^= pipe.Owned
	if d.sent > 0 {
		if p.Inproc && d.inproc > 0 {
			m.Frames = msgcopy.Copy(m.Frames)
		} else {
			m.Frames = append([][]byte(nil), m.Frames...)
		}
	}
	if ok, _ := p.Out.TryPush(m); ok {
		d.sent++
		if p.Inproc {
			d.inproc++
		}
	} else {
		d.dropped++
	}
}

// toAll offers m to every pipe in ps.
func toAll(ps []*pipe.Pipe, m pipe.Msg) {
	var d distributor
	for _, p := range ps {
		d.push(p, m)
	}
}
