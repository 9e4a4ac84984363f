package azmq_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

// benchThroughput pushes b.N messages of size bytes from a PUSH to a PULL
// and counts the time until the last has arrived. With release, the PULL
// gives every message back with azmq.Release.
func benchThroughput(b *testing.B, ep string, size int, release bool, pushOpts, pullOpts []azmq.SocketOption) {
	ctx := context.Background()
	zctx := azmq.NewContext()
	defer zctx.Close()
	pull, err := zctx.NewSocket(azmq.PULL, append(pullOpts, azmq.WithLinger(0))...)
	if err != nil {
		b.Fatal(err)
	}
	push, err := zctx.NewSocket(azmq.PUSH, append(pushOpts, azmq.WithLinger(0))...)
	if err != nil {
		b.Fatal(err)
	}
	if err := pull.Bind(ep); err != nil {
		b.Fatal(err)
	}
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		b.Fatal(err)
	}
	// Warm the connection up so the handshake is not timed.
	push.Send(ctx, make([]byte, size))
	if _, err := pull.Recv(ctx); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			// Send owns what it is given: inproc hands it over as it is,
			// so every message gets its own slice there.
			p := payload
			if ep[:6] == "inproc" {
				p = make([]byte, size)
			}
			if err := push.Send(ctx, p); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < b.N; i++ {
		msg, err := pull.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if release {
			azmq.Release(msg)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

func BenchmarkThroughput(b *testing.B) {
	for _, ep := range []string{"inproc://bench", "tcp://127.0.0.1:*"} {
		for _, size := range []int{16, 256, 4096, 65536} {
			b.Run(fmt.Sprintf("%s/%dB", ep[:3], size), func(b *testing.B) {
				benchThroughput(b, ep, size, false, nil, nil)
			})
		}
	}
}

// BenchmarkThroughputRelease: large messages over tcp, left to the
// collector or given back with azmq.Release.
func BenchmarkThroughputRelease(b *testing.B) {
	for _, size := range []int{65536, 1 << 20} {
		for _, release := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dB/release=%v", size, release), func(b *testing.B) {
				benchThroughput(b, "tcp://127.0.0.1:*", size, release, nil, nil)
			})
		}
	}
}

// BenchmarkCurveVsNull measures what CURVE costs over tcp, against NULL.
func BenchmarkCurveVsNull(b *testing.B) {
	spub, ssec, _ := azmq.NewCurveKeyPair()
	cpub, csec, _ := azmq.NewCurveKeyPair()
	for _, size := range []int{16, 65536} {
		b.Run(fmt.Sprintf("NULL/%dB", size), func(b *testing.B) {
			benchThroughput(b, "tcp://127.0.0.1:*", size, false, nil, nil)
		})
		b.Run(fmt.Sprintf("CURVE/%dB", size), func(b *testing.B) {
			benchThroughput(b, "tcp://127.0.0.1:*", size, false,
				[]azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)},
				[]azmq.SocketOption{azmq.WithCurveServer(ssec)})
		})
	}
}
