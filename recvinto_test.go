package azmq_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/racetest"
)

// recvIntoMsg is message i of TestRecvInto: one to three frames of sizes
// that cross the thresholds (a chunk's largest body, 1 KiB, a read
// buffer), each byte depending on the message and the frame.
func recvIntoMsg(i int) [][]byte {
	sizes := []int{0, 5, 16, 255, 256, 300, 1500, 70000, 16, 3}
	parts := make([][]byte, 1+i%3)
	for j := range parts {
		b := make([]byte, sizes[(i+j*3)%len(sizes)])
		for k := range b {
			b[k] = byte(i*7 + j*31 + k)
		}
		parts[j] = b
	}
	return parts
}

// TestRecvInto: messages of every shape arrive whole through one reused
// Msg, over each transport and from Send and SendNoCopy; copies kept
// along the way stay as they were.
func TestRecvInto(t *testing.T) {
	const n = 3000
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	eps := []string{"tcp://127.0.0.1:*", "inproc://recv-into"}
	if runtime.GOOS != "windows" {
		eps = append(eps, "ipc://"+filepath.Join(t.TempDir(), "recv-into"))
	}
	for _, ep := range eps {
		for _, noCopy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/nocopy=%v", ep[:3], noCopy), func(t *testing.T) {
				pull := mustSocket(t, zctx, azmq.PULL, azmq.WithLinger(0))
				if err := pull.Bind(ep); err != nil {
					t.Fatal(err)
				}
				push := mustSocket(t, zctx, azmq.PUSH, azmq.WithLinger(0))
				if err := push.Connect(pull.LastEndpoint()); err != nil {
					t.Fatal(err)
				}
				errc := make(chan error, 1)
				go func() {
					for i := range n {
						var err error
						if noCopy {
							err = push.SendNoCopy(ctx, recvIntoMsg(i)...)
						} else {
							err = push.Send(ctx, recvIntoMsg(i)...)
						}
						if err != nil {
							errc <- err
							return
						}
					}
					errc <- nil
				}()
				var m azmq.Msg
				var kept [][][]byte
				for i := range n {
					if err := pull.RecvInto(ctx, &m); err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					want := recvIntoMsg(i)
					if len(m.Frames) != len(want) {
						t.Fatalf("message %d: %d frames, want %d", i, len(m.Frames), len(want))
					}
					for j := range want {
						if !bytes.Equal(m.Frames[j], want[j]) {
							t.Fatalf("message %d frame %d: %d bytes differ from the %d sent", i, j, len(m.Frames[j]), len(want[j]))
						}
					}
					if v, ok := m.Property("Socket-Type"); !ok || v != "PUSH" {
						t.Fatalf("Socket-Type %q %v", v, ok)
					}
					if i%97 == 0 {
						var c [][]byte
						for _, f := range m.Frames {
							c = append(c, bytes.Clone(f))
						}
						kept = append(kept, c)
					}
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				for k, c := range kept {
					want := recvIntoMsg(k * 97)
					for j := range want {
						if !bytes.Equal(c[j], want[j]) {
							t.Fatalf("kept message %d changed", k*97)
						}
					}
				}
				// An ended context leaves m empty.
				done, stop := context.WithCancel(ctx)
				stop()
				if err := pull.RecvInto(done, &m); err == nil || len(m.Frames) != 0 {
					t.Fatalf("RecvInto on an ended context: %v, %d frames", err, len(m.Frames))
				}
			})
		}
	}
}

