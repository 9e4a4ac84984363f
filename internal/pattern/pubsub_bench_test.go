package pattern

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq/internal/pipe"
)

// BenchmarkPubSend: one PUB's Send to four subscribers of the message's
// topic, with no option set (the path the options must not slow down).
func BenchmarkPubSend(b *testing.B) {
	s, err := New(PUB, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var ps []*pipe.Pipe
	for range 4 {
		p := pipe.New(0, 0, s.Readable(), s.Writable(), nil, nil)
		p.SetPeer(&pipe.Peer{SocketType: "SUB"})
		if err := s.Attach(p); err != nil {
			b.Fatal(err)
		}
		p.In.TryPush(subscribeMsg("t"))
		ps = append(ps, p)
	}
	m := msg("topic", "payload")
	ctx := context.Background()
	var scratch []pipe.Msg
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
		if i%256 == 255 {
			for _, p := range ps {
				scratch, _ = p.Out.PopBatch(scratch[:0], 0)
				clear(scratch)
			}
		}
	}
}

// BenchmarkPubSendDistinct: a PUB's Send to ten subscribers of a topic
// each, to each topic in turn (bench-fanout's "distinct" layout): every
// message matches one subscriber.
func BenchmarkPubSendDistinct(b *testing.B) {
	const n = 10
	s, err := New(PUB, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var ps []*pipe.Pipe
	var ms []pipe.Msg
	for i := range n {
		p := pipe.New(0, 0, s.Readable(), s.Writable(), nil, nil)
		p.SetPeer(&pipe.Peer{SocketType: "SUB"})
		if err := s.Attach(p); err != nil {
			b.Fatal(err)
		}
		topic := fmt.Sprintf("topic-%03d", i)
		p.In.TryPush(subscribeMsg(topic))
		ps = append(ps, p)
		ms = append(ms, msg(topic+" payload"))
	}
	ctx := context.Background()
	var scratch []pipe.Msg
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Send(ctx, ms[i%n]); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 1023 {
			for _, p := range ps {
				scratch, _ = p.Out.PopBatch(scratch[:0], 0)
				clear(scratch)
			}
		}
	}
	b.StopTimer()
	for _, p := range ps {
		if p.Out.Len() == 0 && b.N >= 2*n {
			b.Fatal("a subscriber got nothing")
		}
	}
}
