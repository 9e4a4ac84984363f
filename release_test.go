package azmq

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"
)

// releaseBodies are the large parts of the test messages: their sizes vary
// (class sizes and sizes between them) and their bytes depend on the
// message, so a buffer reused while still in use shows as a wrong byte.
// Message i carries releaseBodies[i%12]; Send may send a slice again as long
// as nobody changes it, so the test allocates nothing per message and
// the collector, which empties the pool, rarely runs.
var releaseBodies = func() [][]byte {
	sizes := []int{1500, 32 << 10, 4096, 100000, 64<<10 + 1, 300000}
	bodies := make([][]byte, 12)
	for k := range bodies {
		b := make([]byte, sizes[k%len(sizes)])
		for j := range b {
			b[j] = byte(k*31 + j*7)
		}
		bodies[k] = b
	}
	return bodies
}()

func releaseMsg(i int) [][]byte {
	seq := binary.BigEndian.AppendUint32(nil, uint32(i))
	return [][]byte{seq, releaseBodies[i%len(releaseBodies)]}
}

func checkReleaseMsg(t *testing.T, i int, m [][]byte) {
	t.Helper()
	if len(m) != 2 || len(m[0]) != 4 || int(binary.BigEndian.Uint32(m[0])) != i {
		t.Fatalf("message %d: got %d frames, first %x", i, len(m), m[0])
	}
	if !bytes.Equal(m[1], releaseBodies[i%len(releaseBodies)]) {
		t.Fatalf("message %d: body of %d bytes differs from what was sent", i, len(m[1]))
	}
}

