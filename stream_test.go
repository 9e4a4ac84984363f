package azmq

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// newStream makes a STREAM in a Context of its own; both are closed when
// the test ends.
func newStream(t *testing.T, opts ...SocketOption) *Socket {
	t.Helper()
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	return newSock(t, z, STREAM, opts...)
}

// streamNote receives a notification [id, ""] and returns the id.
func streamNote(t *testing.T, ctx context.Context, s *Socket) ([]byte, Msg) {
	t.Helper()
	m, err := s.RecvMsg(ctx)
	if err != nil {
		t.Fatalf("STREAM Recv: %v", err)
	}
	if len(m.Frames) != 2 || len(m.Frames[0]) != 5 || m.Frames[0][0] != 0 || len(m.Frames[1]) != 0 {
		t.Fatalf("STREAM Recv = %q, want a notification [00+4 bytes, \"\"]", m.Frames)
	}
	return m.Frames[0], m
}

// streamData receives n bytes from the connection id, in as many reads
// as they came in, each at most 8 KiB.
func streamData(t *testing.T, ctx context.Context, s *Socket, id []byte, n int) []byte {
	t.Helper()
	var got []byte
	for len(got) < n {
		m, err := s.Recv(ctx)
		if err != nil {
			t.Fatalf("STREAM Recv after %d of %d bytes: %v", len(got), n, err)
		}
		if len(m) != 2 || !bytes.Equal(m[0], id) || len(m[1]) == 0 || len(m[1]) > 8<<10 {
			t.Fatalf("STREAM Recv after %d of %d bytes = %d frames (%q...), want [%x, 1..8192 bytes]", len(got), n, len(m), m[0], id)
		}
		got = append(got, m[1]...)
	}
	return got
}

// streamEndpoints are where a STREAM binds in these tests, with the
// network a plain client dials.
func streamEndpoints(t *testing.T) map[string]string {
	eps := map[string]string{"tcp": "tcp://127.0.0.1:*"}
	if afUnix(t) {
		eps["unix"] = "ipc://" + filepath.Join(t.TempDir(), "s.ipc")
	}
	return eps
}

// dialPlain dials a STREAM's bound endpoint as a program that knows
// nothing of ZeroMQ.
func dialPlain(t *testing.T, network string, s *Socket) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(strings.TrimPrefix(s.LastEndpoint(), "tcp://"), "ipc://")
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readFull reads n bytes within 10 s.
func readFull(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("plain peer read: %v", err)
	}
	return b
}

// TestStreamServerNotifications: a plain client's connection shows as
// [id, ""], its bytes as [id, data], its close as [id, ""] after them.
func TestStreamServerNotifications(t *testing.T) {
	for network, ep := range streamEndpoints(t) {
		t.Run(network, func(t *testing.T) {
			ctx := testCtx(t)
			s := newStream(t)
			if err := s.Bind(ep); err != nil {
				t.Fatal(err)
			}
			c := dialPlain(t, network, s)
			id, note := streamNote(t, ctx, s)
			if network == "tcp" {
				if addr, _ := note.Property("Peer-Address"); addr != "127.0.0.1" {
					t.Fatalf("Peer-Address of the notification = %q", addr)
				}
			}
			if _, err := c.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			if got := streamData(t, ctx, s, id, 5); string(got) != "hello" {
				t.Fatalf("got %q", got)
			}
			mustSend(t, ctx, s, string(id), "hi there")
			if got := readFull(t, c, 8); string(got) != "hi there" {
				t.Fatalf("plain peer got %q", got)
			}
			if _, err := c.Write([]byte("bye")); err != nil {
				t.Fatal(err)
			}
			c.Close()
			if got := streamData(t, ctx, s, id, 3); string(got) != "bye" {
				t.Fatalf("got %q", got)
			}
			if gone, _ := streamNote(t, ctx, s); !bytes.Equal(gone, id) {
				t.Fatalf("disconnection of %x, want %x", gone, id)
			}
			err := s.Send(ctx, id, []byte("late"))
			if !errors.Is(err, ErrHostUnreachable) {
				t.Fatalf("Send to a closed connection = %v, want ErrHostUnreachable", err)
			}
		})
	}
}