// TestRecvIntoReuse: a steady stream of small messages over tcp, sent
// with Send and received with RecvInto, allocates next to nothing on
// either side: Send's copies and the receiver's chunks go round. (With
// Recv, each message's 16-byte body and frame list are the receiver's to
// keep: some 40 bytes a message, and as many on the sending side before
// its copies were reused.)
func TestRecvIntoReuse(t *testing.T) {
	if racetest.Enabled {
		t.Skip("the race detector's pools drop a quarter of what they are given; make test runs this without -race")
	}
	const n = 200000
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	pull := mustSocket(t, zctx, azmq.PULL, azmq.WithLinger(0))
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	push := mustSocket(t, zctx, azmq.PUSH, azmq.WithLinger(0))
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	payload := []byte("sixteen bytes...")
	var m azmq.Msg
	run := func(count int) {
		errc := make(chan error, 1)
		go func() {
			for range count {
				if err := push.Send(ctx, payload); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		for i := range count {
			if err := pull.RecvInto(ctx, &m); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if !bytes.Equal(m.Frames[0], payload) {
				t.Fatalf("message %d: %q", i, m.Frames[0])
			}
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	run(20000) // connected, and the chunks at their full size
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run(n)
	runtime.ReadMemStats(&after)
	perMsg := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("%.2f bytes allocated a message", perMsg)
	// The collector empties sync.Pools, so a few chunks are made again
	// after each of its cycles; the bound is far below the 40 a message
	// that keeping the receiver's memory would cost.
	if perMsg > 8 {
		t.Errorf("%.1f bytes allocated a message, want next to nothing", perMsg)
	}
}

// ExampleSocket_RecvInto receives into one Msg, whose memory each call
// reuses: the receive for a loop that handles one message at a time.
func ExampleSocket_RecvInto() {
	ctx := context.Background()
	zctx := azmq.NewContext()
	defer zctx.Close()
	pull, _ := zctx.NewSocket(azmq.PULL)
	defer pull.Close()
	pull.Bind("tcp://127.0.0.1:*")
	push, _ := zctx.NewSocket(azmq.PUSH)
	defer push.Close()
	push.Connect(pull.LastEndpoint())

	go func() {
		for i := range 3 {
			push.Send(ctx, []byte(fmt.Sprintf("reading %d", i)))
		}
	}()
	var m azmq.Msg
	total := 0
	for range 3 {
		if err := pull.RecvInto(ctx, &m); err != nil {
			panic(err)
		}
		// m.Frames is valid until the next RecvInto: use it, or copy
		// what you keep.
		total += len(m.Frames[0])
		fmt.Println(string(m.Frames[0]))
	}
	fmt.Println(total, "bytes")
	// Output:
	// reading 0
	// reading 1
	// reading 2
	// 27 bytes
}

// TestRecvIntoRouter: a ROUTER's RecvInto gives the routing id, copied,
// then the frames, over tcp and inproc, with and without WithRouterNotify;
// writing over the id received changes neither the next one nor where a
// reply goes.
func TestRecvIntoRouter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	for _, ep := range []string{"tcp://127.0.0.1:*", "inproc://recv-into-router"} {
		for _, notify := range []bool{false, true} {
			if notify && ep[:3] == "inp" {
				continue // inproc connections are not told of, as in libzmq
			}
			t.Run(fmt.Sprintf("%s/notify=%v", ep[:3], notify), func(t *testing.T) {
				opts := []azmq.SocketOption{azmq.WithLinger(0)}
				if notify {
					opts = append(opts, azmq.WithRouterNotify(azmq.NotifyConnect))
				}
				router := mustSocket(t, zctx, azmq.ROUTER, opts...)
				if err := router.Bind(ep); err != nil {
					t.Fatal(err)
				}
				ids := [][]byte{[]byte("alpha"), bytes.Repeat([]byte{'b'}, 255)}
				dealers := make([]*azmq.Socket, len(ids))
				for i, id := range ids {
					dealers[i] = mustSocket(t, zctx, azmq.DEALER, azmq.WithLinger(0), azmq.WithRoutingID(id))
					if err := dealers[i].Connect(router.LastEndpoint()); err != nil {
						t.Fatal(err)
					}
				}
				var m azmq.Msg
				if notify {
					seen := map[string]bool{}
					for range ids {
						if err := router.RecvInto(ctx, &m); err != nil {
							t.Fatal(err)
						}
						if len(m.Frames) != 2 || len(m.Frames[1]) != 0 {
							t.Fatalf("notification %q", m.Frames)
						}
						seen[string(m.Frames[0])] = true
					}
					for _, id := range ids {
						if !seen[string(id)] {
							t.Fatalf("no notification for %q", id)
						}
					}
				}
				const rounds = 50
				for r := range rounds {
					for i, d := range dealers {
						body := []byte(fmt.Sprintf("request %d from %d", r, i))
						if err := d.Send(ctx, body, recvIntoMsg(r)[0]); err != nil {
							t.Fatal(err)
						}
						if err := router.RecvInto(ctx, &m); err != nil {
							t.Fatal(err)
						}
						if len(m.Frames) != 3 || !bytes.Equal(m.Frames[0], ids[i]) ||
							!bytes.Equal(m.Frames[1], body) || !bytes.Equal(m.Frames[2], recvIntoMsg(r)[0]) {
							t.Fatalf("round %d peer %d: got %d frames, id %q", r, i, len(m.Frames), m.Frames[0])
						}
						if err := router.Send(ctx, m.Frames[0], []byte("reply")); err != nil {
							t.Fatal(err)
						}
						// The id is the caller's: writing over it must not
						// reach the router's own.
						for k := range m.Frames[0] {
							m.Frames[0][k] = 'x'
						}
						reply, err := d.Recv(ctx)
						if err != nil {
							t.Fatal(err)
						}
						if len(reply) != 1 || string(reply[0]) != "reply" {
							t.Fatalf("reply %q", reply)
						}
					}
				}
			})
		}
	}
}
