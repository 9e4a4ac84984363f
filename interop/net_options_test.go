//go:build !windows

package interop

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/socks5test"
)

func hexs(s string) string { return hex.EncodeToString([]byte(s)) }

// tcpPort returns the port of a tcp endpoint.
func tcpPort(t *testing.T, ep string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(ep, "tcp://"))
	if err != nil {
		t.Fatalf("endpoint %q: %v", ep, err)
	}
	return p
}

// waitEvent waits up to d for an event of kind on ch.
func waitEvent(t *testing.T, ch <-chan azmq.Event, kind azmq.EventKind, d time.Duration) (azmq.Event, bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return azmq.Event{}, false
			}
			if e.Kind == kind {
				return e, true
			}
		case <-timeout:
			return azmq.Event{}, false
		}
	}
}

// TestSOCKSProxy: through the test's SOCKS5 server, with and without
// username/password, azmq connects to libzmq and libzmq (ZMQ_SOCKS_PROXY,
// ZMQ_SOCKS_USERNAME, ZMQ_SOCKS_PASSWORD) to azmq, and a round trip
// passes; the proxy counts the connection it carried, and both ask it for
// the destination in the same form (an address for an IP literal, a
// domain name for a host name). A wrong password gets azmq through to
// nobody: it reports each refused dial as EventConnectDelayed with
// ErrSOCKSAuth.
func TestSOCKSProxy(t *testing.T) {
	requirePeer(t)
	cases := []struct {
		name             string
		srvUser, srvPass string
		user, pass       string
		host             string // the destination host named in the endpoint
		wantKind         string // how the proxy is asked for it
		refused          bool
	}{
		{"noauth", "", "", "", "", "127.0.0.1", "ipv4", false},
		{"noauth-hostname", "", "", "", "", "localhost", "domain", false},
		{"userpass", "alice", "s3cret", "alice", "s3cret", "127.0.0.1", "ipv4", false},
		{"wrong-password", "alice", "s3cret", "alice", "guess", "127.0.0.1", "ipv4", true},
	}
	for _, tc := range cases {
		for _, azmqBinds := range []bool{false, true} {
			dir := "azmq-connects"
			if azmqBinds {
				dir = "libzmq-connects"
			}
			if tc.refused && azmqBinds {
				// libzmq 4.3.4 aborts ("Bad file descriptor
				// (src/epoll.cpp:113)") when its proxy refuses the
				// credentials and closes, as RFC 1929 has it: only
				// azmq's side of a refusal is tested.
				continue
			}
			t.Run(tc.name+"/"+dir, func(t *testing.T) {
				t.Parallel()
				proxy, err := socks5test.Start(tc.srvUser, tc.srvPass)
				if err != nil {
					t.Fatal(err)
				}
				defer proxy.Close()
				ctx := testCtx(t)
				if azmqBinds {
					rep := newSocket(t, azmq.REP)
					if err := rep.Bind("tcp://127.0.0.1:0"); err != nil {
						t.Fatal(err)
					}
					sockopts := map[string]any{"SOCKS_PROXY": hexs(proxy.Addr), "RECONNECT_IVL": 100}
					if tc.user != "" {
						sockopts["SOCKS_USERNAME"] = hexs(tc.user)
						sockopts["SOCKS_PASSWORD"] = hexs(tc.pass)
					}
					ep := "tcp://" + tc.host + ":" + tcpPort(t, rep.LastEndpoint())
					steps := []step{{"op": "send", "frames": []string{hexs("ping")}}, {"op": "recv"}}
					p := startPeer(t, spec{Type: "REQ", Connect: []string{ep},
						Options: map[string]any{"sockopts": sockopts}, Steps: steps})
					p.ready()
					checkMsg(t, "azmq REP got", recv(t, ctx, rep), [][]byte{b("ping")})
					send(t, ctx, rep, [][]byte{b("pong")})
					checkMsg(t, "libzmq REQ got", p.recvMsg(), [][]byte{b("pong")})
					p.wait()
				} else {
					p := startPeer(t, spec{Type: "REP", Bind: []string{"tcp://127.0.0.1:*"}, Steps: []step{{"op": "echo", "quiet": true}}})
					ep := "tcp://" + tc.host + ":" + tcpPort(t, p.ready())
					opts := []azmq.SocketOption{azmq.WithSOCKSProxy(proxy.Addr), azmq.WithReconnectInterval(50 * time.Millisecond)}
					if tc.user != "" {
						opts = append(opts, azmq.WithSOCKSAuth(tc.user, tc.pass))
					}
					req := newSocket(t, azmq.REQ, opts...)
					ev := req.Monitor(ctx)
					if err := req.Connect(ep); err != nil {
						t.Fatal(err)
					}
					if tc.refused {
						e, ok := waitEvent(t, ev, azmq.EventConnectDelayed, 5*time.Second)
						if !ok || !errors.Is(e.Err, azmq.ErrSOCKSAuth) {
							t.Fatalf("event %v (%v), want ConnectDelayed with ErrSOCKSAuth", e.Kind, e.Err)
						}
						if proxy.AuthFailures() < 1 || proxy.Connected() != 0 {
							t.Fatalf("proxy: %d auth failures, %d carried; want a refusal and nothing carried", proxy.AuthFailures(), proxy.Connected())
						}
						return
					}
					send(t, ctx, req, [][]byte{b("ping")})
					checkMsg(t, "azmq REQ got", recv(t, ctx, req), [][]byte{b("ping")})
					p.wait()
				}
				if got := proxy.Connected(); got != 1 {
					t.Fatalf("proxy carried %d connections, want 1", got)
				}
				// The first: once the peer has gone, azmq tries again.
				dests := proxy.Destinations()
				if len(dests) < 1 || !strings.HasPrefix(dests[0], tc.wantKind+" "+tc.host+":") {
					t.Fatalf("proxy was asked for %q, want %s %s", dests, tc.wantKind, tc.host)
				}
			})
		}
	}
}

