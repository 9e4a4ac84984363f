package pattern

import (
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
