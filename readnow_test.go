package azmq

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// soloReads is how often a receiver of s read the connection of s's only
// pipe itself (0 with none or several pipes).
func soloReads(s *Socket) uint64 {
	s.solo.mu.Lock()
	defer s.solo.mu.Unlock()
	if len(s.solo.pipes) != 1 {
		return 0
	}
	for p := range s.solo.pipes {
		return p.In.ReadNows()
	}
	return 0
}

// readsItself: where the receiver can read a connection itself (not on
// Windows, whose sockets are overlapped).
var readsItself = runtime.GOOS != "windows"

// TestRecvReadsConnection: a socket with one peer over tcp or ipc reads
// that peer's connection from Recv's goroutine, and request and reply go
// through whole.
func TestRecvReadsConnection(t *testing.T) {
	for tr, ep := range endpoints(t) {
		if tr == "inproc" {
			continue
		}
		t.Run(tr, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			rep := newSock(t, z, REP)
			req := newSock(t, z, REQ)
			bindConnect(t, rep, req, ep)
			for i := range 300 {
				mustSend(t, ctx, req, fmt.Sprint("ping", i), "two")
				mustRecv(t, ctx, rep, fmt.Sprint("ping", i), "two")
				mustSend(t, ctx, rep, fmt.Sprint("pong", i))
				mustRecv(t, ctx, req, fmt.Sprint("pong", i))
			}
			if !readsItself {
				return
			}
			if n := soloReads(rep); n < 100 {
				t.Errorf("REP read its connection %d times in 300 requests", n)
			}
			if n := soloReads(req); n < 100 {
				t.Errorf("REQ read its connection %d times in 300 replies", n)
			}
		})
	}
}

// warmSolo sends messages from push to pull, one at a time, until pull's
// receiver reads the connection itself.
func warmSolo(t *testing.T, ctx context.Context, push, pull *Socket) {
	t.Helper()
	for i := range 50 {
		mustSend(t, ctx, push, fmt.Sprint("warm", i))
		mustRecv(t, ctx, pull, fmt.Sprint("warm", i))
	}
	if readsItself && soloReads(pull) == 0 {
		t.Fatal("the receiver never read its connection itself")
	}
}

// TestRecvReadsConnectionSecondPeer: a receiver waiting in its one peer's
// connection gets the message of a second peer that comes meanwhile.
func TestRecvReadsConnectionSecondPeer(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	a := newSock(t, z, PUSH)
	bindConnect(t, pull, a, "tcp://127.0.0.1:*")
	warmSolo(t, ctx, a, pull)

	got := make(chan string, 1)
	go func() {
		m, err := pull.Recv(ctx)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(m[0])
	}()
	time.Sleep(50 * time.Millisecond) // Recv waits in a's connection
	b := newSock(t, z, PUSH)
	if err := b.Connect(pull.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, b, "from b")
	select {
	case m := <-got:
		if m != "from b" {
			t.Fatalf("Recv: %q", m)
		}
	case <-ctx.Done():
		t.Fatal("Recv never saw the second peer's message")
	}
	mustSend(t, ctx, a, "from a")
	mustRecv(t, ctx, pull, "from a")
}

// TestRecvReadsConnectionEnds: a receiver waiting in its peer's
// connection returns when its ctx ends, leaving the connection whole, and
// when the socket closes.
func TestRecvReadsConnectionEnds(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	push := newSock(t, z, PUSH)
	bindConnect(t, pull, push, "tcp://127.0.0.1:*")
	warmSolo(t, ctx, push, pull)

	for i := range 5 {
		short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		_, err := pull.Recv(short)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Recv with a deadline: %v", err)
		}
		mustSend(t, ctx, push, fmt.Sprint("after", i))
		mustRecv(t, ctx, pull, fmt.Sprint("after", i))
	}
	if st := pull.Stats(); st.Disconnects != 0 {
		t.Fatalf("%d disconnects: a deadline left behind ended the connection", st.Disconnects)
	}

	errc := make(chan error, 1)
	go func() {
		_, err := pull.Recv(ctx)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	pull.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Recv did not return after Close")
	}
}

// TestRecvReadsConnectionHeartbeat: with heartbeats, a connection whose
// receiver reads it itself, and one lent and left alone, both answer the
// peer's PINGs: nothing times out across pauses longer than the timeout.
func TestRecvReadsConnectionHeartbeat(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	hb := WithHeartbeat(10*time.Millisecond, 60*time.Millisecond, 0)
	rep := newSock(t, z, REP, hb)
	req := newSock(t, z, REQ, hb)
	bindConnect(t, rep, req, "tcp://127.0.0.1:*")
	errc := make(chan error, 1)
	go func() {
		for range 4 {
			m, err := rep.Recv(ctx)
			if err == nil {
				err = rep.Send(ctx, m...)
			}
			if err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range 4 {
		mustSend(t, ctx, req, fmt.Sprint("r", i))
		mustRecv(t, ctx, req, fmt.Sprint("r", i))
		time.Sleep(200 * time.Millisecond) // REP waits in Recv, REQ does nothing
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Socket{req, rep} {
		if st := s.Stats(); st.Disconnects != 0 {
			t.Errorf("%v: %d disconnects", s.Type(), st.Disconnects)
		}
	}
}
