package azmq_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

// benchOpts are a throughput benchmark's variations.
type benchOpts struct {
	release bool // the PULL gives every message back with azmq.Release
	copy    bool // the PUSH sends with Send (a copy) instead of SendNoCopy
}

// benchThroughput pushes b.N messages of size bytes from a PUSH to a PULL
// and counts the time until the last has arrived.
func benchThroughput(b *testing.B, ep string, size int, o benchOpts, pushOpts, pullOpts []azmq.SocketOption) {
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
			var err error
			if o.copy {
				err = push.Send(ctx, payload)
			} else {
				// The payload is never changed, so it can be handed
				// over again and again.
				err = push.SendNoCopy(ctx, payload)
			}
			if err != nil {
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
		if o.release {
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
				benchThroughput(b, ep, size, benchOpts{}, nil, nil)
			})
		}
	}
}

// BenchmarkSendCopy: what Send's copy costs, against SendNoCopy.
func BenchmarkSendCopy(b *testing.B) {
	for _, ep := range []string{"inproc://bench", "tcp://127.0.0.1:*"} {
		for _, size := range []int{16, 256, 4096, 65536} {
			for _, cp := range []bool{false, true} {
				name := "SendNoCopy"
				if cp {
					name = "Send"
				}
				b.Run(fmt.Sprintf("%s/%dB/%s", ep[:3], size, name), func(b *testing.B) {
					benchThroughput(b, ep, size, benchOpts{copy: cp, release: true}, nil, nil)
				})
			}
		}
	}
}

// BenchmarkThroughputRelease: large messages over tcp, left to the
// collector or given back with azmq.Release.
func BenchmarkThroughputRelease(b *testing.B) {
	for _, size := range []int{65536, 1 << 20} {
		for _, release := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dB/release=%v", size, release), func(b *testing.B) {
				benchThroughput(b, "tcp://127.0.0.1:*", size, benchOpts{release: release}, nil, nil)
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
			benchThroughput(b, "tcp://127.0.0.1:*", size, benchOpts{}, nil, nil)
		})
		b.Run(fmt.Sprintf("CURVE/%dB", size), func(b *testing.B) {
			benchThroughput(b, "tcp://127.0.0.1:*", size, benchOpts{},
				[]azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)},
				[]azmq.SocketOption{azmq.WithCurveServer(ssec)})
		})
	}
}

// BenchmarkRoundTrip: one message in flight between two sockets, so each
// Recv waits for its peer (a request/reply's latency path, and how a
// broker's ROUTER waits between requests).
func BenchmarkRoundTrip(b *testing.B) {
	pairs := []struct {
		name       string
		serve, ask azmq.SocketType
	}{
		{"REQ-REP", azmq.REP, azmq.REQ},
		{"DEALER-ROUTER", azmq.ROUTER, azmq.DEALER},
	}
	for _, ep := range []string{"inproc://rt", "tcp://127.0.0.1:*"} {
		for _, p := range pairs {
			b.Run(fmt.Sprintf("%s/%s", ep[:3], p.name), func(b *testing.B) {
				benchRoundTrip(b, ep, p.serve, p.ask)
			})
		}
	}
}

func benchRoundTrip(b *testing.B, ep string, serveType, askType azmq.SocketType) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	serve, err := zctx.NewSocket(serveType, azmq.WithLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	ask, err := zctx.NewSocket(askType, azmq.WithLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	if err := serve.Bind(ep); err != nil {
		b.Fatal(err)
	}
	if err := ask.Connect(serve.LastEndpoint()); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		// Echo every message back, whole (a ROUTER's reply carries the
		// routing id it received).
		var m azmq.Msg
		for {
			if err := serve.RecvInto(ctx, &m); err != nil {
				done <- nil
				return
			}
			if err := serve.Send(ctx, m.Frames...); err != nil {
				done <- err
				return
			}
		}
	}()
	req := make([]byte, 16)
	var reply azmq.Msg
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ask.Send(ctx, req); err != nil {
			b.Fatal(err)
		}
		if err := ask.RecvInto(ctx, &reply); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
