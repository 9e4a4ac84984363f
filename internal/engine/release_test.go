package engine

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/racetest"
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

// slabMsg cuts message i from s as the decoder does: one to three small
// frames, each byte depending on the message.
func slabMsg(s *slab, i int) pipe.Msg {
	frames := s.start()
	for j := range 1 + i%3 {
		n := (i*13 + j*7) % (slabMaxBody + 1)
		b := s.body(n)
		for k := range b {
			b[k] = byte(i + j + k)
		}
		frames = append(frames, b)
	}
	return s.finish(frames, true)
}

func checkSlabMsg(t *testing.T, m pipe.Msg, i int) {
	t.Helper()
	if len(m.Frames) != 1+i%3 {
		t.Fatalf("message %d: %d frames", i, len(m.Frames))
	}
	for j, f := range m.Frames {
		if len(f) != (i*13+j*7)%(slabMaxBody+1) {
			t.Fatalf("message %d frame %d: %d bytes", i, j, len(f))
		}
		for k := range f {
			if f[k] != byte(i+j+k) {
				t.Fatalf("message %d frame %d changed at byte %d", i, j, k)
			}
		}
	}
}

// TestSlabReuse: a chunk of received messages is used again once every
// message cut from it has been released, never while one is still held:
// a message kept (never released) keeps its bytes however many messages
// come after it, and the rest go round, so that a steady stream released
// some messages behind the decoder allocates no new chunks.
func TestSlabReuse(t *testing.T) {
	var s slab
	const n, lag = 40000, 300
	type held struct {
		m pipe.Msg
		i int
	}
	var kept []held
	ring := make([]held, lag) // released lag messages after their cut
	var ms runtime.MemStats
	var mallocs uint64
	for i := range n {
		if i == n/2 {
			runtime.ReadMemStats(&ms)
			mallocs = ms.Mallocs
		}
		m := slabMsg(&s, i)
		checkSlabMsg(t, m, i)
		if m.Tag == nil || m.Tag.Chunk == nil {
			t.Fatalf("message %d: no chunk to release", i)
		}
		if i%997 == 0 && len(kept) < cap(kept) {
			kept = append(kept, held{m, i}) // held by its receiver for good
			continue
		}
		if i%997 == 0 {
			kept = make([]held, 0, 64)
			kept = append(kept, held{m, i})
			continue
		}
		// Copied out (RecvInto) some messages later, as a receiver
		// behind the decoder does: a chunk's last release comes after
		// the decoder has moved on to later chunks.
		if old := ring[i%lag]; old.m.Tag != nil {
			checkSlabMsg(t, old.m, old.i)
			old.m.Tag.Chunk.Done(1)
		}
		ring[i%lag] = held{m, i}
	}
	runtime.ReadMemStats(&ms)
	for _, k := range kept {
		checkSlabMsg(t, k.m, k.i)
	}
	// Some 160 full-size chunks (three allocations each) are cut in the
	// second half: without reuse some 480 allocations. With it, only the
	// 20 chunks the kept messages pin are made again, and a few that
	// the collector takes from the pool.
	if got := ms.Mallocs - mallocs; !racetest.Enabled && got > 250 {
		t.Errorf("%d allocations in %d messages released behind the decoder: chunks are not used again", got, n/2)
	}
}
