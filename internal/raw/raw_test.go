package raw

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// wait bounds every wait of these tests.
const wait = 10 * time.Second

// tcpPair returns both ends of a fresh loopback connection: ours for the
// Conn, theirs played by the test. Both are closed at the end.
func tcpPair(t *testing.T) (ours, theirs net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type res struct {
		c   net.Conn
		err error
	}
	acc := make(chan res, 1)
	go func() {
		c, err := l.Accept()
		acc <- res{c, err}
	}()
	theirs, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-acc
	if r.err != nil {
		theirs.Close()
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.c.Close(); theirs.Close() })
	return r.c, theirs
}

// start runs c on p; the result comes on the channel, which the test must
// read (or the cleanup does, after closing c).
func start(t *testing.T, c *Conn, p *pipe.Pipe) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	ended := make(chan struct{})
	go func() {
		done <- c.Run(p)
		close(ended)
	}()
	t.Cleanup(func() {
		c.Close()
		select {
		case <-ended:
		case <-time.After(wait):
			t.Errorf("Run still running %v after Close", wait)
		}
	})
	return done
}

func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(wait):
		t.Fatalf("Run did not return within %v", wait)
		return nil
	}
}

// readAll reads theirs until EOF, within wait.
func readAll(t *testing.T, theirs net.Conn) []byte {
	t.Helper()
	theirs.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(theirs)
	if err != nil {
		t.Fatalf("peer read: %v (after %d bytes)", err, len(b))
	}
	return b
}

// popAll takes messages from q until it holds n bytes in all, checking
// that each is one frame of 1..ReadSize bytes.
func popAll(t *testing.T, q *pipe.Queue, n int) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var got []byte
	for len(got) < n {
		m, err := q.Pop(ctx, nil)
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", len(got), n, err)
		}
		if len(m.Frames) != 1 || len(m.Frames[0]) == 0 || len(m.Frames[0]) > ReadSize {
			t.Fatalf("a read became %d frame(s) of %d bytes; want one of 1..%d", len(m.Frames), size(&m), ReadSize)
		}
		got = append(got, m.Frames[0]...)
	}
	return got
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func TestHandshake(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		addr    string
		wantErr error
	}{
		{"with address", context.Background(), "127.0.0.1", nil},
		{"no address", context.Background(), "", nil},
		{"ended ctx", ended, "127.0.0.1", context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours, theirs := tcpPair(t)
			c := New(ours, tc.addr)
			defer c.Close()
			peer, err := c.Handshake(tc.ctx)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Handshake = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				// Refused: the connection is closed.
				theirs.SetReadDeadline(time.Now().Add(wait))
				if n, rerr := theirs.Read(make([]byte, 1)); rerr != io.EOF {
					t.Fatalf("peer read after a refused handshake = %d, %v; want EOF", n, rerr)
				}
				return
			}
			if peer.SocketType != "" || len(peer.RoutingID) != 0 {
				t.Fatalf("peer = %+v: a raw peer has no type or id", peer)
			}
			got, ok := peer.Property("Peer-Address")
			if ok != (tc.addr != "") || got != tc.addr {
				t.Fatalf("Peer-Address = %q, %v; want %q", got, ok, tc.addr)
			}
			// Nothing was written: no greeting.
			theirs.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if n, rerr := theirs.Read(make([]byte, 1)); n != 0 || !errors.Is(rerr, os.ErrDeadlineExceeded) {
				t.Fatalf("peer read = %d, %v; want nothing", n, rerr)
			}
		})
	}
}

// TestRead: what the peer writes arrives as chunks of at most ReadSize,
// in order, and the peer's close ends Run with io.EOF.
func TestRead(t *testing.T) {
	for _, n := range []int{1, 100, ReadSize, ReadSize + 1, 1 << 20} {
		t.Run("", func(t *testing.T) {
			ours, theirs := tcpPair(t)
			p := pipe.New(0, 0, nil, nil, nil, nil)
			done := start(t, New(ours, ""), p)
			data := seq(n)
			if _, err := theirs.Write(data); err != nil {
				t.Fatal(err)
			}
			theirs.Close()
			if got := popAll(t, p.In, n); !bytes.Equal(got, data) {
				t.Fatalf("%d bytes arrived as %d bytes, or reordered", n, len(got))
			}
			if err := result(t, done); !errors.Is(err, io.EOF) {
				t.Fatalf("Run = %v, want io.EOF", err)
			}
			if l := p.In.Len(); l != 0 {
				t.Fatalf("%d messages after the data", l)
			}
		})
	}
}

// TestWrite: messages are written as they are, in order; with p.Out closed
// and drained Run returns nil and the connection is closed.
func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		msgs [][][]byte
	}{
		{"one", [][][]byte{{[]byte("hello")}}},
		{"many", func() [][][]byte {
			var ms [][][]byte
			for i := range 1000 {
				ms = append(ms, [][]byte{{byte(i), byte(i >> 8)}})
			}
			return ms
		}()},
		{"large", [][][]byte{{seq(3 << 20)}, {[]byte("tail")}}},
		{"frames joined", [][][]byte{{[]byte("ab"), nil, []byte("cd")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours, theirs := tcpPair(t)
			p := pipe.New(0, 0, nil, nil, nil, nil)
			var want []byte
			for _, m := range tc.msgs {
				if ok, err := p.Out.TryPush(pipe.Msg{Frames: m}); !ok {
					t.Fatal(err)
				}
				for _, f := range m {
					want = append(want, f...)
				}
			}
			done := start(t, New(ours, ""), p)
			p.Out.Close() // the socket's linger: write all, then end
			if got := readAll(t, theirs); !bytes.Equal(got, want) {
				t.Fatalf("peer got %d bytes, want %d (or reordered)", len(got), len(want))
			}
			if err := result(t, done); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
		})
	}
}

