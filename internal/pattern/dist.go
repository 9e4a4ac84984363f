package pattern

import (
	"github.com/azmq/azmq/internal/msgcopy"
	"github.com/azmq/azmq/internal/pipe"
)

// distributor fans one message out to many pipes (libzmq dist.cpp). It
// never blocks and never cuts a message: a pipe that is full or closing
// misses the whole message.
//
// Engines only read what they are given, so every engine pipe shares one
// message, frame list and bodies: a thousand subscribers cost no copy. An
// inproc receiver owns what it receives, so at most one pipe of a message
// takes the original while another shares it: the first inproc pipe
// takes it if no engine has it yet; the other inproc pipes get copies,
// and engines that come after an inproc owner share one copy of their
// own.
type distributor struct {
	sent    int // pipes that got the current message
	dropped int // pipes that missed it (full or closing)

	orig    int8     // who holds the original: 0 no one, origEngines, origInproc
	engines [][]byte // what engines share once an inproc pipe owns the original
}

const (
	origEngines = 1
	origInproc  = 2
)

// reset starts a new message.
func (d *distributor) reset() { *d = distributor{} }

// push offers m to p.
func (d *distributor) push(p *pipe.Pipe, m pipe.Msg) {
	// Several pipes may share the bodies: none of them is their last user.
	m.Without(pipe.Owned)
	orig := int8(origEngines)
	switch {
	case p.Inproc && d.orig == 0:
		orig = origInproc
	case p.Inproc:
		orig = 0
		m.Frames = msgcopy.Copy(m.Frames)
	case d.orig == origInproc:
		orig = 0
		if d.engines == nil {
			d.engines = msgcopy.Copy(m.Frames)
		}
		m.Frames = d.engines
	}
	if ok, _ := p.Out.TryPush(m); ok {
		d.sent++
		if orig != 0 && d.orig == 0 {
			d.orig = orig
		}
	} else {
		d.dropped++
	}
}

// pushOne offers m to p, its only recipient, as it is: with no other
// pipe to share it, p may be its last user (pipe.Owned, pipe.Tag.Chunk).
func (d *distributor) pushOne(p *pipe.Pipe, m pipe.Msg) {
	if ok, _ := p.Out.TryPush(m); ok {
		d.sent++
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
