//go:build !windows

package interop

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// ZMTP 2.0 peers (libzmq 3.x, JeroMQ up to 0.3) are served with 2.0's
// framing and identity handshake, as libzmq 4 serves them. Debian's
// libjeromq-java (JeroMQ 0.3.6) is such a peer: interop/jeromq/Peer.java,
// run by a headless JDK as a single-file program.

// jeromqJar is where Debian's libjeromq-java puts JeroMQ.
const jeromqJar = "/usr/share/java/jeromq.jar"

// jeromqAvailable finds java and JeroMQ, once per run.
var jeromqAvailable = sync.OnceValues(func() (string, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("no java on PATH: %w", err)
	}
	if _, err := os.Stat(jeromqJar); err != nil {
		return "", fmt.Errorf("no JeroMQ: %w", err)
	}
	return java, nil
})

// requireJeroMQ skips the test when the JeroMQ peer cannot run, or fails
// it when AZMQ_INTEROP=1 says the peer must be there.
func requireJeroMQ(t *testing.T) {
	t.Helper()
	if _, err := jeromqAvailable(); err != nil {
		const how = "apt-get install -y libjeromq-java default-jdk-headless, or scripts/deps.sh jeromq"
		if os.Getenv("AZMQ_INTEROP") == "1" {
			t.Fatalf("JeroMQ peer required (AZMQ_INTEROP=1) but unavailable: %v; install it with: %s", err, how)
		}
		t.Skipf("JeroMQ peer unavailable, skipping: %v (%s; AZMQ_INTEROP=1 turns this skip into a failure)", err, how)
	}
}

// startJeroMQ starts Peer.java with the spec, as startPeer does peer.py.
func startJeroMQ(t *testing.T, sp spec) *peer {
	t.Helper()
	requireJeroMQ(t)
	java, _ := jeromqAvailable()
	src, err := filepath.Abs(filepath.Join("jeromq", "Peer.java"))
	if err != nil {
		t.Fatal(err)
	}
	// A small heap and no JIT tiers beyond the first: the JVM starts
	// faster, and these peers move little.
	return startProcess(t, "JeroMQ "+sp.Type, sp, java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-Xmx64m", "-cp", jeromqJar, src)
}

// jeromqLink is linkWith for the JeroMQ peer over tcp.
func jeromqLink(t *testing.T, s *azmq.Socket, sp spec, azmqBinds bool) *peer {
	t.Helper()
	return linkWith(t, s, sp, topo{"tcp", azmqBinds}, startJeroMQ)
}

// jeromqSides names both ways round.
var jeromqSides = []struct {
	name      string
	azmqBinds bool
}{{"azmq-binds", true}, {"jeromq-binds", false}}

// jeromqMsgs covers 2.0's framing: multipart, empty frames, and bodies
// past 255 bytes (the LONG size).
var jeromqMsgs = [][][]byte{
	{b("hello")},
	{b("multi"), b("part"), {}, b("end")},
	{pattern(256, 1)},
	{b("head"), pattern(70000, 2)},
	{{}},
}

func TestJeroMQPipeline(t *testing.T) {
	for _, side := range jeromqSides {
		t.Run("azmq-PUSH/"+side.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			push := newSocket(t, azmq.PUSH)
			p := jeromqLink(t, push, spec{Type: "PULL"}, side.azmqBinds)
			for _, m := range jeromqMsgs {
				send(t, ctx, push, m)
			}
			p.do(step{"op": "recv", "count": len(jeromqMsgs)})
			for i, want := range jeromqMsgs {
				checkMsg(t, fmt.Sprintf("JeroMQ received message %d", i), p.recvMsg(), want)
			}
			p.stdin.Close()
			p.wait()
		})
		t.Run("azmq-PULL/"+side.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			pull := newSocket(t, azmq.PULL)
			p := jeromqLink(t, pull, spec{Type: "PUSH"}, side.azmqBinds)
			for _, m := range jeromqMsgs {
				p.do(step{"op": "send", "frames": hexFrames(m)})
			}
			for i, want := range jeromqMsgs {
				checkMsg(t, fmt.Sprintf("azmq received message %d", i), recv(t, ctx, pull), want)
			}
			p.stdin.Close()
			p.wait()
		})
	}
}

