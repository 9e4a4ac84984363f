package pattern

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// streamConn attaches a connection to a STREAM and takes the notification
// that it came, returning its pipe.
func streamConn(t *testing.T, s Socket, hwm int) *pipe.Pipe {
	t.Helper()
	p := raw(t, s, hwm, &pipe.Peer{Props: []pipe.KV{{Name: "Peer-Address", Value: "127.0.0.1"}}})
	m, peer, err := s.Recv(timeout(t, time.Second))
	if err != nil {
		t.Fatalf("Recv of the notification: %v", err)
	}
	if len(m.Frames) != 2 || !bytes.Equal(m.Frames[0], p.ID) || len(m.Frames[1]) != 0 {
		t.Fatalf("notification = %q, want [%x, \"\"]", strs(m), p.ID)
	}
	if addr, _ := peer.Property("Peer-Address"); addr != "127.0.0.1" {
		t.Fatalf("notification's Peer-Address = %q", addr)
	}
	return p
}

// gone detaches p as the socket does when its connection ends.
func gone(s Socket, p *pipe.Pipe) {
	p.In.Close()
	p.Out.Discard()
	s.Detach(p)
}

func TestStreamIDs(t *testing.T) {
	s := newSock(t, STREAM, Options{})
	var ps []*pipe.Pipe
	for range 3 {
		ps = append(ps, streamConn(t, s, 10))
	}
	for i, p := range ps {
		if len(p.ID) != 5 || p.ID[0] != 0 {
			t.Fatalf("id %x: want 00 + 4 bytes", p.ID)
		}
		if i > 0 {
			prev := binary.BigEndian.Uint32(ps[i-1].ID[1:])
			if binary.BigEndian.Uint32(p.ID[1:]) != prev+1 {
				t.Fatalf("ids %x, %x: not a counter", ps[i-1].ID, p.ID)
			}
		}
	}
	// A peer's Identity is no routing id here: raw peers announce none.
	p := raw(t, s, 10, &pipe.Peer{RoutingID: []byte("alice")})
	if bytes.Equal(p.ID, []byte("alice")) || len(p.ID) != 5 {
		t.Fatalf("id %q: want a generated one", p.ID)
	}
}

func TestStreamRecv(t *testing.T) {
	s := newSock(t, STREAM, Options{})
	a := streamConn(t, s, 10)
	b := streamConn(t, s, 10)
	peerSend(t, a, msg("from a"))
	peerSend(t, b, msg("from b"))
	got := map[string]string{}
	for range 2 {
		m, peer, err := s.Recv(timeout(t, time.Second))
		if err != nil || len(m.Frames) != 2 {
			t.Fatalf("Recv = %q, %v", strs(m), err)
		}
		if _, ok := peer.Property("Peer-Address"); !ok {
			t.Fatalf("data without the connection's properties")
		}
		got[string(m.Frames[0])] = string(m.Frames[1])
	}
	if got[string(a.ID)] != "from a" || got[string(b.ID)] != "from b" {
		t.Fatalf("received %q", got)
	}
	nothing(t, s)
}

// TestStreamSend: [id, data] goes to that connection; a wrong count of
// frames, an unknown id, a closed connection are errors.
func TestStreamSend(t *testing.T) {
	s := newSock(t, STREAM, Options{})
	a := streamConn(t, s, 10)
	b := streamConn(t, s, 10)
	if err := s.Send(timeout(t, time.Second), pipe.Msg{Frames: [][]byte{a.ID, []byte("to a")}}); err != nil {
		t.Fatal(err)
	}
	popStrs(t, a, "to a")
	empty(t, b)

	for _, tc := range []struct {
		name   string
		frames [][]byte
		want   error
		names  string // in the error
	}{
		{"unknown id", [][]byte{{0, 1, 2, 3, 4}, []byte("x")}, ErrHostUnreachable, "0001020304"},
		{"id alone", [][]byte{a.ID}, ErrNotSupported, "1 frame"},
		{"two data frames", [][]byte{a.ID, []byte("x"), []byte("y")}, ErrNotSupported, "3 frame"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Send(timeout(t, time.Second), pipe.Msg{Frames: tc.frames})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.names) {
				t.Fatalf("Send = %v, want %v naming %q", err, tc.want, tc.names)
			}
			empty(t, a)
		})
	}
}

