package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/socks5test"
)

// dialWith dials s with o and fails the test on error.
func dialWith(t *testing.T, s string, o Options) net.Conn {
	t.Helper()
	c, err := DialWith(testCtx(t), mustParse(t, s), o)
	if err != nil {
		t.Fatalf("DialWith(%s): %v", s, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// acceptOne accepts one connection on l within the test timeout.
func acceptOne(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(testTimeout):
		l.Close()
		<-ch
		t.Fatal("Accept timed out")
		return nil
	}
}

// roundTrip sends "ping" from a to b and "pong" back.
func roundTrip(t *testing.T, a, b net.Conn) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	buf := make([]byte, 4)
	if _, err := a.Write([]byte("ping")); err != nil {
		t.Fatalf("write: %v", err)
	}
	if _, err := io.ReadFull(b, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if _, err := b.Write([]byte("pong")); err != nil {
		t.Fatalf("write back: %v", err)
	}
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("read back %q, %v", buf, err)
	}
}

func startSOCKS(t *testing.T, user, pass string) *socks5test.Server {
	t.Helper()
	s, err := socks5test.Start(user, pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func port(t *testing.T, l net.Listener) string {
	t.Helper()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestSOCKSDial: a tcp dial with a proxy goes through it, with and
// without username/password, and names its destination as libzmq does:
// an IP literal as an address, a host name as a domain name for the
// proxy to resolve.
func TestSOCKSDial(t *testing.T) {
	cases := []struct {
		name, user, pass string
		host, wantKind   string
	}{
		{"noauth-ipv4", "", "", "127.0.0.1", "ipv4 127.0.0.1"},
		{"noauth-name", "", "", "localhost", "domain localhost"},
		{"userpass", "alice", "s3cret", "127.0.0.1", "ipv4 127.0.0.1"},
		{"userpass-empty-password", "bob", "", "127.0.0.1", "ipv4 127.0.0.1"},
		{"noauth-ipv6", "", "", "[::1]", "ipv6 [::1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy := startSOCKS(t, tc.user, tc.pass)
			listenHost := "127.0.0.1"
			if strings.HasPrefix(tc.host, "[") {
				listenHost = tc.host
				if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				} else {
					l.Close()
				}
			}
			_, l := mustListen(t, "tcp://"+listenHost+":0")
			o := Options{Net: Net{SOCKSProxy: proxy.Addr, SOCKSUser: tc.user, SOCKSPass: tc.pass}}
			c := dialWith(t, "tcp://"+tc.host+":"+port(t, l), o)
			s := acceptOne(t, l)
			roundTrip(t, c, s)
			if got := proxy.Connected(); got != 1 {
				t.Fatalf("proxy carried %d connections, want 1", got)
			}
			if got, want := proxy.Destinations(), []string{tc.wantKind + ":" + port(t, l)}; len(got) != 1 || got[0] != want[0] {
				t.Fatalf("proxy was asked for %q, want %q", got, want)
			}
			// The peer sees the proxy, not us: the connection went through it.
			if got := s.RemoteAddr().String(); got == c.LocalAddr().String() {
				t.Fatalf("peer sees our own address %s: not proxied", got)
			}
		})
	}
}

// TestSOCKSDialErrors: each way a proxy can refuse is a clear error
// wrapping ErrSOCKS (and ErrSOCKSAuth for credentials).
func TestSOCKSDialErrors(t *testing.T) {
	closed := func() string { // a port nobody listens on
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := port(t, l)
		l.Close()
		return p
	}()
	cases := []struct {
		name             string
		srvUser, srvPass string
		user, pass       string
		target           string
		want             error
		wantText         string
	}{
		{"wrong-password", "alice", "s3cret", "alice", "nope", "127.0.0.1:1", ErrSOCKSAuth, "authentication refused"},
		{"no-credentials", "alice", "s3cret", "", "", "127.0.0.1:1", ErrSOCKS, "accepts no method"},
		{"credentials-unasked", "", "", "alice", "x", "127.0.0.1:1", ErrSOCKS, "accepts no method"},
		{"target-refused", "", "", "", "", "127.0.0.1:" + closed, ErrSOCKS, "connection refused (code 5)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy := startSOCKS(t, tc.srvUser, tc.srvPass)
			o := Options{Net: Net{SOCKSProxy: proxy.Addr, SOCKSUser: tc.user, SOCKSPass: tc.pass}}
			c, err := DialWith(testCtx(t), mustParse(t, "tcp://"+tc.target), o)
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded")
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrSOCKS) || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("error %v, want %v containing %q", err, tc.want, tc.wantText)
			}
		})
	}
}