func TestJeroMQReqRep(t *testing.T) {
	for _, side := range jeromqSides {
		t.Run("azmq-REQ/"+side.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			req := newSocket(t, azmq.REQ)
			p := jeromqLink(t, req, spec{Type: "REP"}, side.azmqBinds)
			p.do(step{"op": "echo", "count": len(jeromqMsgs)})
			for i, m := range jeromqMsgs {
				send(t, ctx, req, m)
				checkMsg(t, fmt.Sprintf("reply %d", i), recv(t, ctx, req), m)
				checkMsg(t, fmt.Sprintf("JeroMQ's request %d", i), p.recvMsg(), m)
			}
			p.stdin.Close()
			p.wait()
		})
		t.Run("azmq-REP/"+side.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			rep := newSocket(t, azmq.REP)
			p := jeromqLink(t, rep, spec{Type: "REQ"}, side.azmqBinds)
			for i, m := range jeromqMsgs {
				p.do(step{"op": "send", "frames": hexFrames(m)})
				got := recv(t, ctx, rep)
				checkMsg(t, fmt.Sprintf("request %d", i), got, m)
				reply := append([][]byte{b("re")}, got...)
				send(t, ctx, rep, reply)
				p.do(step{"op": "recv"})
				checkMsg(t, fmt.Sprintf("JeroMQ's reply %d", i), p.recvMsg(), reply)
			}
			p.stdin.Close()
			p.wait()
		})
	}
}

// TestJeroMQIdentity: the identity a 2.0 peer sends in its handshake is
// its routing id at an azmq ROUTER, and azmq's is JeroMQ's at a JeroMQ
// ROUTER.
func TestJeroMQIdentity(t *testing.T) {
	for _, side := range jeromqSides {
		t.Run("azmq-ROUTER/"+side.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			router := newSocket(t, azmq.ROUTER)
			p := jeromqLink(t, router, spec{Type: "DEALER", Options: map[string]any{"routing_id": "6a71"}}, side.azmqBinds)
			p.do(step{"op": "send", "frames": []string{"6869"}})
			checkMsg(t, "ROUTER received", recv(t, ctx, router), [][]byte{b("jq"), b("hi")})
			send(t, ctx, router, [][]byte{b("jq"), b("back")})
			p.do(step{"op": "recv"})
			checkMsg(t, "DEALER received", p.recvMsg(), [][]byte{b("back")})
			p.stdin.Close()
			p.wait()
		})
		t.Run("azmq-DEALER/"+side.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			dealer := newSocket(t, azmq.DEALER, azmq.WithRoutingID([]byte("az")))
			p := jeromqLink(t, dealer, spec{Type: "ROUTER"}, side.azmqBinds)
			send(t, ctx, dealer, [][]byte{b("hi")})
			p.do(step{"op": "recv"})
			checkMsg(t, "ROUTER received", p.recvMsg(), [][]byte{b("az"), b("hi")})
			p.stdin.Close()
			p.wait()
		})
	}
}

// TestJeroMQPubSub: subscriptions cross 2.0 links as data frames
// (01+topic) both ways, so a PUB filters for a 2.0 SUB and a 2.0 PUB
// sends to an azmq SUB; a PUB sends nothing before the subscription
// arrives, hence the repeated sends.
func TestJeroMQPubSub(t *testing.T) {
	for _, side := range jeromqSides {
		t.Run("azmq-PUB/"+side.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			pub := newSocket(t, azmq.PUB)
			p := jeromqLink(t, pub, spec{Type: "SUB", Options: map[string]any{"subscribe": []string{"41"}}}, side.azmqBinds)
			p.do(step{"op": "recv"})
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for range 1000 { // 20 s at most
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					// Errors end the test elsewhere: the peer's line is awaited.
					_ = pub.Send(ctx, b("B-not-this"))
					_ = pub.Send(ctx, b("A-this"))
				}
			}()
			got := p.recvMsg()
			close(stop)
			<-done
			checkMsg(t, "JeroMQ SUB received", got, [][]byte{b("A-this")})
		})
		t.Run("azmq-SUB/"+side.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			sub := newSocket(t, azmq.SUB)
			if err := sub.Subscribe(b("A")); err != nil {
				t.Fatal(err)
			}
			p := jeromqLink(t, sub, spec{Type: "PUB"}, side.azmqBinds)
			var got [][]byte
			for i := 0; i < 100 && got == nil; i++ { // 10 s at most
				p.do(step{"op": "send", "frames": []string{hex.EncodeToString(b("B-not-this"))}})
				p.do(step{"op": "send", "frames": []string{hex.EncodeToString(b("A-this"))}})
				got = recvWithin(t, ctx, sub, 100*time.Millisecond)
			}
			if got == nil {
				t.Fatal("nothing from the JeroMQ PUB: did our subscription reach it?")
			}
			checkMsg(t, "azmq SUB received", got, [][]byte{b("A-this")})
		})
	}
}

