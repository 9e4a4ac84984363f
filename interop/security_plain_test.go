//go:build !windows

package interop

import (
	"fmt"
	"testing"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/zap"
)

// plainUsers is the user table of every PLAIN server here: azmq's zap
// handler or pyzmq's ThreadAuthenticator.
var plainUsers = map[string]string{"admin": "secret"}

func plainHandler() *zap.Handler {
	h := zap.NewHandler()
	for u, p := range plainUsers {
		h.AddUser(u, p)
	}
	return h
}

// libPlainServer is a libzmq PLAIN server with pyzmq's authenticator.
func libPlainServer(extra map[string]any) map[string]any {
	o := map[string]any{"plain_server": true, "auth": map[string]any{"users": plainUsers}}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

// TestSecurityPlain: PLAIN (RFC 24) between azmq and libzmq, each side
// the server in turn, over tcp both ways round (who binds is independent
// of who is the PLAIN server).
func TestSecurityPlain(t *testing.T) {
	t.Parallel()
	for _, tp := range tcpTopologies {
		// A libzmq PLAIN client with the right password; azmq's REP (a PLAIN
		// server asking its zap handler) sees User-Id "admin".
		t.Run("accepted/azmq-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := secSocket(t, secContext(t, plainHandler()), azmq.REP, azmq.WithPlainServer())
			w := watch(t, s)
			p := link(t, s, spec{Type: "REQ",
				Options: map[string]any{"plain_username": "admin", "plain_password": "secret"},
				Steps:   sendRecvSteps(basicMsgs)}, tp)
			for i, m := range basicMsgs {
				msg, err := s.RecvMsg(ctx)
				if err != nil {
					t.Fatalf("azmq REP RecvMsg: %v (events: %s)", err, w)
				}
				checkMsg(t, fmt.Sprintf("request %d as the azmq PLAIN server received it", i), msg.Frames, m)
				if uid, ok := msg.Property("User-Id"); !ok || uid != "admin" {
					t.Fatalf("request %d: azmq PLAIN server's Msg.Property(\"User-Id\") = %q, %v; want \"admin\", true", i, uid, ok)
				}
				send(t, ctx, s, reply(i, m))
				checkMsg(t, fmt.Sprintf("reply %d as the libzmq PLAIN client received it", i), p.recvMsg(), reply(i, m))
			}
			p.wait()
			if !w.has(azmq.EventHandshakeSucceeded) {
				t.Errorf("azmq PLAIN server: no EventHandshakeSucceeded; events: %s", w)
			}
		})

		// An azmq PLAIN client with the right password; the libzmq server
		// (pyzmq's ThreadAuthenticator) sees User-Id "admin".
		t.Run("accepted/libzmq-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := secSocket(t, secContext(t, nil), azmq.REQ, azmq.WithPlainClient("admin", "secret"))
			p := link(t, s, spec{Type: "REP", Options: libPlainServer(nil),
				Steps: []step{{"op": "echo", "count": len(basicMsgs), "props": []string{"User-Id"}}}}, tp)
			for i, m := range basicMsgs {
				send(t, ctx, s, m)
				got, props := recvProps(p)
				checkMsg(t, fmt.Sprintf("request %d as the libzmq PLAIN server received it", i), got, m)
				if uid := props["User-Id"]; uid == nil || *uid != "admin" {
					t.Fatalf("request %d: the libzmq PLAIN server's User-Id = %v, want \"admin\"", i, strPtr(uid))
				}
				checkMsg(t, fmt.Sprintf("reply %d as the azmq PLAIN client received it", i), recv(t, ctx, s), m)
			}
			p.wait()
		})

		// A libzmq client with a wrong password: azmq's zap handler says
		// 400, nothing passes, and the azmq server still serves a good client.
		t.Run("wrong-password/azmq-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			plainRefusedByAzmq(t, tp, plainHandler(), "wrong-password", true)
		})

		// As libzmq: an azmq PLAIN server with no ZAP handler refuses everyone.
		t.Run("no-zap-handler/azmq-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			plainRefusedByAzmq(t, tp, nil, "secret", false)
		})

		// An azmq client with a wrong password: pyzmq's authenticator says
		// 400, the libzmq server sends ERROR "400" (in its "^RROR" spelling,
		// PROTOCOL G17), the azmq client reports it, nothing passes.
		t.Run("wrong-password/libzmq-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := secSocket(t, secContext(t, nil), azmq.REQ, azmq.WithPlainClient("admin", "wrong"), azmq.WithLinger(0))
			w := watch(t, s)
			p := link(t, s, spec{Type: "REP", Options: refusedOpts(libPlainServer(nil)), Steps: refusedSteps(false)}, tp)
			trySend(t, ctx, s, [][]byte{b("must-not-arrive")}, noMsgWait/5)
			ev := w.handshakeFailed("azmq PLAIN client refused by libzmq", "400")
			t.Logf("azmq PLAIN client: %v: %v", ev.Kind, ev.Err)
			evs := peerEvents(p) // after expect_none: nothing arrived
			checkLibRefused(t, "libzmq PLAIN server", evs, 400)
			p.wait()
			w.noSuccess("azmq PLAIN client with a wrong password")
		})
	}
}

