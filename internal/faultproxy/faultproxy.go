// Package faultproxy is a TCP proxy that breaks things on purpose, for
// tests: it forwards connections to a target and can delay them (every
// byte arrives a fixed time after it was sent), throttle them (bytes per
// second), cut them (at once, or after a number of bytes, so mid-frame),
// or stall them (keep them open and forward nothing, like a silent
// partition). It listens on loopback only.
package faultproxy

import (
	"net"
	"sync"
	"time"
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
	delay    time.Duration // added to every byte's trip, each direction
	rate     int           // bytes per second per direction (0: no limit)
	done     chan struct{} // closed by Close: ends the waits
	wg       sync.WaitGroup
}

// New starts a proxy on 127.0.0.1 forwarding to target ("host:port").
func New(target string) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{l: l, target: target, conns: make(map[net.Conn]struct{}), cutAfter: -1, done: make(chan struct{})}
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

// Delay makes every byte, in each direction, arrive d after it was sent
// (0 ends the delay). Bytes already waiting keep the delay they had.
func (p *Proxy) Delay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// Throttle limits each direction of each connection to bytesPerSec
// (0 lifts the limit).
func (p *Proxy) Throttle(bytesPerSec int) {
	p.mu.Lock()
	p.rate = bytesPerSec
	p.mu.Unlock()
}

func (p *Proxy) shape() (time.Duration, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay, p.rate
}

// sleep waits for d, or less if the proxy closes; it reports whether the
// proxy is still open.
func (p *Proxy) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.done:
		return false
	}
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
	if !p.closed {
		close(p.done)
	}
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

type chunk struct {
	b  []byte
	at time.Time // when it was read
}

// pump copies src to dst, honouring delays, throttling, stalls and cuts.
// A reader goroutine timestamps what arrives, so a delay does not slow the
// flow down: bytes queue while they wait (up to 64 chunks, then the reader
// waits and TCP's flow control holds the sender back).
func (p *Proxy) pump(src, dst net.Conn, upstream bool) {
	defer p.wg.Done()
	defer p.untrack(dst)
	defer p.untrack(src)
	chunks := make(chan chunk, 64)
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		defer close(chunks)
		for {
			buf := make([]byte, 4096)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case chunks <- chunk{buf[:n], time.Now()}:
				case <-stop:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		src.Close()
		rwg.Wait()
	}()
	for c := range chunks {
		delay, rate := p.shape()
		if !p.sleep(time.Until(c.at.Add(delay))) {
			return
		}
		k, cut := p.gate(len(c.b), upstream)
		for b := c.b[:k]; len(b) > 0; {
			n := len(b)
			if rate > 0 {
				n = min(n, max(rate/100, 1)) // 10 ms worth at a time
			}
			if _, err := dst.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
			if rate > 0 && !p.sleep(time.Duration(n)*time.Second/time.Duration(rate)) {
				return
			}
		}
		if cut {
			return
		}
	}
}
