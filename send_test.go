package azmq

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// TestSendCopies: a program that fills one buffer, sends it and fills it
// again, as io.Writer allows, gets every message intact: Send keeps
// nothing of the caller's, frame list included. SendNoCopy's messages,
// each in a buffer of its own, arrive intact too. Send's copies of large
// frames are given back once written and carry later messages, in plain
// batches and sealed by CURVE: none is reused too early.
func TestSendCopies(t *testing.T) {
	// Large frames go out from the sender's memory in the tcp and ipc
	// writers (8 KiB and more): the refilled buffer's worst case.
	const size = 8200
	pat := make([]byte, size+256)
	for j := range pat {
		pat[j] = byte(j)
	}
	eps := endpoints(t)
	eps["tcp+curve"] = "tcp://127.0.0.1:*"
	spub, ssec, err := NewCurveKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	cpub, csec, err := NewCurveKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	for tr, ep := range eps {
		var pullOpts, pushOpts []SocketOption
		if tr == "tcp+curve" {
			pullOpts = []SocketOption{WithCurveServer(ssec)}
			pushOpts = []SocketOption{WithCurveClient(spub, cpub, csec)}
		}
		for _, noCopy := range []bool{false, true} {
			name := tr + "/Send"
			if noCopy {
				name = tr + "/SendNoCopy"
			}
			t.Run(name, func(t *testing.T) {
				ctx := testCtx(t)
				z := NewContext()
				defer z.Close()
				n := 10000
				if noCopy {
					n = 1000
				}
				pull := newSock(t, z, PULL, append(pullOpts, WithRecvHWM(n))...)
				if err := pull.Bind(ep); err != nil {
					t.Fatal(err)
				}
				push := newSock(t, z, PUSH, append(pushOpts, WithSendHWM(n))...)
				if err := push.Connect(pull.LastEndpoint()); err != nil {
					t.Fatal(err)
				}
				// Two frames, a small and a large one, and one frame list,
				// all refilled for every message.
				small, large := make([]byte, 8), make([]byte, size)
				frames := [][]byte{small, large}
				fill := func(small, large []byte, i int) {
					binary.BigEndian.PutUint64(small, uint64(i))
					copy(large, pat[i&0xff:])
				}
				done := make(chan error, 1)
				go func() {
					for i := range n {
						var err error
						if noCopy {
							s, l := make([]byte, 8), make([]byte, size)
							fill(s, l, i)
							err = push.SendNoCopy(ctx, s, l)
						} else {
							fill(small, large, i)
							err = push.Send(ctx, frames...)
							// Scribble over what was sent, frame list included.
							fill(small, large, 0x55)
							frames[0] = nil
							frames[0] = small
						}
						if err != nil {
							done <- err
							return
						}
					}
					done <- nil
				}()
				for i := range n {
					msg, err := pull.Recv(ctx)
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					if len(msg) != 2 || binary.BigEndian.Uint64(msg[0]) != uint64(i) || !bytes.Equal(msg[1], pat[i&0xff:][:size]) {
						t.Fatalf("message %d corrupted: %s", i, describe(msg))
					}
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func describe(msg [][]byte) string {
	s := fmt.Sprintf("%d frames", len(msg))
	if len(msg) > 0 && len(msg[0]) == 8 {
		s += fmt.Sprintf(", first holds %d", binary.BigEndian.Uint64(msg[0]))
	}
	return s
}

// TestSendNoCopyReusesList: SendNoCopy keeps the slices, not the list
// holding them, so a caller may refill its list at once; over inproc the
// receiver gets the very slices.
func TestSendNoCopyReusesList(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	push := newSock(t, z, PUSH)
	if err := pull.Bind("inproc://nocopy-list"); err != nil {
		t.Fatal(err)
	}
	if err := push.Connect("inproc://nocopy-list"); err != nil {
		t.Fatal(err)
	}
	list := make([][]byte, 2)
	var sent [][]byte
	for i := range 3 {
		list[0], list[1] = []byte{byte(i)}, []byte("body")
		sent = append(sent, list[0])
		if err := push.SendNoCopy(ctx, list...); err != nil {
			t.Fatal(err)
		}
		list[0], list[1] = nil, []byte("scribbled")
	}
	for i := range 3 {
		msg, err := pull.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(msg) != 2 || &msg[0][0] != &sent[i][0] || string(msg[1]) != "body" {
			t.Fatalf("message %d: %q, want the slices sent", i, msg)
		}
	}
}