// fakeProxy accepts connections and answers each message of the client
// with the next of replies, then closes; a nil reply is silence until the
// client leaves.
func fakeProxy(t *testing.T, replies ...[]byte) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close() // after the last reply
				buf := make([]byte, 512)
				for _, r := range replies {
					if _, err := c.Read(buf); err != nil {
						return
					}
					if r == nil { // silence until the client gives up
						io.Copy(io.Discard, c)
						return
					}
					if _, err := c.Write(r); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// TestSOCKSBadProxy: a proxy that breaks the protocol or goes silent gets
// an error, never a hang or a panic; ctx ends a silent exchange at once.
func TestSOCKSBadProxy(t *testing.T) {
	cases := []struct {
		name     string
		replies  [][]byte
		wantText string
	}{
		{"wrong-version", [][]byte{{4, 0}}, "version 4"},
		{"method-not-offered", [][]byte{{5, 2}}, "not the one offered"},
		{"closes-early", [][]byte{{5}}, "closed the connection"},
		{"reply-code", [][]byte{{5, 0}, {5, 2, 0, 1, 0, 0, 0, 0, 0, 0}}, "not allowed by ruleset"},
		{"unknown-code", [][]byte{{5, 0}, {5, 42, 0, 1, 0, 0, 0, 0, 0, 0}}, "unknown code 42"},
		{"unknown-atyp", [][]byte{{5, 0}, {5, 0, 0, 9, 0, 0, 0, 0, 0, 0}}, "unknown address type 9"},
		{"short-reply", [][]byte{{5, 0}, {5, 0, 0, 3, 200, 'x'}}, "closed the connection"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeProxy(t, tc.replies...)
			c, err := DialWith(testCtx(t), mustParse(t, "tcp://127.0.0.1:9"), Options{Net: Net{SOCKSProxy: addr}})
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded")
			}
			if !errors.Is(err, ErrSOCKS) || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("error %v, want ErrSOCKS containing %q", err, tc.wantText)
			}
		})
	}
	t.Run("silent-ctx", func(t *testing.T) {
		addr := fakeProxy(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		c, err := DialWith(ctx, mustParse(t, "tcp://127.0.0.1:9"), Options{Net: Net{SOCKSProxy: addr}})
		if err == nil {
			c.Close()
			t.Fatal("dial succeeded")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("dial took %v after ctx ended", d)
		}
	})
	t.Run("silent-timeout", func(t *testing.T) {
		addr := fakeProxy(t, nil)
		start := time.Now()
		o := Options{HandshakeTimeout: 200 * time.Millisecond, Net: Net{SOCKSProxy: addr}}
		c, err := DialWith(testCtx(t), mustParse(t, "tcp://127.0.0.1:9"), o)
		if err == nil {
			c.Close()
			t.Fatal("dial succeeded")
		}
		if !errors.Is(err, ErrSOCKS) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("error %v, want ErrSOCKS and a deadline", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("dial took %v", d)
		}
	})
}

// TestConnectTimeout: Net.ConnectTimeout bounds the dial; a dial that
// cannot finish in it fails with a timeout.
func TestConnectTimeout(t *testing.T) {
	_, l := mustListen(t, "tcp://127.0.0.1:0")
	ep := mustParse(t, "tcp://127.0.0.1:"+port(t, l))
	c, err := DialWith(testCtx(t), ep, Options{Net: Net{ConnectTimeout: time.Nanosecond}})
	if err == nil {
		c.Close()
		t.Fatal("a dial with a 1ns timeout succeeded")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v, want a timeout", err)
	}
	// The same dial with room enough succeeds.
	dialWith(t, ep.String(), Options{Net: Net{ConnectTimeout: testTimeout}})
}

// TestSourceAddress: a "SRC;DST" dial comes from SRC; "*" and port 0 pick
// any, a fixed port is used, and Listen refuses the form.
func TestSourceAddress(t *testing.T) {
	_, l := mustListen(t, "tcp://127.0.0.1:0")
	free := func() int {
		x, err := net.Listen("tcp4", "127.0.0.2:0")
		if err != nil {
			t.Skipf("127.0.0.2 not usable here: %v", err) // only where loopback is not a /8
		}
		p := x.Addr().(*net.TCPAddr).Port
		x.Close()
		return p
	}()
	cases := []struct {
		src      string
		wantIP   string
		wantPort int // 0: any
	}{
		{"127.0.0.2:0", "127.0.0.2", 0},
		{"127.0.0.2:*", "127.0.0.2", 0},
		{"127.0.0.2:" + strconv.Itoa(free), "127.0.0.2", free},
		{"*:0", "127.0.0.1", 0},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			c := dialWith(t, "tcp://"+tc.src+";127.0.0.1:"+port(t, l), Options{})
			s := acceptOne(t, l)
			roundTrip(t, c, s)
			ra := s.RemoteAddr().(*net.TCPAddr)
			if ra.IP.String() != tc.wantIP || (tc.wantPort != 0 && ra.Port != tc.wantPort) {
				t.Fatalf("peer sees %s, want %s port %d", ra, tc.wantIP, tc.wantPort)
			}
			if got := PeerAddress(s); got != tc.wantIP {
				t.Fatalf("PeerAddress = %q, want %q", got, tc.wantIP)
			}
		})
	}
	t.Run("no-such-interface", func(t *testing.T) {
		c, err := Dial(testCtx(t), mustParse(t, "tcp://nosuchif0:0;127.0.0.1:"+port(t, l)))
		if err == nil {
			c.Close()
			t.Fatal("dial from a missing interface succeeded")
		}
		if !strings.Contains(err.Error(), "nosuchif0") {
			t.Fatalf("error %v does not name the interface", err)
		}
	})
	t.Run("listen", func(t *testing.T) {
		ep := mustParse(t, "tcp://127.0.0.2:0;127.0.0.1:0")
		x, err := Listen(testCtx(t), ep)
		if err == nil {
			x.Close()
			t.Fatal("Listen took a source address")
		}
		if !errors.Is(err, ErrEndpoint) {
			t.Fatalf("error %v, want ErrEndpoint", err)
		}
	})
}