// TestStreamClient: a STREAM connects to a plain server; the connection
// shows when it is up, and again after the server closed it and azmq
// redialled; closing it with an empty frame ends the Connect.
func TestStreamClient(t *testing.T) {
	eps := map[string]string{"tcp": "127.0.0.1:0"}
	if afUnix(t) {
		eps["unix"] = filepath.Join(t.TempDir(), "srv.sock")
	}
	for network, addr := range eps {
		t.Run(network, func(t *testing.T) {
			ctx := testCtx(t)
			l, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			conns := make(chan net.Conn, 4)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(conns)
				for i := 0; i < cap(conns); i++ {
					c, err := l.Accept()
					if err != nil {
						return
					}
					conns <- c
				}
			}()
			defer func() {
				// Connections accepted and not taken by the test.
				for c := range conns {
					c.Close()
				}
			}()
			defer wg.Wait()
			defer l.Close()
			next := func() net.Conn {
				t.Helper()
				select {
				case c := <-conns:
					if c == nil {
						t.Fatal("listener closed")
					}
					t.Cleanup(func() { c.Close() })
					return c
				case <-time.After(10 * time.Second):
					t.Fatal("no connection within 10s")
				}
				return nil
			}

			s := newStream(t, WithReconnectInterval(20*time.Millisecond))
			scheme := map[string]string{"tcp": "tcp://", "unix": "ipc://"}[network]
			if err := s.Connect(scheme + l.Addr().String()); err != nil {
				t.Fatal(err)
			}
			srv := next()
			id, _ := streamNote(t, ctx, s)
			mustSend(t, ctx, s, string(id), "ping")
			if got := readFull(t, srv, 4); string(got) != "ping" {
				t.Fatalf("server got %q", got)
			}
			if _, err := srv.Write([]byte("pong")); err != nil {
				t.Fatal(err)
			}
			if got := streamData(t, ctx, s, id, 4); string(got) != "pong" {
				t.Fatalf("got %q", got)
			}

			// The server closes: azmq tells, and dials again, under a new id.
			srv.Close()
			if gone, _ := streamNote(t, ctx, s); !bytes.Equal(gone, id) {
				t.Fatalf("disconnection of %x, want %x", gone, id)
			}
			srv = next()
			id2, _ := streamNote(t, ctx, s)
			if bytes.Equal(id2, id) {
				t.Fatalf("the new connection has the old id %x", id)
			}

			// azmq closes: the server sees EOF, and no new connection comes.
			mustSend(t, ctx, s, string(id2), "")
			srv.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := srv.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("server read after the close = %d, %v; want EOF", n, err)
			}
			select {
			case c := <-conns:
				if c != nil {
					c.Close()
					t.Fatal("azmq dialled again after closing the connection itself")
				}
			case <-time.After(300 * time.Millisecond): // 15 reconnect intervals
			}
		})
	}
}

// TestStreamEmptyFrameCloses: [id, ""] closes the connection after what
// was sent before it; no notification follows, and the id is unknown.
func TestStreamEmptyFrameCloses(t *testing.T) {
	ctx := testCtx(t)
	s := newStream(t)
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	c := dialPlain(t, "tcp", s)
	id, _ := streamNote(t, ctx, s)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := s.Send(ctx, id, big); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("plain peer read %d bytes, %v; want %d then EOF", len(got), err, len(big))
	}
	if err := s.Send(ctx, id, []byte("x")); !errors.Is(err, ErrHostUnreachable) {
		t.Fatalf("Send after the close = %v, want ErrHostUnreachable", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if m, err := s.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv = %q, %v; want nothing after a close of our own", m, err)
	}
}