// TestStreamHangup: [id, ""] queues the close after what came before; the
// id is then unknown, and the connection's end is not notified.
func TestStreamHangup(t *testing.T) {
	s := newSock(t, STREAM, Options{})
	a := streamConn(t, s, 10)
	send := func(data string) error {
		return s.Send(timeout(t, time.Second), pipe.Msg{Frames: [][]byte{a.ID, []byte(data)}})
	}
	if err := send("last words"); err != nil {
		t.Fatal(err)
	}
	if err := send(""); err != nil {
		t.Fatal(err)
	}
	popStrs(t, a, "last words")
	popStrs(t, a, "")
	if err := send("too late"); !errors.Is(err, ErrHostUnreachable) {
		t.Fatalf("Send after the close = %v, want ErrHostUnreachable", err)
	}
	// Data the peer sent before the close is still delivered.
	peerSend(t, a, msg("in flight"))
	gone(s, a)
	expect(t, s, string(a.ID), "in flight")
	nothing(t, s)
}

// TestStreamGone: a connection's end is notified after its data.
func TestStreamGone(t *testing.T) {
	for _, pending := range []int{0, 1, 3} {
		t.Run(fmt.Sprint(pending, " pending"), func(t *testing.T) {
			s := newSock(t, STREAM, Options{})
			a := streamConn(t, s, 10)
			var want []string
			for i := range pending {
				d := fmt.Sprint("data ", i)
				peerSend(t, a, msg(d))
				want = append(want, d)
			}
			gone(s, a)
			for _, d := range want {
				expect(t, s, string(a.ID), d)
			}
			expect(t, s, string(a.ID), "")
			nothing(t, s)
			if err := s.Send(timeout(t, time.Second), pipe.Msg{Frames: [][]byte{a.ID, []byte("x")}}); !errors.Is(err, ErrHostUnreachable) {
				t.Fatalf("Send to a gone connection = %v", err)
			}
		})
	}
}

// TestStreamFull: a full queue blocks Send until room comes, as libzmq's
// EAGAIN does a blocking zmq_send.
func TestStreamFull(t *testing.T) {
	s := newSock(t, STREAM, Options{})
	a := streamConn(t, s, 1)
	m := func(d string) pipe.Msg { return pipe.Msg{Frames: [][]byte{a.ID, []byte(d)}} }
	if err := s.Send(timeout(t, time.Second), m("1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(timeout(t, short), m("2")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send to a full queue = %v, want it to wait", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Send(timeout(t, 2*time.Second), m("3")) }()
	popStrs(t, a, "1")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	popStrs(t, a, "3")
}

func TestStreamClose(t *testing.T) {
	s := newSock(t, STREAM, Options{})
	a := streamConn(t, s, 10)
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Recv(timeout(t, 2*time.Second))
		done <- err
	}()
	time.Sleep(short) // bounded: let Recv block first
	s.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Recv = %v, want ErrClosed", err)
	}
	if err := s.Send(timeout(t, time.Second), pipe.Msg{Frames: [][]byte{a.ID, []byte("x")}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send = %v, want ErrClosed", err)
	}
	if err := s.Attach(pipe.New(1, 1, nil, nil, nil, nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Attach = %v, want ErrClosed", err)
	}
}

// TestStreamFair: a flooding connection does not hold up the others.
func TestStreamFair(t *testing.T) {
	s := newSock(t, STREAM, Options{})
	a := streamConn(t, s, 100)
	b := streamConn(t, s, 100)
	for range 50 {
		peerSend(t, a, msg("a"))
	}
	peerSend(t, b, msg("b"))
	var seen []string
	for range 3 {
		seen = append(seen, recv(t, s)[1])
	}
	if !slices.Contains(seen, "b") {
		t.Fatalf("first three received %q: b waited behind a", seen)
	}
}