// TestSourceAddress: a "tcp://127.0.0.2:0;127.0.0.1:PORT" endpoint means
// the same to both: azmq's connection to libzmq comes from 127.0.0.2 as
// libzmq's Peer-Address shows, and libzmq's to azmq likewise as azmq's
// Msg.Property("Peer-Address") shows.
func TestSourceAddress(t *testing.T) {
	requirePeer(t)
	t.Run("azmq-connects", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		p := startPeer(t, spec{Type: "ROUTER", Bind: []string{"tcp://127.0.0.1:*"},
			Steps: []step{{"op": "recv", "props": []string{"Peer-Address"}}}})
		ep := p.ready()
		d := newSocket(t, azmq.DEALER)
		if err := d.Connect("tcp://127.0.0.2:0;" + strings.TrimPrefix(ep, "tcp://")); err != nil {
			t.Fatal(err)
		}
		send(t, ctx, d, [][]byte{b("hi")})
		_, props := recvProps(p)
		if got := props["Peer-Address"]; got == nil || *got != "127.0.0.2" {
			t.Fatalf("libzmq saw Peer-Address %v, want 127.0.0.2", got)
		}
		p.wait()
	})
	t.Run("libzmq-connects", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		r := newSocket(t, azmq.ROUTER)
		if err := r.Bind("tcp://127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		ep := "tcp://127.0.0.2:0;" + strings.TrimPrefix(r.LastEndpoint(), "tcp://")
		p := startPeer(t, spec{Type: "DEALER", Connect: []string{ep}, Steps: []step{{"op": "send", "frames": []string{hexs("hi")}}}})
		p.ready()
		m, err := r.RecvMsg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := m.Property("Peer-Address"); got != "127.0.0.2" {
			t.Fatalf("azmq saw Peer-Address %q, want 127.0.0.2", got)
		}
		p.wait()
	})
}

// closedTCPPort returns a port on 127.0.0.1 that nobody listens on (yet).
func closedTCPPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return p
}

