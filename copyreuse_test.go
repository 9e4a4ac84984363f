package azmq_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// TestSendCopiesReused: the memory of Send's small copies is used again
// once written to a connection, never while a receiver still holds a
// copy. A PUB fans out to two tcp SUBs and an inproc one (every message
// to all of them, or each to one by its topic), and a PUSH deals to two
// tcp PULLs and an inproc one. The inproc receivers get the sender's very
// copies and keep every message until the end, while the tcp side's
// releases make chunks go round. Two tcp receivers of one message share
// it: neither writer may release it. Every kept message must still read
// as sent.
func TestSendCopiesReused(t *testing.T) {
	const n = 30000
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	for _, tc := range []struct {
		name     string
		snd, rcv azmq.SocketType
		topics   bool // receiver k subscribes to "k:" only, and message i goes to i%3
	}{
		{"pub-sub", azmq.PUB, azmq.SUB, false},
		{"pub-sub-topics", azmq.PUB, azmq.SUB, true},
		{"push-pull", azmq.PUSH, azmq.PULL, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := func(k int) string {
				if !tc.topics {
					return ""
				}
				return fmt.Sprintf("%d:", k)
			}
			body := func(i int) string { return fmt.Sprintf("%smessage %06d", prefix(i%3), i) }
			snd := mustSocket(t, zctx, tc.snd, azmq.WithSendHWM(0), azmq.WithLinger(0))
			if err := snd.Bind("tcp://127.0.0.1:*"); err != nil {
				t.Fatal(err)
			}
			tcp := snd.LastEndpoint()
			inproc := "inproc://copies-" + tc.name
			if err := snd.Bind(inproc); err != nil {
				t.Fatal(err)
			}
			var rcvs []*azmq.Socket
			for k, ep := range []string{tcp, tcp, inproc} {
				r := mustSocket(t, zctx, tc.rcv, azmq.WithRecvHWM(0), azmq.WithLinger(0))
				if tc.rcv == azmq.SUB {
					if err := r.Subscribe([]byte(prefix(k))); err != nil {
						t.Fatal(err)
					}
				}
				if err := r.Connect(ep); err != nil {
					t.Fatal(err)
				}
				rcvs = append(rcvs, r)
			}
			waitPeers(ctx, t, snd, rcvs, prefix)

			type result struct {
				kept [][][]byte
				err  error
			}
			want := n // each SUB gets every message
			if tc.snd == azmq.PUSH || tc.topics {
				want = n / len(rcvs) // round robin, or one topic each
			}
			results := make([]chan result, len(rcvs))
			for k, r := range rcvs {
				results[k] = make(chan result, 1)
				go func() {
					var res result
					for range want {
						m, err := r.Recv(ctx)
						if err != nil {
							res.err = err
							break
						}
						res.kept = append(res.kept, m)
					}
					results[k] <- res
				}()
			}
			buf := make([]byte, 0, 32)
			for i := range n {
				buf = append(buf[:0], body(i)...)
				if err := snd.Send(ctx, buf, []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			for k := range rcvs {
				res := <-results[k]
				if res.err != nil {
					t.Fatalf("receiver %d: %v", k, res.err)
				}
				for j, m := range res.kept {
					if len(m) != 2 || len(m[1]) != 1 {
						t.Fatalf("receiver %d message %d: %q", k, j, m)
					}
					var i int
					if _, err := fmt.Sscanf(string(m[0][len(prefix(k)):]), "message %d", &i); err != nil || body(i) != string(m[0]) || m[1][0] != byte(i) {
						t.Fatalf("receiver %d message %d changed after it arrived: %q", k, j, m)
					}
					if tc.snd == azmq.PUSH && seen[string(m[0])] {
						t.Fatalf("%q twice", m[0])
					}
					seen[string(m[0])] = true
				}
			}
			if len(seen) != n {
				t.Fatalf("%d distinct messages, want %d", len(seen), n)
			}
		})
	}
}

// waitPeers waits until every receiver is connected: receiver k gets a
// probe (on its topic, prefix(k)), sent until it does (a PUSH deals them
// round the peers it has); then the probes the others got meanwhile are
// drained.
func waitPeers(ctx context.Context, t *testing.T, snd *azmq.Socket, rcvs []*azmq.Socket, prefix func(int) string) {
	t.Helper()
	for k, r := range rcvs {
		probe := []byte(prefix(k) + "probe")
		for {
			if err := snd.Send(ctx, probe); err != nil {
				t.Fatal(err)
			}
			rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			m, err := r.Recv(rctx)
			cancel()
			if err == nil && string(m[0]) == string(probe) {
				break
			}
			if ctx.Err() != nil {
				t.Fatal("a receiver never got a probe")
			}
		}
	}
	// Drain the probes the other receivers got meanwhile.
	for _, r := range rcvs {
		for {
			rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			_, err := r.Recv(rctx)
			cancel()
			if err != nil {
				break
			}
		}
	}
}

func mustSocket(t *testing.T, zctx *azmq.Context, typ azmq.SocketType, opts ...azmq.SocketOption) *azmq.Socket {
	t.Helper()
	s, err := zctx.NewSocket(typ, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
