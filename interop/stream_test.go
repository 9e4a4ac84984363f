//go:build !windows

package interop

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/azmq/azmq"
)

// STREAM against libzmq's STREAM: neither side speaks ZMTP, so each is the
// other's plain TCP (or ipc) peer. Every scenario runs both ways round:
// the side that binds accepts, the other connects, and both see the
// connection as [id, ""] first.

// seq is peer.py's {"seq": n}: bytes i % 251.
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// streamNote receives a notification [id, ""] on s and returns the id.
func streamNote(t *testing.T, ctx context.Context, s *azmq.Socket, tp topo) []byte {
	t.Helper()
	m, err := s.RecvMsg(ctx)
	if err != nil {
		t.Fatalf("azmq STREAM Recv: %v", err)
	}
	if len(m.Frames) != 2 || len(m.Frames[0]) != 5 || m.Frames[0][0] != 0 || len(m.Frames[1]) != 0 {
		t.Fatalf("azmq STREAM Recv = %s, want a notification [00+4 bytes, \"\"]", describe(m.Frames))
	}
	if tp.transport == "tcp" {
		if addr, _ := m.Property("Peer-Address"); addr != "127.0.0.1" {
			t.Fatalf("Peer-Address of the notification = %q, want 127.0.0.1", addr)
		}
	}
	return m.Frames[0]
}

// streamData receives n bytes from the connection id on s, however the
// reads cut them (each at most 8 KiB, libzmq's in_batch_size).
func streamData(t *testing.T, ctx context.Context, s *azmq.Socket, id []byte, n int) []byte {
	t.Helper()
	var got []byte
	for len(got) < n {
		m := recv(t, ctx, s)
		if len(m) != 2 || !bytes.Equal(m[0], id) || len(m[1]) == 0 || len(m[1]) > 8<<10 {
			t.Fatalf("azmq STREAM Recv after %d of %d bytes = %s, want [%x, 1..8192 bytes]", len(got), n, describe(m), id)
		}
		got = append(got, m[1]...)
	}
	return got
}

// libNote checks that the peer printed a notification and returns its id.
func libNote(t *testing.T, p *peer) []byte {
	t.Helper()
	m := p.recvMsg()
	if len(m) != 2 || len(m[0]) != 5 || m[0][0] != 0 || len(m[1]) != 0 {
		t.Fatalf("libzmq STREAM received %s, want a notification [00+4 bytes, \"\"]", describe(m))
	}
	return m[0]
}

func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }

// TestStreamAzmqCloses: bytes both ways, small and over many reads, then
// azmq closes the connection with an empty frame and libzmq sees it go.
func TestStreamAzmqCloses(t *testing.T) {
	const big = 100000
	for _, tp := range topologies {
		t.Run(tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := newSocket(t, azmq.STREAM)
			steps := []step{
				{"op": "recv"}, // the connection came
				{"op": "recv_raw", "len": len("hello libzmq")},
				{"op": "send", "frames": []any{map[string]any{"last": 0}, hexOf("hello azmq")}},
				{"op": "recv_raw", "len": big},
				{"op": "send", "frames": []any{map[string]any{"last": 0}, map[string]any{"seq": big}}},
				{"op": "recv"}, // the connection went
			}
			if !tp.azmqBinds {
				// azmq connected: having closed the connection itself, it
				// does not dial again (nor does libzmq).
				steps = append(steps, step{"op": "expect_none", "ms": 300})
			}
			p := link(t, s, spec{Type: "STREAM", Steps: steps}, tp)

			id := streamNote(t, ctx, s, tp)
			pid := libNote(t, p)
			send(t, ctx, s, cat(id, "hello libzmq"))
			checkMsg(t, "libzmq STREAM received", p.recvMsg(), cat(pid, "hello libzmq"))
			if got := streamData(t, ctx, s, id, len("hello azmq")); string(got) != "hello azmq" {
				t.Fatalf("azmq STREAM received %q", got)
			}
			send(t, ctx, s, cat(id, seq(big)))
			checkMsg(t, "libzmq STREAM received", p.recvMsg(), cat(pid, seq(big)))
			if got := streamData(t, ctx, s, id, big); !bytes.Equal(got, seq(big)) {
				t.Fatalf("azmq STREAM received %d bytes unlike libzmq's", len(got))
			}
			send(t, ctx, s, cat(id, []byte{}))
			checkMsg(t, "libzmq STREAM's notification of the close", p.recvMsg(), cat(pid, []byte{}))
			p.wait()
		})
	}
}

// TestStreamLibzmqCloses: libzmq closes the connection with an empty
// frame; azmq sees the data sent before it, then [id, ""].
func TestStreamLibzmqCloses(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := newSocket(t, azmq.STREAM)
			p := link(t, s, spec{Type: "STREAM", Steps: []step{
				{"op": "recv"},
				{"op": "recv_raw", "len": len("hello")},
				{"op": "send", "frames": []any{map[string]any{"last": 0}, hexOf("bye")}},
				{"op": "send", "frames": []any{map[string]any{"last": 0}, ""}},
				// libzmq closes the connection only as its socket is
				// called again (it ends the pipe then): drain keeps
				// calling it, long enough to tell that close from the
				// one of the socket's end. A connecting azmq dials again
				// meanwhile; drain takes that notification too.
				{"op": "drain", "ms": 2000},
			}}, tp)

			id := streamNote(t, ctx, s, tp)
			pid := libNote(t, p)
			send(t, ctx, s, cat(id, "hello"))
			checkMsg(t, "libzmq STREAM received", p.recvMsg(), cat(pid, "hello"))
			if got := streamData(t, ctx, s, id, 3); string(got) != "bye" {
				t.Fatalf("azmq STREAM received %q", got)
			}
			checkMsg(t, "azmq STREAM's notification of the close", recv(t, ctx, s), cat(id, []byte{}))
			select {
			case l := <-p.lines:
				t.Fatalf("libzmq printed %s before azmq saw the close: that came from the end of its socket, not from the empty frame", abbrev(l.raw, 100))
			default:
			}
			if err := s.Send(ctx, id, []byte("late")); !errors.Is(err, azmq.ErrHostUnreachable) {
				t.Fatalf("Send to the closed connection = %v, want ErrHostUnreachable", err)
			}
			p.wait()
		})
	}
}