// TestHangup: an empty message closes the connection once what came
// before it is written; what comes after it is not.
func TestHangup(t *testing.T) {
	ours, theirs := tcpPair(t)
	p := pipe.New(0, 0, nil, nil, nil, nil)
	big := seq(2 << 20)
	for _, f := range [][]byte{[]byte("one"), big, {}, []byte("after")} {
		p.Out.TryPush(pipe.Msg{Frames: [][]byte{f}})
	}
	done := start(t, New(ours, ""), p)
	want := append([]byte("one"), big...)
	if got := readAll(t, theirs); !bytes.Equal(got, want) {
		t.Fatalf("peer got %d bytes, want %d", len(got), len(want))
	}
	if err := result(t, done); !errors.Is(err, ErrHangup) {
		t.Fatalf("Run = %v, want ErrHangup", err)
	}
}

// TestBackpressure: with the pipe full, the connection is not read: the
// peer's writes stall, and no more than HWM chunks wait.
func TestBackpressure(t *testing.T) {
	const hwm = 2
	const limit = 256 << 20 // far past what the kernel buffers hold
	ours, theirs := tcpPair(t)
	p := pipe.New(0, hwm, nil, nil, nil, nil)
	done := start(t, New(ours, ""), p)

	// The peer writes until a write makes no progress for 300 ms.
	wrote := make(chan int, 1)
	go func() {
		block := seq(64 << 10)
		total := 0
		for total < limit {
			theirs.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
			n, err := theirs.Write(block[:min(len(block), limit-total)])
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
	case <-time.After(wait):
		theirs.Close()
		<-wrote
		t.Fatalf("the peer's writes never stalled")
	}
	if total >= limit {
		t.Fatalf("the peer wrote all %d bytes: nothing held it back", total)
	}
	if n := p.In.Len(); n > hwm {
		t.Fatalf("%d chunks queued, HWM %d", n, hwm)
	}
	t.Logf("the peer stalled after %d bytes", total)
	// Reading again resumes the flow, in order.
	theirs.SetWriteDeadline(time.Time{})
	theirs.(*net.TCPConn).CloseWrite()
	got := popAll(t, p.In, total)
	for i, b := range got {
		if b != byte((i%(64<<10))%251) {
			t.Fatalf("byte %d is %d: out of order", i, b)
		}
	}
	if err := result(t, done); !errors.Is(err, io.EOF) {
		t.Fatalf("Run = %v, want io.EOF", err)
	}
}

// TestAbort: Run returns Abort's reason.
func TestAbort(t *testing.T) {
	ours, _ := tcpPair(t)
	c := New(ours, "")
	done := start(t, c, pipe.New(0, 0, nil, nil, nil, nil))
	why := errors.New("limit broken")
	c.Abort(why)
	if err := result(t, done); !errors.Is(err, why) {
		t.Fatalf("Run = %v, want %v", err, why)
	}
}

// TestCloseWhileWriting: Close ends Run even with the writer stuck on a
// peer that does not read.
func TestCloseWhileWriting(t *testing.T) {
	ours, _ := tcpPair(t)
	p := pipe.New(0, 0, nil, nil, nil, nil)
	for range 64 {
		p.Out.TryPush(pipe.Msg{Frames: [][]byte{make([]byte, 1<<20)}})
	}
	c := New(ours, "")
	done := start(t, c, p)
	time.Sleep(50 * time.Millisecond) // let the writer fill the window
	c.Close()
	// Whatever the write failed with, Run has returned: result bounds it.
	result(t, done)
}

// TestInClosed: a closed p.In stops only the reading: the writer still
// writes until p.Out is closed and drained.
func TestInClosed(t *testing.T) {
	ours, theirs := tcpPair(t)
	p := pipe.New(0, 0, nil, nil, nil, nil)
	p.In.Close()
	done := start(t, New(ours, ""), p)
	if _, err := theirs.Write([]byte("ignored")); err != nil {
		t.Fatal(err)
	}
	p.Out.TryPush(pipe.Msg{Frames: [][]byte{[]byte("still written")}})
	p.Out.Close()
	got := make([]byte, len("still written"))
	theirs.SetReadDeadline(time.Now().Add(wait))
	if n, err := io.ReadFull(theirs, got); err != nil || string(got) != "still written" {
		t.Fatalf("peer got %q, %v (%d bytes)", got[:n], err, n)
	}
	// Then the end: EOF, or a reset where the connection closed before
	// its reader took "ignored" (TCP resets a close with input unread),
	// but not the deadline (the connection left open).
	if n, err := theirs.Read(got); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the message: %d bytes, %v; want the connection's end", n, err)
	}
	if err := result(t, done); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}
