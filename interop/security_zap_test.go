//go:build !windows

package interop

import (
	"fmt"
	"testing"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/zap"
)

// TestSecurityCurveZAP: which CURVE clients get through is ZAP's call,
// asked by the CURVE server at INITIATE: azmq's zap handler when azmq is
// the server, pyzmq's ThreadAuthenticator when libzmq is. Admitted
// clients have their public key (Z85) as User-Id; refused ones get ERROR
// "400" and nothing passes.
func TestSecurityCurveZAP(t *testing.T) {
	t.Parallel()
	type zapCase struct {
		name  string
		admit bool
		// azmq server: configure the zap handler (the client's key, another key)
		azmq func(t *testing.T, h *zap.Handler, client, other string)
		// libzmq server: pyzmq's authenticator settings
		auth func(client, other string) map[string]any
	}
	allow := func(t *testing.T, h *zap.Handler, key string) {
		t.Helper()
		if err := h.AllowCurveKey(key); err != nil {
			t.Fatalf("AllowCurveKey(%q): %v", key, err)
		}
	}
	cases := []zapCase{
		{
			name: "key-allowed", admit: true,
			azmq: func(t *testing.T, h *zap.Handler, client, _ string) { allow(t, h, client) },
			auth: func(client, _ string) map[string]any { return map[string]any{"curve_keys": []string{client}} },
		},
		{
			name: "any-key", admit: true,
			azmq: func(t *testing.T, h *zap.Handler, _, _ string) { h.AllowAnyCurve() },
			auth: func(_, _ string) map[string]any { return map[string]any{"curve_any": true} },
		},
		{
			name: "key-refused", admit: false,
			azmq: func(t *testing.T, h *zap.Handler, _, other string) { allow(t, h, other) },
			auth: func(_, other string) map[string]any { return map[string]any{"curve_keys": []string{other}} },
		},
		{
			name: "address-denied", admit: false,
			azmq: func(t *testing.T, h *zap.Handler, client, _ string) {
				allow(t, h, client)
				h.Deny("127.0.0.1")
			},
			auth: func(client, _ string) map[string]any {
				return map[string]any{"curve_keys": []string{client}, "deny": []string{"127.0.0.1"}}
			},
		},
	}
	for _, c := range cases {
		for _, tp := range tcpTopologies {
			// azmq CURVE server with its zap handler, libzmq client.
			t.Run(c.name+"/azmq-server/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				srv, cli, other := newKeys(t), newKeys(t), newKeys(t)
				h := zap.NewHandler()
				c.azmq(t, h, cli.pub, other.pub)
				s := secSocket(t, secContext(t, h), azmq.REP, azmq.WithCurveServer(srv.sec), azmq.WithLinger(0))
				w := watch(t, s)
				opts := map[string]any{"curve_serverkey": srv.pub, "curve_publickey": cli.pub, "curve_secretkey": cli.sec}
				if !c.admit {
					p := link(t, s, spec{Type: "REQ", Options: refusedOpts(opts), Steps: refusedSteps(true)}, tp)
					ev := w.handshakeFailed("azmq CURVE server refusing a client by ZAP", "")
					t.Logf("azmq CURVE server: %v: %v", ev.Kind, ev.Err)
					if m := recvWithin(t, ctx, s, noMsgWait); m != nil {
						t.Fatalf("azmq CURVE server received %s from a client its zap handler refuses", describe(m))
					}
					// libzmq reports the ERROR "400" an azmq server must send on ZAP 400.
					checkLibRefused(t, "libzmq CURVE client refused by azmq's ZAP", peerEvents(p), 400)
					p.wait()
					w.noSuccess("azmq CURVE server")
					return
				}
				msgs := [][][]byte{{b("hello")}, {b("curve"), pattern(300, 1)}}
				p := link(t, s, spec{Type: "REQ", Options: opts, Steps: sendRecvSteps(msgs)}, tp)
				for i, m := range msgs {
					msg, err := s.RecvMsg(ctx)
					if err != nil {
						t.Fatalf("azmq REP RecvMsg: %v (events: %s)", err, w)
					}
					checkMsg(t, fmt.Sprintf("request %d as the azmq CURVE server received it", i), msg.Frames, m)
					if uid, ok := msg.Property("User-Id"); !ok || uid != cli.pub {
						t.Fatalf("request %d: azmq CURVE server's Msg.Property(\"User-Id\") = %q, %v; want the client's public key %q", i, uid, ok, cli.pub)
					}
					send(t, ctx, s, reply(i, m))
					checkMsg(t, fmt.Sprintf("reply %d as the libzmq CURVE client received it", i), p.recvMsg(), reply(i, m))
				}
				p.wait()
			})

			// libzmq CURVE server with pyzmq's ThreadAuthenticator, azmq client.
			t.Run(c.name+"/libzmq-server/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				srv, cli, other := newKeys(t), newKeys(t), newKeys(t)
				s := secSocket(t, secContext(t, nil), azmq.REQ, azmq.WithCurveClient(srv.pub, cli.pub, cli.sec), azmq.WithLinger(0))
				w := watch(t, s)
				opts := map[string]any{"curve_server": true, "curve_secretkey": srv.sec, "auth": c.auth(cli.pub, other.pub)}
				if !c.admit {
					p := link(t, s, spec{Type: "REP", Options: refusedOpts(opts), Steps: refusedSteps(false)}, tp)
					trySend(t, ctx, s, [][]byte{b("must-not-arrive")}, noMsgWait/5)
					ev := w.handshakeFailed("azmq CURVE client refused by pyzmq's authenticator", "400")
					t.Logf("azmq CURVE client: %v: %v", ev.Kind, ev.Err)
					checkLibRefused(t, "libzmq CURVE server", peerEvents(p), 400)
					p.wait()
					w.noSuccess("azmq CURVE client")
					return
				}
				msgs := [][][]byte{{b("hello")}, {b("curve"), pattern(300, 1)}}
				p := link(t, s, spec{Type: "REP", Options: opts,
					Steps: []step{{"op": "echo", "count": len(msgs), "props": []string{"User-Id"}}}}, tp)
				for i, m := range msgs {
					send(t, ctx, s, m)
					got, props := recvProps(p)
					checkMsg(t, fmt.Sprintf("request %d as the libzmq CURVE server received it", i), got, m)
					if uid := props["User-Id"]; uid == nil || *uid != cli.pub {
						t.Fatalf("request %d: the libzmq CURVE server's User-Id = %s, want the azmq client's public key %q", i, strPtr(uid), cli.pub)
					}
					checkMsg(t, fmt.Sprintf("reply %d as the azmq CURVE client received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			})
		}
	}
}

// TestSecurityPlainAddressDenied: PLAIN with the right password, from an
// address the ZAP handler denies, is refused (the address check comes
// before the password).
func TestSecurityPlainAddressDenied(t *testing.T) {
	t.Parallel()
	for _, tp := range tcpTopologies {
		t.Run("azmq-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			h := plainHandler()
			h.Deny("127.0.0.1")
			plainRefusedByAzmq(t, tp, h, "secret", false)
		})
		t.Run("libzmq-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := secSocket(t, secContext(t, nil), azmq.REQ, azmq.WithPlainClient("admin", "secret"), azmq.WithLinger(0))
			w := watch(t, s)
			opts := map[string]any{"plain_server": true, "auth": map[string]any{"users": plainUsers, "deny": []string{"127.0.0.1"}}}
			p := link(t, s, spec{Type: "REP", Options: refusedOpts(opts), Steps: refusedSteps(false)}, tp)
			trySend(t, ctx, s, [][]byte{b("must-not-arrive")}, noMsgWait/5)
			ev := w.handshakeFailed("azmq PLAIN client from a denied address", "400")
			t.Logf("azmq PLAIN client: %v: %v", ev.Kind, ev.Err)
			checkLibRefused(t, "libzmq PLAIN server", peerEvents(p), 400)
			p.wait()
			w.noSuccess("azmq PLAIN client from a denied address")
		})
	}
}

// TestSecurityNullZAPDomain: the NULL mechanism asks ZAP when the server
// has a ZAP domain. A handler denying 127.0.0.1 refuses a NULL client
// (ERROR "400", nothing passes); one allowing it lets messages pass.
func TestSecurityNullZAPDomain(t *testing.T) {
	t.Parallel()
	msgs := [][][]byte{{b("null")}, {b("zap"), b("domain")}}
	for _, admit := range []bool{false, true} {
		name := "denied"
		if admit {
			name = "allowed"
		}
		for _, tp := range tcpTopologies {
			// azmq NULL server with ZAP domain "global" and its zap handler.
			t.Run(name+"/azmq-server/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				h := zap.NewHandler()
				if admit {
					h.Allow("127.0.0.1")
				} else {
					h.Deny("127.0.0.1")
				}
				s := secSocket(t, secContext(t, h), azmq.PULL, azmq.WithZAPDomain("global"), azmq.WithLinger(0))
				w := watch(t, s)
				if !admit {
					p := link(t, s, spec{Type: "PUSH", Options: refusedOpts(nil), Steps: refusedSteps(true)}, tp)
					ev := w.handshakeFailed("azmq NULL server, ZAP denying 127.0.0.1", "")
					t.Logf("azmq NULL server: %v: %v", ev.Kind, ev.Err)
					if m := recvWithin(t, ctx, s, noMsgWait); m != nil {
						t.Fatalf("azmq NULL server received %s from a client its zap handler denies", describe(m))
					}
					checkLibRefused(t, "libzmq NULL client refused by azmq's ZAP", peerEvents(p), 400)
					p.wait()
					w.noSuccess("azmq NULL server")
					return
				}
				p := link(t, s, spec{Type: "PUSH", Options: map[string]any{"monitor": true},
					Steps: append(sendSteps(msgs), step{"op": "events", "ms": failWait.Milliseconds(), "until": []string{"HANDSHAKE_"}})}, tp)
				for i, m := range msgs {
					checkMsg(t, fmt.Sprintf("message %d as the azmq NULL server received it", i), recv(t, ctx, s), m)
				}
				checkLibSucceeded(t, "libzmq NULL client", peerEvents(p))
				p.wait()
			})

			// libzmq NULL server with ZAP domain "global" and pyzmq's authenticator.
			t.Run(name+"/libzmq-server/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				s := secSocket(t, secContext(t, nil), azmq.PUSH, azmq.WithLinger(0))
				w := watch(t, s)
				auth := map[string]any{"deny": []string{"127.0.0.1"}}
				if admit {
					auth = map[string]any{"allow": []string{"127.0.0.1"}}
				}
				opts := map[string]any{"zap_domain": "global", "auth": auth}
				if !admit {
					p := link(t, s, spec{Type: "PULL", Options: refusedOpts(opts), Steps: refusedSteps(false)}, tp)
					trySend(t, ctx, s, [][]byte{b("must-not-arrive")}, noMsgWait/5)
					ev := w.handshakeFailed("azmq NULL client denied by pyzmq's authenticator", "400")
					t.Logf("azmq NULL client: %v: %v", ev.Kind, ev.Err)
					checkLibRefused(t, "libzmq NULL server", peerEvents(p), 400)
					p.wait()
					w.noSuccess("azmq NULL client from a denied address")
					return
				}
				p := link(t, s, spec{Type: "PULL", Options: opts, Steps: recvSteps(len(msgs))}, tp)
				for i, m := range msgs {
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("message %d as the libzmq NULL server received it", i), p.recvMsg(), m)
				}
				p.wait()
			})
		}
	}
}
