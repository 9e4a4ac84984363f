package pattern

import "github.com/azmq/azmq/internal/pipe"

// distributor fans one message out to many pipes (libzmq dist.cpp). It
// never blocks and never cuts a message: a pipe that is full or closing
// misses the whole message.
type distributor struct {
	sent int // pipes that got the current message
}

// reset starts a new message.
func (d *distributor) reset() { d.sent = 0 }

// push offers m to p. Every pipe after the first gets its own Frames slice
// (the bodies are shared, never copied), so one receiver re-slicing or
// replacing parts cannot disturb another over inproc.
func (d *distributor) push(p *pipe.Pipe, m pipe.Msg) {
	if d.sent > 0 {
		m.Frames = append([][]byte(nil), m.Frames...)
	}
	if ok, _ := p.Out.TryPush(m); ok {
		d.sent++
	}
}

// toAll offers m to every pipe in ps.
func toAll(ps []*pipe.Pipe, m pipe.Msg) {
	var d distributor
	for _, p := range ps {
		d.push(p, m)
	}
}
