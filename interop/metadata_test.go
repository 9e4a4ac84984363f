//go:build !windows

package interop

import (
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

// TestMetadata: the application's X- properties (azmq's WithMetadata,
// libzmq's ZMQ_METADATA) travel in READY (NULL) and in INITIATE and READY
// (CURVE) both ways: libzmq reads azmq's with zmq_msg_gets, azmq reads
// libzmq's with Msg.Property, each side binding in turn.
func TestMetadata(t *testing.T) {
	t.Parallel()
	for _, mech := range []string{"NULL", "CURVE"} {
		for _, tp := range tcpTopologies {
			t.Run(mech+"/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				opts := []azmq.SocketOption{
					azmq.WithMetadata("X-Go-Side", "from azmq"),
					azmq.WithMetadata("X-Second", "2"),
				}
				libOpts := map[string]any{"sockopts": map[string]any{"METADATA": fmt.Sprintf("%x", "X-Lib-Side:from libzmq")}}
				if mech == "CURVE" {
					srv, cli := newKeys(t), newKeys(t)
					opts = append(opts, azmq.WithCurveClient(srv.pub, cli.pub, cli.sec))
					libOpts["curve_server"], libOpts["curve_secretkey"] = true, srv.sec
				}
				s := secSocket(t, secContext(t, nil), azmq.REQ, opts...)
				p := link(t, s, spec{Type: "REP", Options: libOpts,
					Steps: []step{{"op": "echo", "count": 1, "props": []string{"X-Go-Side", "X-Second", "X-Absent"}}}}, tp)
				m := [][]byte{b("with metadata")}
				send(t, ctx, s, m)
				got, props := recvProps(p)
				checkMsg(t, "the request as libzmq received it", got, m)
				for name, want := range map[string]string{"X-Go-Side": "from azmq", "X-Second": "2"} {
					if v := props[name]; v == nil || *v != want {
						t.Errorf("libzmq's zmq_msg_gets(%q) = %s, want %q", name, strPtr(v), want)
					}
				}
				if v := props["X-Absent"]; v != nil {
					t.Errorf("libzmq's zmq_msg_gets(\"X-Absent\") = %q, want none", *v)
				}
				reply, err := s.RecvMsg(ctx)
				if err != nil {
					t.Fatalf("azmq REQ RecvMsg: %v", err)
				}
				checkMsg(t, "the reply as azmq received it", reply.Frames, m)
				if v, ok := reply.Property("X-Lib-Side"); !ok || v != "from libzmq" {
					t.Errorf("azmq's Msg.Property(\"X-Lib-Side\") = %q, %v; want \"from libzmq\"", v, ok)
				}
				if v, ok := reply.Property("x-lib-side"); !ok || v != "from libzmq" {
					t.Errorf("azmq's Msg.Property(\"x-lib-side\") = %q, %v; names compare case-insensitively", v, ok)
				}
				p.wait()
			})
		}
	}
}

// TestZAPEnforceDomain: a NULL socket with a ZAP domain and no ZAP handler
// admits its peers, unless the domain is enforced (azmq's
// WithZAPEnforceDomain, libzmq's ZMQ_ZAP_ENFORCE_DOMAIN): then it refuses
// them. Both sides checked, azmq's against libzmq's as the peer.
func TestZAPEnforceDomain(t *testing.T) {
	t.Parallel()
	for _, enforce := range []bool{false, true} {
		name := fmt.Sprintf("enforce=%v", enforce)
		t.Run(name+"/azmq-server", func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := secSocket(t, secContext(t, nil), azmq.REP, azmq.WithZAPDomain("global"),
				azmq.WithZAPEnforceDomain(enforce), azmq.WithLinger(0))
			w := watch(t, s)
			if enforce {
				p := link(t, s, spec{Type: "REQ", Options: refusedOpts(nil), Steps: refusedSteps(true)}, tcpTopologies[0])
				ev := w.handshakeFailed("azmq REP enforcing its ZAP domain with no handler", "no ZAP handler")
				t.Logf("azmq: %v: %v", ev.Kind, ev.Err)
				checkLibRefused(t, "libzmq REQ refused by an enforced domain", peerEvents(p), 0)
				p.wait()
				w.noSuccess("azmq REP")
				return
			}
			m := [][]byte{b("admitted")}
			p := link(t, s, spec{Type: "REQ", Steps: sendRecvSteps([][][]byte{m})}, tcpTopologies[0])
			checkMsg(t, "the request azmq received", recv(t, ctx, s), m)
			send(t, ctx, s, m)
			checkMsg(t, "the reply libzmq received", p.recvMsg(), m)
			p.wait()
		})
		t.Run(name+"/libzmq-server", func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := secSocket(t, secContext(t, nil), azmq.REQ, azmq.WithLinger(0))
			opts := map[string]any{"zap_domain": "global", "sockopts": map[string]any{"ZAP_ENFORCE_DOMAIN": map[bool]int{false: 0, true: 1}[enforce]}}
			if enforce {
				w := watch(t, s)
				p := link(t, s, spec{Type: "REP", Options: refusedOpts(opts), Steps: refusedSteps(false)}, tcpTopologies[0])
				trySend(t, ctx, s, [][]byte{b("must-not-arrive")}, noMsgWait/5)
				checkLibRefused(t, "libzmq REP enforcing its ZAP domain with no handler", peerEvents(p), 0)
				p.wait()
				w.noSuccess("azmq REQ")
				return
			}
			m := [][]byte{b("admitted")}
			p := link(t, s, spec{Type: "REP", Options: opts, Steps: []step{{"op": "echo", "count": 1}}}, tcpTopologies[0])
			send(t, ctx, s, m)
			checkMsg(t, "the request libzmq received", p.recvMsg(), m)
			checkMsg(t, "the reply azmq received", recv(t, ctx, s), m)
			p.wait()
		})
	}
}
