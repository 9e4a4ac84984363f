package engine

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/azmq/azmq/internal/pipe"
)

// scribbler stands for a msgcopy chunk: Done(n) takes back the n oldest
// messages given out and not yet released, and overwrites their bytes,
// as a reused chunk would. A release that comes before the writer is
// done with a message's bytes shows on the wire.
type scribbler struct {
	mu       sync.Mutex
	out      [][][]byte
	released int
	tag      pipe.Tag
}

func newScribbler() *scribbler {
	s := &scribbler{}
	s.tag = pipe.Tag{Flags: pipe.Owned, Chunk: s}
	return s
}

func (s *scribbler) msg(frames ...string) pipe.Msg {
	m := msg(frames...)
	m.Tag = &s.tag
	s.mu.Lock()
	s.out = append(s.out, m.Frames)
	s.mu.Unlock()
	return m
}

func (s *scribbler) Done(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > len(s.out) {
		panic(fmt.Sprintf("Done(%d) with %d messages out", n, len(s.out)))
	}
	for _, frames := range s.out[:n] {
		for _, f := range frames {
			for i := range f {
				f[i] = 'X'
			}
		}
	}
	s.out = s.out[n:]
	s.released += n
}

func (s *scribbler) count() (out, released int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.out), s.released
}

// TestWriterReleasesChunks: every message that came with a chunk is
// released exactly once, after its bytes are on their way: the peer reads
// every message intact though each is overwritten at its release. Runs of
// messages from two chunks interleave, as several senders' do, and the
// direct path (WriteNow) releases too.
func TestWriterReleasesChunks(t *testing.T) {
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := newPipe(64)
	res := run(t, c.e, p)
	a, b := newScribbler(), newScribbler()
	const n = 3000
	var want []byte
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		for i := range n {
			from := a
			if i/7%2 == 1 {
				from = b
			}
			if err := p.Out.Push(ctx, from.msg(fmt.Sprintf("message %d", i), "second frame"), nil); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		want = append(want, encode([]byte(fmt.Sprintf("message %d", i)), []byte("second frame"))...)
	}
	if got := c.raw.read(len(want)); !bytes.Equal(got, want) {
		t.Fatalf("the peer read other bytes than were sent: a chunk was released before its message was written")
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if canWriteNow {
		writeNow(t, c.e, p.Out, a.msg("direct"))
		if got, want := c.raw.read(8), encode([]byte("direct")); !bytes.Equal(got, want) {
			t.Fatalf("direct: % x, want % x", got, want)
		}
	}
	// Every release is in by the time the bytes are read: the writer
	// releases a batch's messages right after encoding them.
	outA, relA := a.count()
	outB, relB := b.count()
	if outA+outB != 0 {
		t.Errorf("%d messages never released", outA+outB)
	}
	total := n
	if canWriteNow {
		total++
	}
	if relA+relB != total {
		t.Errorf("%d releases for %d messages", relA+relB, total)
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}
