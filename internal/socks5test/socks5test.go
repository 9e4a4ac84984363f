// Package socks5test runs a small SOCKS5 proxy (RFC 1928, with RFC 1929
// username/password) on 127.0.0.1 for tests: it supports CONNECT only, to
// IPv4, IPv6 and domain-name destinations, with no authentication or with
// one username and password, refuses bad credentials, and counts what it
// does, so that a test can prove traffic went through it.
package socks5test

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// dialTimeout bounds the proxy's dial of a destination.
const dialTimeout = 5 * time.Second

// Server is a running proxy. Close stops it and every connection it
// carries.
type Server struct {
	// Addr is the proxy's host:port.
	Addr string

	user, pass string
	l          net.Listener

	accepted  atomic.Int64 // client connections accepted
	connected atomic.Int64 // CONNECTs that reached their destination
	authFails atomic.Int64 // username/password refused

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	dests  []string // CONNECT destinations as asked: "ipv4 1.2.3.4:5", "domain localhost:5", "ipv6 [::1]:5"
	wg     sync.WaitGroup
}

// Start runs a proxy on 127.0.0.1 with a free port. With user not "",
// clients must authenticate with user and pass; otherwise they must not.
func Start(user, pass string) (*Server, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: l.Addr().String(), user: user, pass: pass, l: l, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Accepted counts the client connections the proxy accepted.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Connected counts the CONNECTs it carried through to their destination.
func (s *Server) Connected() int64 { return s.connected.Load() }

// AuthFailures counts the clients refused for their credentials.
func (s *Server) AuthFailures() int64 { return s.authFails.Load() }

// Destinations returns the CONNECT destinations asked for so far, as
// "ipv4 ADDR:PORT", "ipv6 [ADDR]:PORT" or "domain NAME:PORT".
func (s *Server) Destinations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.dests...)
}

// Close stops the proxy, closes every connection and waits for its
// goroutines.
func (s *Server) Close() error {
	err := s.l.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// track records c to be closed by Close; false if closing already.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.accepted.Add(1)
		if !s.track(c) {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.handle(c)
		}()
	}
}

// handle runs one client: negotiation, CONNECT, then the relay.
func (s *Server) handle(c net.Conn) {
	c.SetDeadline(time.Now().Add(dialTimeout))
	var h [2]byte
	if _, err := io.ReadFull(c, h[:]); err != nil || h[0] != 5 {
		return
	}
	methods := make([]byte, h[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	want := byte(0x00)
	if s.user != "" {
		want = 0x02
	}
	offered := false
	for _, m := range methods {
		offered = offered || m == want
	}
	if !offered {
		c.Write([]byte{5, 0xff})
		return
	}
	if _, err := c.Write([]byte{5, want}); err != nil {
		return
	}
	if want == 0x02 && !s.authenticate(c) {
		return
	}
	dst, ok := s.request(c)
	if !ok {
		return
	}
	t, err := net.DialTimeout("tcp", dst, dialTimeout)
	if err != nil {
		code := byte(1) // general failure
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			code = 5 // connection refused, as most proxies report a failed dial
		}
		c.Write([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	if !s.track(t) {
		return
	}
	defer s.untrack(t)
	if _, err := c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}); err != nil {
		return
	}
	s.connected.Add(1)
	c.SetDeadline(time.Time{})
	done := make(chan struct{}, 2)
	relay := func(to, from net.Conn) {
		io.Copy(to, from)
		// One way ended: end both, as the proxy cannot half-close.
		to.Close()
		from.Close()
		done <- struct{}{}
	}
	go relay(t, c)
	go relay(c, t)
	<-done
	<-done
}

// authenticate runs RFC 1929's exchange.
func (s *Server) authenticate(c net.Conn) bool {
	var b [1]byte
	read := func(n int) ([]byte, bool) {
		p := make([]byte, n)
		_, err := io.ReadFull(c, p)
		return p, err == nil
	}
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 1 {
		return false
	}
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return false
	}
	user, ok := read(int(b[0]))
	if !ok {
		return false
	}
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return false
	}
	pass, ok := read(int(b[0]))
	if !ok {
		return false
	}
	if string(user) != s.user || string(pass) != s.pass {
		s.authFails.Add(1)
		c.Write([]byte{1, 1})
		return false
	}
	_, err := c.Write([]byte{1, 0})
	return err == nil
}

// request reads a CONNECT request and returns its destination host:port.
func (s *Server) request(c net.Conn) (string, bool) {
	var h [4]byte
	if _, err := io.ReadFull(c, h[:]); err != nil || h[0] != 5 {
		return "", false
	}
	var host, kind string
	switch h[3] {
	case 1:
		var a [4]byte
		if _, err := io.ReadFull(c, a[:]); err != nil {
			return "", false
		}
		host, kind = net.IP(a[:]).String(), "ipv4"
	case 4:
		var a [16]byte
		if _, err := io.ReadFull(c, a[:]); err != nil {
			return "", false
		}
		host, kind = net.IP(a[:]).String(), "ipv6"
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return "", false
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(c, name); err != nil {
			return "", false
		}
		host, kind = string(name), "domain"
	default:
		c.Write([]byte{5, 8, 0, 1, 0, 0, 0, 0, 0, 0}) // address type not supported
		return "", false
	}
	var p [2]byte
	if _, err := io.ReadFull(c, p[:]); err != nil {
		return "", false
	}
	dst := net.JoinHostPort(host, strconv.Itoa(int(p[0])<<8|int(p[1])))
	s.mu.Lock()
	s.dests = append(s.dests, kind+" "+dst)
	s.mu.Unlock()
	if h[1] != 1 {
		c.Write([]byte{5, 7, 0, 1, 0, 0, 0, 0, 0, 0}) // command not supported
		return "", false
	}
	return dst, true
}
