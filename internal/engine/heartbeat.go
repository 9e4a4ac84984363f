package engine

import (
	"time"

	"github.com/azmq/azmq/internal/wire"
)

// onRead runs after every read that brought bytes: any incoming frame
// proves the peer alive (libzmq resets both timers on any frame).
func (e *Engine) onRead() {
	if !e.hbOn.Load() {
		return
	}
	e.hbMu.Lock()
	e.pingDue = time.Time{}
	e.applyDeadline()
	e.hbMu.Unlock()
}

// applyDeadline sets the read deadline to the earliest of the pending
// PING timeout and the peer's TTL. hbMu is held.
func (e *Engine) applyDeadline() {
	if e.rd.interrupted {
		e.conn.SetReadDeadline(aLongTimeAgo) // kept until ReadNow returns
		return
	}
	d := e.pingDue
	if e.peerTTL > 0 {
		if t := time.Now().Add(e.peerTTL); d.IsZero() || t.Before(d) {
			d = t
		}
	}
	e.conn.SetReadDeadline(d)
}

// pinged records a PING we sent: the peer has Timeout to answer.
func (e *Engine) pinged() {
	hb := e.cfg.Heartbeat
	timeout := hb.Timeout
	if timeout <= 0 {
		timeout = hb.Interval
	}
	e.hbOn.Store(true)
	e.hbMu.Lock()
	if e.pingDue.IsZero() {
		e.pingDue = time.Now().Add(timeout)
		e.applyDeadline()
	}
	e.hbMu.Unlock()
}

// gotPing handles a PING: it honours its TTL and returns the context the
// PONG must echo (ok false: a malformed PING, ignored).
func (e *Engine) gotPing(data []byte) (ctx []byte, ok bool) {
	ttl, ctx, err := wire.ParsePing(data)
	if err != nil {
		return nil, false
	}
	if ttl > 0 {
		e.hbOn.Store(true)
		e.hbMu.Lock()
		e.peerTTL = time.Duration(ttl) * 100 * time.Millisecond
		e.applyDeadline()
		e.hbMu.Unlock()
	}
	return ctx, true
}

func (e *Engine) pingFrame() []byte {
	ttl := e.cfg.Heartbeat.TTL / (100 * time.Millisecond)
	if ttl > 0xffff {
		ttl = 0xffff
	}
	return wire.AppendPing(nil, uint16(ttl), nil)
}
