package engine

import (
	"context"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// BenchmarkEngineThroughput moves 16-byte messages from one engine to
// another over loopback TCP: one message per iteration, p.Out -> p.In, with
// a window of messages in flight so the batching writer is exercised.
func BenchmarkEngineThroughput(b *testing.B) {
	const window = 128
	ca, cb := tcpPair(b)
	cfg := Config{SocketType: "DEALER", SendIdentity: true, MaxMsgSize: -1, Handshake: waitFor}
	ea, eb := New(ca, cfg), New(cb, cfg)
	fa, fb := startHandshake(b, ea), startHandshake(b, eb)
	if r := waitHandshake(b, fa); r.err != nil {
		b.Fatal(r.err)
	}
	if r := waitHandshake(b, fb); r.err != nil {
		b.Fatal(r.err)
	}
	pa, pb := newPipe(1000), newPipe(1000)
	run(b, ea, pa)
	run(b, eb, pb)

	// Bounded, so a broken engine fails the benchmark instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	frames := [][]byte{make([]byte, 16)}
	for range window {
		if err := pa.Out.Push(ctx, pipe.Msg{Frames: frames}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(16)
	b.ReportAllocs()
	for b.Loop() {
		if err := pa.Out.Push(ctx, pipe.Msg{Frames: frames}, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := pb.In.Pop(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
	for range window {
		if _, err := pb.In.Pop(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}
