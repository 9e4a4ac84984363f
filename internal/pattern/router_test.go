package pattern

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

func TestRouterIDs(t *testing.T) {
	r := newSock(t, ROUTER, Options{})
	named := raw(t, r, 10, &pipe.Peer{SocketType: "DEALER", RoutingID: []byte("alice")})
	anon1 := raw(t, r, 10, &pipe.Peer{SocketType: "DEALER"})
	anon2 := raw(t, r, 10, &pipe.Peer{SocketType: "DEALER"})

	if string(named.ID) != "alice" {
		t.Fatalf("explicit id = %q", named.ID)
	}
	for _, p := range []*pipe.Pipe{anon1, anon2} {
		if len(p.ID) != 5 || p.ID[0] != 0 {
			t.Fatalf("generated id = %x, want 00 + 4 bytes", p.ID)
		}
	}
	if n1, n2 := binary.BigEndian.Uint32(anon1.ID[1:]), binary.BigEndian.Uint32(anon2.ID[1:]); n2 != n1+1 {
		t.Fatalf("generated ids %x, %x: not a counter", anon1.ID, anon2.ID)
	}

	// Recv prefixes the id.
	peerSend(t, anon2, msg("hello"))
	m, peer, err := r.Recv(timeout(t, time.Second))
	if err != nil || !bytes.Equal(m.Frames[0], anon2.ID) || string(m.Frames[1]) != "hello" || peer != anon2.Peer() {
		t.Fatalf("Recv = %q, %v, %v", strs(m), peer, err)
	}
	// Send routes by the first frame and strips it.
	send(t, r, "alice", "to alice")
	popStrs(t, named, "to alice")
	if err := r.Send(timeout(t, time.Second), pipe.Msg{Frames: [][]byte{anon1.ID, []byte("to 1")}}); err != nil {
		t.Fatal(err)
	}
	popStrs(t, anon1, "to 1")
	empty(t, anon2)

	// Unknown id and single-frame messages are dropped silently.
	send(t, r, "bob", "lost")
	send(t, r, "alice")
	empty(t, named)
}

func TestRouterMandatory(t *testing.T) {
	r := newSock(t, ROUTER, Options{RouterMandatory: true})
	p := raw(t, r, 1, &pipe.Peer{RoutingID: []byte("a")})
	if err := r.Send(timeout(t, time.Second), msg("nobody", "x")); !errors.Is(err, ErrHostUnreachable) {
		t.Fatalf("unknown id = %v", err)
	}
	send(t, r, "a", "1")
	// Full: blocks until ctx ends, queueing nothing.
	if err := r.Send(timeout(t, short), msg("a", "2")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("full pipe = %v", err)
	}
	if n := p.Out.Len(); n != 1 {
		t.Fatalf("queue length %d, want 1", n)
	}
	// Room unblocks it.
	done := make(chan error, 1)
	go func() { done <- r.Send(timeout(t, 2*time.Second), msg("a", "3")) }()
	popStrs(t, p, "1")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	popStrs(t, p, "3")
	// The peer going away while a Send waits: unreachable.
	send(t, r, "a", "4")
	go func() { done <- r.Send(timeout(t, 2*time.Second), msg("a", "5")) }()
	time.Sleep(short) // bounded: let Send block first
	p.Close()
	r.Detach(p)
	if err := <-done; !errors.Is(err, ErrHostUnreachable) {
		t.Fatalf("after Detach = %v", err)
	}
}

func TestRouterFullDropsWithoutMandatory(t *testing.T) {
	r := newSock(t, ROUTER, Options{})
	p := raw(t, r, 1, &pipe.Peer{RoutingID: []byte("a")})
	send(t, r, "a", "1")
	send(t, r, "a", "2") // dropped, not blocked
	popStrs(t, p, "1")
	empty(t, p)
}

func TestRouterDuplicateIDIgnored(t *testing.T) {
	r := newSock(t, ROUTER, Options{})
	first := raw(t, r, 10, &pipe.Peer{RoutingID: []byte("dup")})
	second := raw(t, r, 10, &pipe.Peer{RoutingID: []byte("dup")})
	peerSend(t, second, msg("from second"))
	peerSend(t, first, msg("from first"))
	expect(t, r, "dup", "from first")
	nothing(t, r)
	if n := second.In.Len(); n != 0 {
		t.Fatalf("the ignored pipe's messages were not drained: %d", n)
	}
	send(t, r, "dup", "reply")
	popStrs(t, first, "reply")
	empty(t, second)

	// When the first goes, the id is free again for a new peer.
	first.Close()
	r.Detach(first)
	third := raw(t, r, 10, &pipe.Peer{RoutingID: []byte("dup")})
	send(t, r, "dup", "again")
	popStrs(t, third, "again")
	empty(t, second)
}

func TestRouterLateIdentity(t *testing.T) {
	// A connect-side pipe is attached before its connection: no Peer yet.
	r := newSock(t, ROUTER, Options{RouterMandatory: true})
	p := pipe.New(10, 10, r.Readable(), r.Writable(), nil, nil)
	if err := r.Attach(p); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(timeout(t, time.Second), msg("srv", "x")); !errors.Is(err, ErrHostUnreachable) {
		t.Fatalf("before connection = %v", err)
	}
	p.SetPeer(&pipe.Peer{RoutingID: []byte("srv")})
	r.Hiccup(p)
	send(t, r, "srv", "x")
	popStrs(t, p, "x")
	// A new connection with another identity renames the pipe.
	p.SetPeer(&pipe.Peer{RoutingID: []byte("srv2")})
	r.Hiccup(p)
	if err := r.Send(timeout(t, time.Second), msg("srv", "x")); !errors.Is(err, ErrHostUnreachable) {
		t.Fatalf("old id = %v", err)
	}
	send(t, r, "srv2", "y")
	popStrs(t, p, "y")
}

func TestRouterRouter(t *testing.T) {
	a, b := newSock(t, ROUTER, Options{}), newSock(t, ROUTER, Options{})
	pa := pipe.New(10, 10, a.Readable(), a.Writable(), b.Readable(), b.Writable())
	pb := &pipe.Pipe{In: pa.Out, Out: pa.In}
	pa.SetPeer(&pipe.Peer{SocketType: "ROUTER", RoutingID: []byte("B")})
	pb.SetPeer(&pipe.Peer{SocketType: "ROUTER", RoutingID: []byte("A")})
	if err := a.Attach(pa); err != nil {
		t.Fatal(err)
	}
	if err := b.Attach(pb); err != nil {
		t.Fatal(err)
	}
	send(t, a, "B", "hi")
	expect(t, b, "A", "hi")
}