// plainRefusedByAzmq: a libzmq PLAIN client (user admin, this password)
// tries an azmq PLAIN server with handler h (nil: none). Nothing may pass,
// azmq must report EventHandshakeFailed, libzmq a failed handshake; then,
// with goodAfter, a libzmq client with the right password is served.
func plainRefusedByAzmq(t *testing.T, tp topo, h *zap.Handler, password string, goodAfter bool) {
	requirePeer(t)
	ctx := testCtx(t)
	s := secSocket(t, secContext(t, h), azmq.REP, azmq.WithPlainServer(), azmq.WithLinger(0))
	w := watch(t, s)
	p := link(t, s, spec{Type: "REQ",
		Options: refusedOpts(map[string]any{"plain_username": "admin", "plain_password": password}),
		Steps:   refusedSteps(true)}, tp)
	ev := w.handshakeFailed("azmq PLAIN server", "")
	t.Logf("azmq PLAIN server: %v: %v", ev.Kind, ev.Err)
	if m := recvWithin(t, ctx, s, noMsgWait); m != nil {
		t.Fatalf("azmq PLAIN server received %s from a client it must refuse", describe(m))
	}
	evs := peerEvents(p)
	// libzmq reports HANDSHAKE_FAILED_AUTH(400) only for an ERROR spelled
	// as its own server spells it (G17); a correct ERROR is a protocol error
	// to it, and a plain close (no handler) no detail: any failure will do.
	failed := checkLibRefused(t, "libzmq PLAIN client", evs, 0)
	t.Logf("libzmq PLAIN client: %s", eventNames([]libEvent{failed}))
	p.wait()
	w.noSuccess("azmq PLAIN server")
	if !goodAfter {
		return
	}
	// The server still serves a good client.
	sp := spec{Type: "REQ", Options: map[string]any{"plain_username": "admin", "plain_password": "secret"},
		Steps: sendRecvSteps([][][]byte{{b("good")}})}
	var good *peer
	if tp.azmqBinds {
		sp.Connect = []string{s.LastEndpoint()}
		good = startPeer(t, sp)
		good.ready()
	} else {
		if err := s.Disconnect(p.endpoint); err != nil {
			t.Fatalf("Disconnect(%q) from the refused peer: %v", p.endpoint, err)
		}
		sp.Bind = []string{bindEndpoint(t, tp.transport)}
		good = startPeer(t, sp)
		if err := s.Connect(good.ready()); err != nil {
			t.Fatalf("Connect: %v", err)
		}
	}
	checkMsg(t, "a good client's request after a refused one", recv(t, ctx, s), [][]byte{b("good")})
	send(t, ctx, s, [][]byte{b("welcome")})
	checkMsg(t, "the reply to a good client", good.recvMsg(), [][]byte{b("welcome")})
	good.wait()
}

func strPtr(p *string) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *p)
}