// TestStreamSendErrors: what a STREAM cannot send, and where it cannot go.
func TestStreamSendErrors(t *testing.T) {
	ctx := testCtx(t)
	s := newStream(t)
	for _, tc := range []struct {
		name  string
		parts [][]byte
		want  error
		says  string
	}{
		{"unknown id", [][]byte{{0, 1, 2, 3, 4}, []byte("x")}, ErrHostUnreachable, "0001020304"},
		{"unknown id, close", [][]byte{{0, 1, 2, 3, 4}, nil}, ErrHostUnreachable, "0001020304"},
		{"id alone", [][]byte{{0, 1, 2, 3, 4}}, ErrNotSupported, "[routing id, data]"},
		{"two data frames", [][]byte{{0, 1, 2, 3, 4}, []byte("a"), []byte("b")}, ErrNotSupported, "[routing id, data]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Send(ctx, tc.parts...)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Send = %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
	for _, tc := range []struct {
		name string
		do   func(string) error
	}{
		{"Bind", s.Bind},
		{"Connect", s.Connect},
	} {
		if err := tc.do("inproc://stream"); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "inproc") {
			t.Fatalf("%s(inproc) = %v, want ErrNotSupported naming inproc", tc.name, err)
		}
	}
}

// TestStreamHTTP: a STREAM answers Go's HTTP client, which knows nothing
// of ZeroMQ.
func TestStreamHTTP(t *testing.T) {
	ctx := testCtx(t)
	s := newStream(t)
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serveHTTP(srvCtx, s) }()
	defer func() {
		stop()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("server: %v", err)
		}
	}()

	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := "http://" + strings.TrimPrefix(s.LastEndpoint(), "tcp://")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range cap(errs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/page/%d", i)
			resp, err := client.Get(base + path)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				errs <- err
				return
			}
			if resp.StatusCode != 200 || string(body) != "you asked for "+path {
				errs <- fmt.Errorf("GET %s: %s %q", path, resp.Status, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// serveHTTP answers each request it reads on s with a short page, then
// closes that connection. It returns when ctx ends or s fails.
func serveHTTP(ctx context.Context, s *Socket) error {
	reqs := map[string][]byte{} // what each connection sent so far
	for {
		m, err := s.Recv(ctx)
		if err != nil {
			return err
		}
		id, data := string(m[0]), m[1]
		if len(data) == 0 { // a connection came or went
			delete(reqs, id)
			continue
		}
		reqs[id] = append(reqs[id], data...)
		if !bytes.Contains(reqs[id], []byte("\r\n\r\n")) {
			continue
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(reqs[id])))
		delete(reqs, id)
		if err != nil {
			return err
		}
		body := "you asked for " + req.URL.Path
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		if err := s.Send(ctx, m[0], []byte(resp)); err != nil {
			return err
		}
		// The client may read the page and close first: then the id is
		// already gone, as libzmq says too (EHOSTUNREACH).
		if err := s.Send(ctx, m[0], nil); err != nil && !errors.Is(err, ErrHostUnreachable) {
			return err
		}
	}
}

// TestStreamManyConnections: each of many plain clients gets its own id,
// and what is sent to that id reaches it alone.
func TestStreamManyConnections(t *testing.T) {
	const n = 64
	ctx := testCtx(t)
	s := newStream(t)
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	clients := make([]net.Conn, n)
	for i := range clients {
		clients[i] = dialPlain(t, "tcp", s)
	}
	// Each client says who it is; the STREAM echoes to the id it came from.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := fmt.Sprintf("client %02d", i)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write([]byte(msg)); err != nil {
				errs <- err
				return
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
				errs <- fmt.Errorf("%s got %q back, %v", msg, got, err)
			}
		}()
	}
	ids := map[string]bool{}
	pending := map[string][]byte{}
	for done := 0; done < n; {
		m := mustRecv(t, ctx, s)
		id := string(m[0])
		if len(m[1]) == 0 {
			if ids[id] {
				t.Fatalf("a second notification for %x", m[0])
			}
			ids[id] = true
			continue
		}
		if !ids[id] {
			t.Fatalf("data from %x before its notification", m[0])
		}
		pending[id] = append(pending[id], m[1]...)
		if len(pending[id]) == len("client 00") {
			mustSend(t, ctx, s, id, string(pending[id]))
			done++
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(ids) != n {
		t.Fatalf("%d ids for %d connections", len(ids), n)
	}
}

// TestStreamBackpressure: a peer that writes while nobody receives stalls
// once WithRecvHWM reads wait; the socket's memory stays bounded, and
// every byte arrives in order once it receives again.
func TestStreamBackpressure(t *testing.T) {
	const (
		hwm   = 4
		limit = 1 << 30 // far past what kernel buffers hold
		bound = 8 << 20 // generous: hwm reads of 8 KiB are 32 KiB
	)
	ctx := testCtx(t)
	s := newStream(t, WithRecvHWM(hwm))
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	c := dialPlain(t, "tcp", s)
	id, _ := streamNote(t, ctx, s)
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i % 251)
	}
	before := measureMem()
	wrote := make(chan int, 1)
	go func() {
		total := 0
		for total < limit {
			// A write that makes no progress for 300 ms: stalled.
			c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
			n, err := c.Write(block)
			total += n
			if err != nil {
				break
			}
		}
		wrote <- total
	}()
	var total int
	select {
	case total = <-wrote:
	case <-time.After(20 * time.Second):
		c.Close()
		<-wrote
		t.Fatal("the peer's writes never stalled")
	}
	after := measureMem()
	t.Logf("the peer stalled after %s; the process keeps %s more", mib(uint64(total)), kib(growth(before, after)))
	if total >= limit {
		t.Fatalf("the peer wrote all %s: nothing held it back", mib(limit))
	}
	if g := growth(before, after); g > bound {
		t.Fatalf("the process keeps %s more, bound %s", mib(g), mib(bound))
	}
	// Receiving again lets the rest through, in order.
	c.(*net.TCPConn).CloseWrite()
	got := streamData(t, ctx, s, id, total)
	for i, b := range got {
		if b != byte((i%len(block))%251) {
			t.Fatalf("byte %d of %d is %d: out of order", i, total, b)
		}
	}
	if gone, _ := streamNote(t, ctx, s); !bytes.Equal(gone, id) {
		t.Fatalf("disconnection of %x, want %x", gone, id)
	}
}

// TestStreamRefusesSecurity: a STREAM has no handshake, so PLAIN or CURVE
// on it would protect nothing; NewSocket says so.
func TestStreamRefusesSecurity(t *testing.T) {
	z := NewContext()
	defer z.Close()
	_, secret, err := NewCurveKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range []SocketOption{WithPlainServer(), WithPlainClient("u", "p"), WithCurveServer(secret)} {
		if s, err := z.NewSocket(STREAM, opt); !errors.Is(err, ErrNotSupported) {
			if s != nil {
				s.Close()
			}
			t.Errorf("NewSocket(STREAM, security) = %v, want ErrNotSupported", err)
		}
	}
}