// TestReleaseReusesLargeFrames: over tcp and ipc, frames given back with
// Release carry later messages, every one of which arrives intact, both
// one message at a time and with many in flight.
func TestReleaseReusesLargeFrames(t *testing.T) {
	type tcase struct {
		ep                 string
		pullOpts, pushOpts []SocketOption
	}
	cases := map[string]tcase{}
	for tr, ep := range endpoints(t) {
		if tr != "inproc" {
			cases[tr] = tcase{ep: ep}
		}
	}
	// CURVE decrypts in place, behind a header: the frame is a part of
	// the buffer, and still comes back.
	spub, ssec, _ := NewCurveKeyPair()
	cpub, csec, _ := NewCurveKeyPair()
	cases["tcp+curve"] = tcase{"tcp://127.0.0.1:*",
		[]SocketOption{WithCurveServer(ssec)}, []SocketOption{WithCurveClient(spub, cpub, csec)}}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			pull := newSock(t, z, PULL, c.pullOpts...)
			push := newSock(t, z, PUSH, c.pushOpts...)
			bindConnect(t, pull, push, c.ep)

			// One at a time: each message is read after the previous one
			// was released, so its body can take that one's memory. The
			// sender hands its constant bodies over (SendNoCopy), so that
			// no copy of its own makes the collector empty the pools more
			// often than the receiver alone would.
			const n = 80
			seen := map[*byte]bool{}
			for i := range n {
				if err := push.SendNoCopy(ctx, releaseMsg(i)...); err != nil {
					t.Fatal(err)
				}
				m, err := pull.Recv(ctx)
				if err != nil {
					t.Fatal(err)
				}
				checkReleaseMsg(t, i, m)
				seen[unsafe.SliceData(m[1])] = true
				Release(m)
			}
			// The pool may drop what it is given (at random under the race
			// detector, and at every collection), but not most of it.
			t.Logf("%d messages one at a time, in %d distinct buffers", n, len(seen))
			if len(seen) > n/2 {
				t.Errorf("%d messages were received in %d distinct buffers: released frames were not reused", n, len(seen))
			}

			// Many in flight: the reader fills released buffers while the
			// receiver still holds others.
			errc := make(chan error, 1)
			go func() {
				for i := n; i < 3*n; i++ {
					if err := push.SendNoCopy(ctx, releaseMsg(i)...); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			var held [][][]byte
			for i := n; i < 3*n; i++ {
				m, err := pull.Recv(ctx)
				if err != nil {
					t.Fatal(err)
				}
				checkReleaseMsg(t, i, m)
				held = append(held, m)
				if len(held) == 5 {
					// Still intact after the reader went on without them.
					for k, h := range held {
						checkReleaseMsg(t, i-len(held)+1+k, h)
					}
					for _, h := range held {
						Release(h)
					}
					held = held[:0]
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReleaseLeavesOthersAlone: Release takes back only what azmq
// allocated for a received frame, once. An inproc frame is the sender's
// slice, which it may send again: releasing it must not hand it to a
// reader. A frame released twice must not carry two messages.
func TestReleaseLeavesOthersAlone(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()

	ipull := newSock(t, z, PULL)
	ipush := newSock(t, z, PUSH)
	bindConnect(t, ipull, ipush, "inproc://"+t.Name())
	tpull := newSock(t, z, PULL)
	tpush := newSock(t, z, PUSH)
	bindConnect(t, tpull, tpush, "tcp://127.0.0.1:*")

	// The sender keeps its payload and sends it again and again, as Send's
	// ownership rule allows: it never changes it.
	payload := bytes.Repeat([]byte("inproc"), 20000)
	want := bytes.Clone(payload)
	for i := range 50 {
		if err := ipush.Send(ctx, payload); err != nil {
			t.Fatal(err)
		}
		m, err := ipull.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		Release(m)
		mine := make([]byte, 64<<10)
		Release([][]byte{mine, payload[:0], payload[1:]})

		if err := tpush.SendNoCopy(ctx, releaseMsg(i)...); err != nil {
			t.Fatal(err)
		}
		tm, err := tpull.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkReleaseMsg(t, i, tm)
		if p := unsafe.SliceData(tm[1]); p == unsafe.SliceData(payload) || p == unsafe.SliceData(mine) {
			t.Fatalf("message %d was received into memory that was not azmq's to reuse", i)
		}
		Release(tm)
	}
	if !bytes.Equal(payload, want) {
		t.Fatal("the inproc sender's payload was overwritten")
	}

	// Released twice: the next two messages must still get two buffers.
	for i := range 20 {
		if err := tpush.SendNoCopy(ctx, releaseMsg(i)...); err != nil {
			t.Fatal(err)
		}
		a, err := tpull.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		Release(a)
		Release(a)
		var got [2][][]byte
		for k := range got {
			if err := tpush.SendNoCopy(ctx, releaseMsg(i)...); err != nil {
				t.Fatal(err)
			}
			if got[k], err = tpull.Recv(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if unsafe.SliceData(got[0][1]) == unsafe.SliceData(got[1][1]) {
			t.Fatalf("round %d: a frame released twice carried two messages at once", i)
		}
		for _, g := range got {
			checkReleaseMsg(t, i, g)
			Release(g)
		}
	}
}

func ExampleRelease() {
	ctx := context.Background()
	pull, _ := NewSocket(PULL)
	defer pull.Close()
	push, _ := NewSocket(PUSH)
	defer push.Close()
	pull.Bind("tcp://127.0.0.1:*")
	push.Connect(pull.LastEndpoint())

	for i := range 3 {
		push.Send(ctx, bytes.Repeat([]byte{byte('a' + i)}, 1<<20))
	}
	for range 3 {
		msg, err := pull.Recv(ctx)
		if err != nil {
			return
		}
		fmt.Println(len(msg[0]), string(msg[0][:1]))
		// Done with it: its memory can carry the next large message.
		Release(msg)
	}
	// Output:
	// 1048576 a
	// 1048576 b
	// 1048576 c
}

// TestReleaseHugeFrames: a frame larger than what the reader allocates at
// once grows while it arrives; with pooling on, the smaller buffers it
// outgrows go back to the pool while the frame is still being read. Each
// message must still arrive intact.
func TestReleaseHugeFrames(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	push := newSock(t, z, PUSH)
	bindConnect(t, pull, push, "tcp://127.0.0.1:*")
	Release(nil) // turns pooling on, as a receiver's first Release does

	const size = 9<<20 + 123 // read into 4 MiB, then 8 MiB, then its own size
	for i := range 3 {
		body := make([]byte, size)
		for j := range body {
			body[j] = byte(i*13 + j*5)
		}
		if err := push.Send(ctx, body); err != nil {
			t.Fatal(err)
		}
		m, err := pull.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 1 || !bytes.Equal(m[0], body) {
			t.Fatalf("message %d: a %d-byte frame did not arrive intact", i, size)
		}
		Release(m)
	}
}