// TestJeroMQRefusedBySecurity: ZMTP 2.0 has no security mechanism, so a
// PLAIN or CURVE socket, or a NULL one with a ZAP domain, refuses the
// peer, as libzmq does, and says why; nothing passes.
func TestJeroMQRefusedBySecurity(t *testing.T) {
	srv := newKeys(t)
	cli := newKeys(t)
	cases := []struct {
		name string
		opts []azmq.SocketOption
		want string
	}{
		{"plain-server", []azmq.SocketOption{azmq.WithPlainServer()}, "uses PLAIN"},
		{"plain-client", []azmq.SocketOption{azmq.WithPlainClient("admin", "secret")}, "uses PLAIN"},
		{"curve-server", []azmq.SocketOption{azmq.WithCurveServer(srv.sec)}, "uses CURVE"},
		{"curve-client", []azmq.SocketOption{azmq.WithCurveClient(srv.pub, cli.pub, cli.sec)}, "uses CURVE"},
		{"null-zap-domain", []azmq.SocketOption{azmq.WithZAPDomain("global")}, "ZAP domain"},
	}
	for _, tc := range cases {
		for _, side := range jeromqSides {
			t.Run(tc.name+"/"+side.name, func(t *testing.T) {
				t.Parallel()
				ctx := testCtx(t)
				pull := newSocket(t, azmq.PULL, append(tc.opts, azmq.WithLinger(0))...)
				w := watch(t, pull)
				p := jeromqLink(t, pull, spec{Type: "PUSH"}, side.azmqBinds)
				ev := w.handshakeFailed("azmq "+tc.name, "ZMTP 2.0")
				if !strings.Contains(ev.Err.Error(), tc.want) {
					t.Errorf("refusal %q does not say %q", ev.Err, tc.want)
				}
				// JeroMQ queues the message for a peer that never
				// completes; azmq must not deliver it.
				p.do(step{"op": "send", "frames": []string{"6869"}})
				if m := recvWithin(t, ctx, pull, noMsgWait); m != nil {
					t.Fatalf("a refused ZMTP 2.0 peer's message arrived: %s", describe(m))
				}
			})
		}
	}
}

// TestJeroMQOverLimit: a 2.0 peer's frame past WithMaxMsgSize ends its
// connection, as a 3.x one's does; the messages within it arrive.
func TestJeroMQOverLimit(t *testing.T) {
	ctx := testCtx(t)
	pull := newSocket(t, azmq.PULL, azmq.WithMaxMsgSize(1000))
	w := watch(t, pull)
	p := jeromqLink(t, pull, spec{Type: "PUSH"}, true)
	p.do(step{"op": "send", "frames": hexFrames([][]byte{pattern(1000, 3)})})
	checkMsg(t, "message at the limit", recv(t, ctx, pull), [][]byte{pattern(1000, 3)})
	p.do(step{"op": "send", "frames": hexFrames([][]byte{pattern(1001, 4)})})
	ev, ok := w.waitFor(failWait, func(ev azmq.Event) bool {
		return ev.Kind == azmq.EventDisconnected && ev.Err != nil
	})
	if !ok {
		t.Fatalf("no EventDisconnected for a frame past the limit; events: %s", w)
	}
	if !strings.Contains(ev.Err.Error(), "larger than the maximum") {
		t.Errorf("disconnected for %v, want the size limit", ev.Err)
	}
	if m := recvWithin(t, ctx, pull, 300*time.Millisecond); m != nil && bytes.Equal(m[0], pattern(1001, 4)) {
		t.Fatal("the message past the limit arrived")
	}
}