// TestReconnectStopConnRefused: a PUSH that connects to a port nobody
// listens on, with ZMQ_RECONNECT_STOP_CONN_REFUSED (libzmq) or
// WithReconnectStop(ReconnectStopConnRefused) (azmq), gives up: when the
// other side binds there a little later, the message queued never
// arrives. Without the flag it does, for both (the control).
func TestReconnectStopConnRefused(t *testing.T) {
	requirePeer(t)
	for _, stop := range []bool{true, false} {
		for _, azmqConnects := range []bool{true, false} {
			name := fmt.Sprintf("stop=%v/libzmq-connects", stop)
			if azmqConnects {
				name = fmt.Sprintf("stop=%v/azmq-connects", stop)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx := testCtx(t)
				ep := "tcp://127.0.0.1:" + closedTCPPort(t)
				if azmqConnects {
					opts := []azmq.SocketOption{azmq.WithReconnectInterval(50 * time.Millisecond)}
					if stop {
						opts = append(opts, azmq.WithReconnectStop(azmq.ReconnectStopConnRefused))
					}
					push := newSocket(t, azmq.PUSH, opts...)
					ev := push.Monitor(ctx)
					if err := push.Connect(ep); err != nil {
						t.Fatal(err)
					}
					sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
					err := push.Send(sctx, b("hi")) // queued, or no queue left once stopped
					cancel()
					if err != nil && !errors.Is(err, context.DeadlineExceeded) {
						t.Fatal(err)
					}
					if stop {
						if _, ok := waitEvent(t, ev, azmq.EventConnectStopped, 5*time.Second); !ok {
							t.Fatal("no EventConnectStopped")
						}
					}
					steps := []step{{"op": "sleep", "ms": 300}, {"op": "bind", "endpoint": ep}}
					if stop {
						steps = append(steps, step{"op": "expect_none", "ms": 1000})
					} else {
						steps = append(steps, step{"op": "recv"})
					}
					p := startPeer(t, spec{Type: "PULL", Steps: steps})
					p.ready()
					p.expect("bound")
					if !stop {
						checkMsg(t, "libzmq PULL got", p.recvMsg(), [][]byte{b("hi")})
					}
					p.wait()
					return
				}
				sockopts := map[string]any{"RECONNECT_IVL": 50}
				if stop {
					sockopts["RECONNECT_STOP"] = 1 // ZMQ_RECONNECT_STOP_CONN_REFUSED
				}
				// Once stopped, libzmq has no queue left either: the send may
				// time out.
				p := startPeer(t, spec{Type: "PUSH", Connect: []string{ep}, Options: map[string]any{"sockopts": sockopts, "sndtimeo": 300},
					Steps: []step{{"op": "send", "frames": []string{hexs("hi")}, "eagain_ok": stop}, {"op": "sleep", "ms": 2000}}})
				p.ready()
				time.Sleep(300 * time.Millisecond) // refused meanwhile
				pull := newSocket(t, azmq.PULL)
				if err := pull.Bind(ep); err != nil {
					t.Fatal(err)
				}
				rctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
				defer cancel()
				m, err := pull.Recv(rctx)
				switch {
				case stop && err == nil:
					t.Fatalf("libzmq reconnected after a refusal with RECONNECT_STOP: got %q", m)
				case stop && !errors.Is(err, context.DeadlineExceeded):
					t.Fatal(err)
				case !stop && err != nil:
					t.Fatalf("libzmq did not reconnect without RECONNECT_STOP: %v", err)
				}
				p.wait()
			})
		}
	}
}

// TestReconnectStopHandshakeFailed: an azmq PUSH connecting to a libzmq
// PUSH (the handshake fails: the types do not match) with
// WithReconnectStop(ReconnectStopHandshakeFailed) tries once and gives
// up: libzmq accepts one connection, where without the flag it accepts
// more as azmq retries. (libzmq's own ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED
// cannot be told apart here: libzmq 4.3.4 makes one attempt after such a
// failure with or without it.)
func TestReconnectStopHandshakeFailed(t *testing.T) {
	requirePeer(t)
	for _, stop := range []bool{true, false} {
		t.Run(fmt.Sprintf("stop=%v", stop), func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			p := startPeer(t, spec{Type: "PUSH", Bind: []string{"tcp://127.0.0.1:*"}, Options: map[string]any{"monitor": true},
				Steps: []step{{"op": "sleep", "ms": 1500}, {"op": "events", "ms": 0}}})
			ep := p.ready()
			opts := []azmq.SocketOption{azmq.WithReconnectInterval(50 * time.Millisecond)}
			if stop {
				opts = append(opts, azmq.WithReconnectStop(azmq.ReconnectStopHandshakeFailed))
			}
			push := newSocket(t, azmq.PUSH, opts...)
			ev := push.Monitor(ctx)
			if err := push.Connect(ep); err != nil {
				t.Fatal(err)
			}
			if stop {
				if e, ok := waitEvent(t, ev, azmq.EventConnectStopped, 5*time.Second); !ok || e.Err == nil {
					t.Fatalf("no EventConnectStopped with a reason (%v)", e.Err)
				}
			}
			accepted := countAccepted(peerEvents(p))
			p.wait()
			if stop && accepted != 1 {
				t.Fatalf("libzmq accepted %d connections with the stop flag, want 1", accepted)
			}
			if !stop && accepted < 3 {
				t.Fatalf("libzmq accepted %d connections without the stop flag, want retries", accepted)
			}
		})
	}
}

// countAccepted counts the ACCEPTED events among libzmq's.
func countAccepted(evs []libEvent) int {
	n := 0
	for _, e := range evs {
		if e.Event == "ACCEPTED" {
			n++
		}
	}
	return n
}
