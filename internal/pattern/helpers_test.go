package pattern

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// short is how long a test waits to see that something blocks.
const short = 50 * time.Millisecond

func newSock(t testing.TB, typ Type, o Options) Socket {
	t.Helper()
	s, err := New(typ, o)
	if err != nil {
		t.Fatalf("New(%v): %v", typ, err)
	}
	t.Cleanup(s.Close)
	return s
}

// connect joins a and b in memory, as inproc does.
func connect(t testing.TB, a, b Socket, at, bt Type, hwm int) (pa, pb *pipe.Pipe) {
	t.Helper()
	pa = pipe.New(hwm, hwm, a.Readable(), a.Writable(), b.Readable(), b.Writable())
	pb = &pipe.Pipe{In: pa.Out, Out: pa.In}
	pa.SetPeer(&pipe.Peer{SocketType: bt.String()})
	pb.SetPeer(&pipe.Peer{SocketType: at.String()})
	if err := a.Attach(pa); err != nil {
		t.Fatalf("attach a: %v", err)
	}
	if err := b.Attach(pb); err != nil {
		t.Fatalf("attach b: %v", err)
	}
	return pa, pb
}

// raw attaches to s a pipe whose far end the test plays by hand: it
// pushes into p.In what the peer sends and pops from p.Out what s sent.
func raw(t testing.TB, s Socket, hwm int, peer *pipe.Peer) *pipe.Pipe {
	t.Helper()
	p := pipe.New(hwm, hwm, s.Readable(), s.Writable(), nil, nil)
	if peer == nil {
		peer = &pipe.Peer{}
	}
	p.SetPeer(peer)
	if err := s.Attach(p); err != nil {
		t.Fatalf("attach: %v", err)
	}
	return p
}

func timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func msg(frames ...string) pipe.Msg {
	m := pipe.Msg{Frames: make([][]byte, len(frames))}
	for i, f := range frames {
		m.Frames[i] = []byte(f)
	}
	return m
}

func strs(m pipe.Msg) []string {
	out := make([]string, len(m.Frames))
	for i, f := range m.Frames {
		out[i] = string(f)
	}
	return out
}

func send(t testing.TB, s Socket, frames ...string) {
	t.Helper()
	if err := s.Send(timeout(t, 2*time.Second), msg(frames...)); err != nil {
		t.Fatalf("send %q: %v", frames, err)
	}
}

func recv(t testing.TB, s Socket) []string {
	t.Helper()
	m, _, err := s.Recv(timeout(t, 2*time.Second))
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	return strs(m)
}

func expect(t testing.TB, s Socket, want ...string) {
	t.Helper()
	if got := recv(t, s); !slices.Equal(got, want) {
		t.Fatalf("recv = %q, want %q", got, want)
	}
}

// nothing checks that Recv on s finds no message for a short while.
func nothing(t testing.TB, s Socket) {
	t.Helper()
	m, _, err := s.Recv(timeout(t, short))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("recv = %q, %v; want nothing", strs(m), err)
	}
}

// peerSend queues what a raw peer sends.
func peerSend(t testing.TB, p *pipe.Pipe, m pipe.Msg) {
	t.Helper()
	if ok, err := p.In.TryPush(m); !ok {
		t.Fatalf("peer push: full or %v", err)
	}
}

// peerRecv takes what s queued for a raw peer.
func peerRecv(t testing.TB, p *pipe.Pipe) pipe.Msg {
	t.Helper()
	m, ok, _ := p.Out.TryPop()
	if !ok {
		t.Fatalf("nothing queued for the peer")
	}
	return m
}

func popStrs(t testing.TB, p *pipe.Pipe, want ...string) {
	t.Helper()
	if got := strs(peerRecv(t, p)); !slices.Equal(got, want) {
		t.Fatalf("peer got %q, want %q", got, want)
	}
}

func empty(t testing.TB, p *pipe.Pipe) {
	t.Helper()
	if n := p.Out.Len(); n != 0 {
		t.Fatalf("%d messages queued for the peer, want none", n)
	}
}
