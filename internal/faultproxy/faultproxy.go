// Package faultproxy is a TCP proxy that breaks things on purpose, for
// tests: it forwards connections to a target and can cut them (at once,
// or after a number of bytes, so mid-frame), or stall them (keep them open
// and forward nothing, like a silent partition). It listens on loopback
// only.
package faultproxy

import (
	"net"
	"sync"
)

// Proxy forwards the connections it accepts to a target address.
type Proxy struct {
	l      net.Listener
	target string

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool
	stalled  bool
	unstall  chan struct{} // closed when a stall ends
	cutAfter int64         // client→target bytes still allowed before a cut (-1: no cut armed)
	wg       sync.WaitGroup
}

// New starts a proxy on 127.0.0.1 forwarding to target ("host:port").
func New(target string) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{l: l, target: target, conns: make(map[net.Conn]struct{}), cutAfter: -1}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Cut closes every connection now (the peers see a reset or EOF).
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// CutAfter arms one cut: the connection that carries the n-th next byte
// from a client to the target is cut right after it, so the target sees
// a frame end in the middle (n < 0 disarms). Later connections pass.
func (p *Proxy) CutAfter(n int64) {
	p.mu.Lock()
	p.cutAfter = n
	p.mu.Unlock()
}

// Stall stops forwarding in both directions, keeping connections open;
// Resume forwards again.
func (p *Proxy) Stall() {
	p.mu.Lock()
	if !p.stalled {
		p.stalled = true
		p.unstall = make(chan struct{})
	}
	p.mu.Unlock()
}

// Resume ends a Stall.
func (p *Proxy) Resume() {
	p.mu.Lock()
	if p.stalled {
		p.stalled = false
		close(p.unstall)
	}
	p.mu.Unlock()
}

// Close stops the proxy and closes its connections; it returns when every
// goroutine of the proxy has ended.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.l.Close()
	p.Resume()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		t, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c) || !p.track(t) {
			c.Close()
			t.Close()
			continue
		}
		p.wg.Add(2)
		go p.pump(c, t, true)
		go p.pump(t, c, false)
	}
}

// gate waits while the proxy is stalled. For an upstream chunk of n bytes
// it returns how many to forward and whether to cut after them, spending
// the armed cut's budget.
func (p *Proxy) gate(n int, upstream bool) (int, bool) {
	for {
		p.mu.Lock()
		if p.stalled {
			ch := p.unstall
			p.mu.Unlock()
			<-ch
			continue
		}
		defer p.mu.Unlock()
		if !upstream || p.cutAfter < 0 {
			return n, false
		}
		if int64(n) < p.cutAfter {
			p.cutAfter -= int64(n)
			return n, false
		}
		k := int(p.cutAfter)
		p.cutAfter = -1
		return k, true
	}
}

// pump copies src to dst in small steps, honouring stalls and cuts.
func (p *Proxy) pump(src, dst net.Conn, upstream bool) {
	defer p.wg.Done()
	defer p.untrack(dst)
	defer p.untrack(src)
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			k, cut := p.gate(n, upstream)
			if _, werr := dst.Write(buf[:k]); werr != nil || cut {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
