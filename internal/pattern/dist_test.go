package pattern

import (
	"context"
	"slices"
	"testing"

	"github.com/azmq/azmq/internal/pipe"
)

// TestDistributorSharing: engine pipes share one message (no copy however
// many), an inproc pipe owns what it gets, so no other pipe shares it:
// whatever the order the pipes come in.
func TestDistributorSharing(t *testing.T) {
	for _, order := range []string{"EEE", "IEE", "EIE", "EEI", "IIE", "EII", "IEIE"} {
		t.Run(order, func(t *testing.T) {
			var d distributor
			// A Send copy cut from a chunk: no pipe may be its last user.
			chunk := &pipe.Tag{Flags: pipe.Owned, Chunk: noRelease{t}}
			orig := pipe.Msg{Frames: [][]byte{[]byte("topic"), []byte("body")}, Tag: chunk}
			ps := make([]*pipe.Pipe, len(order))
			for i, c := range order {
				ps[i] = pipe.New(0, 0, nil, nil, nil, nil)
				ps[i].Inproc = c == 'I'
				d.push(ps[i], orig)
			}
			got := make([]pipe.Msg, len(ps))
			for i, p := range ps {
				m, ok, _ := p.Out.TryPop()
				if !ok {
					t.Fatalf("pipe %d got nothing", i)
				}
				if string(m.Frames[0]) != "topic" || string(m.Frames[1]) != "body" {
					t.Fatalf("pipe %d got %q", i, m.Frames)
				}
				if m.Tag != nil && m.Tag.Chunk != nil || m.Flags()&pipe.Owned != 0 {
					t.Fatalf("pipe %d got the message as its own (flags %d)", i, m.Flags())
				}
				got[i] = m
			}
			same := func(a, b pipe.Msg) bool { return &a.Frames[1][0] == &b.Frames[1][0] }
			for i := range ps {
				for j := i + 1; j < len(ps); j++ {
					share := same(got[i], got[j])
					if order[i] == 'I' || order[j] == 'I' {
						if share {
							t.Errorf("pipes %d and %d share a body, one of them inproc", i, j)
						}
					} else if !share {
						t.Errorf("engine pipes %d and %d got copies", i, j)
					}
				}
			}
		})
	}
}

// BenchmarkDistributor1000: one message to a thousand engine pipes.
func BenchmarkDistributor1000(b *testing.B) {
	ps := make([]*pipe.Pipe, 1000)
	for i := range ps {
		ps[i] = pipe.New(0, 0, nil, nil, nil, nil)
	}
	m := pipe.Msg{Frames: [][]byte{[]byte("topic"), make([]byte, 64)}}
	b.ReportAllocs()
	for b.Loop() {
		var d distributor
		for _, p := range ps {
			d.push(p, m)
		}
		for _, p := range ps {
			p.Out.TryPop()
		}
	}
}

// noRelease fails a test that releases a chunk.
type noRelease struct{ t *testing.T }

func (r noRelease) Done(int) { r.t.Error("a fanned-out message was released") }

// TestPubOnlySubscriberOwns: a message that one subscriber matches goes
// to it as it is, tag and all, so that its writer may give a Send copy's
// memory back; a message that two match reaches both without it.
func TestPubOnlySubscriberOwns(t *testing.T) {
	pub := newSock(t, PUB, Options{})
	s1, s2 := newSock(t, SUB, Options{}), newSock(t, SUB, Options{})
	p1, _ := connect(t, pub, s1, PUB, SUB, 100)
	p2, _ := connect(t, pub, s2, PUB, SUB, 100)
	subscribe(t, s1, "a", "both")
	subscribe(t, s2, "b", "both")
	ctx := context.Background()
	owned := &pipe.Tag{Flags: pipe.Owned, Chunk: noRelease{t}}
	for _, tc := range []struct {
		topic   string
		own, to []*pipe.Pipe
	}{
		{"a1", []*pipe.Pipe{p1}, []*pipe.Pipe{p1}},
		{"b1", []*pipe.Pipe{p2}, []*pipe.Pipe{p2}},
		{"both", nil, []*pipe.Pipe{p1, p2}},
		{"none", nil, nil},
	} {
		if err := pub.Send(ctx, pipe.Msg{Frames: [][]byte{[]byte(tc.topic)}, Tag: owned}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*pipe.Pipe{p1, p2} {
			m, ok, _ := p.Out.TryPop()
			if ok != slices.Contains(tc.to, p) {
				t.Fatalf("%s: delivered %v", tc.topic, ok)
			}
			if !ok {
				continue
			}
			if string(m.Frames[0]) != tc.topic {
				t.Fatalf("%s: got %q", tc.topic, m.Frames[0])
			}
			if want := slices.Contains(tc.own, p); (m.Tag == owned) != want {
				t.Errorf("%s: the only subscriber's copy is its own: %v, want %v", tc.topic, m.Tag == owned, want)
			}
			if len(tc.to) > 1 && (m.Flags()&pipe.Owned != 0 || m.Tag != nil && m.Tag.Chunk != nil) {
				t.Errorf("%s: a shared message kept Owned or its chunk", tc.topic)
			}
		}
	}
}
