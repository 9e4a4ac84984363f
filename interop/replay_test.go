//go:build !windows

package interop

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/security"
)

// recorder is a loopback TCP proxy for one connection: it forwards both
// ways between a client and target, and keeps a copy of what the client
// sent.
type recorder struct {
	l      net.Listener
	target string

	mu   sync.Mutex
	sent bytes.Buffer // client → target, as forwarded
	conn []net.Conn   // both ends, closed by close
	wg   sync.WaitGroup
}

// newRecorder starts a recorder on 127.0.0.1 for the next connection it
// accepts; it is closed when the test ends.
func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{l: l, target: target}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(r.close)
	return r
}

func (r *recorder) addr() string { return r.l.Addr().String() }

func (r *recorder) serve() {
	defer r.wg.Done()
	client, err := r.l.Accept()
	r.l.Close() // one connection only
	if err != nil {
		return
	}
	server, err := net.DialTimeout("tcp", r.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	r.mu.Lock()
	r.conn = append(r.conn, client, server)
	r.mu.Unlock()
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		io.Copy(io.MultiWriter(server, (*lockedWriter)(r)), client)
		server.(*net.TCPConn).CloseWrite()
	}()
	go func() {
		defer r.wg.Done()
		io.Copy(client, server)
		client.(*net.TCPConn).CloseWrite()
	}()
}

// lockedWriter appends to the recorder's copy.
type lockedWriter recorder

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent.Write(p)
}

// recorded is a copy of what the client has sent so far.
func (r *recorder) recorded() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.sent.Bytes())
}

func (r *recorder) close() {
	r.l.Close()
	r.mu.Lock()
	for _, c := range r.conn {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

const (
	// replays is how many times the recorded connection is replayed.
	replays = 2
	// dupWait is how long the test watches for a replayed message.
	dupWait = 1500 * time.Millisecond
)

// TestReplayCurveConnection: an attacker who records a real CURVE client's
// bytes (its HELLO, INITIATE and one MESSAGE, by libzmq) and replays them
// unchanged on new connections, holding no key, gets nowhere: the cookie
// in the replayed INITIATE was sealed with the key of a connection that is
// gone, so the azmq server cannot open it and the handshake fails. The
// message arrives once, and a fresh client is served afterwards.
func TestReplayCurveConnection(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv, cli := newKeys(t), newKeys(t)
	pull := newSocket(t, azmq.PULL, azmq.WithCurveServer(srv.sec))
	w := watch(t, pull)
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(pull.LastEndpoint(), "tcp://")
	clientOpts := map[string]any{"curve_serverkey": srv.pub, "curve_publickey": cli.pub, "curve_secretkey": cli.sec}

	// The real client, through the recorder.
	rec := newRecorder(t, target)
	msg := [][]byte{b("pay-once")}
	p := startPeer(t, spec{Type: "PUSH", Connect: []string{"tcp://" + rec.addr()}, Options: clientOpts,
		Steps: []step{{"op": "send", "frames": hexFrames(msg)}}})
	p.ready()
	checkMsg(t, "the recorded client's message", recv(t, ctx, pull), msg)
	p.wait()
	stream := rec.recorded()
	t.Logf("recorded %d bytes from the libzmq CURVE client", len(stream))

	// The replays: the same bytes, on new connections straight to azmq.
	var addrs []string
	for i := range replays {
		c, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, c.LocalAddr().String())
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(stream); err != nil {
			t.Logf("replay %d: write: %v", i, err)
		}
		c.(*net.TCPConn).CloseWrite() // all sent, as the client did before it left
		// Read what azmq answers (its greeting, a WELCOME) until it closes.
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		t.Logf("replay %d: azmq answered %d bytes and closed", i, n)
	}
	if m := recvWithin(t, ctx, pull, dupWait); m != nil {
		t.Fatalf("a replayed connection delivered %s again", describe(m))
	}
	// Both replayed handshakes fail, in either order.
	failed := map[string]error{}
	w.waitFor(failWait, func(e azmq.Event) bool {
		if e.Kind == azmq.EventHandshakeFailed {
			failed[e.Endpoint] = e.Err
		}
		return len(failed) >= len(addrs)
	})
	for i, addr := range addrs {
		err, ok := failed[addr]
		if !ok {
			t.Fatalf("replay %d: no EventHandshakeFailed for %s; events: %s", i, addr, w)
		}
		if !errors.Is(err, security.ErrCurveAuth) {
			t.Errorf("replay %d: the handshake failed with %v, want security.ErrCurveAuth", i, err)
		}
	}

	// A fresh, legitimate client is served.
	fresh := [][]byte{b("fresh")}
	p = startPeer(t, spec{Type: "PUSH", Connect: []string{pull.LastEndpoint()}, Options: clientOpts,
		Steps: []step{{"op": "send", "frames": hexFrames(fresh)}}})
	p.ready()
	checkMsg(t, "a fresh client's message", recv(t, ctx, pull), fresh)
	p.wait()
}
