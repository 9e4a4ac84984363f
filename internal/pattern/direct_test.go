package pattern

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// writer is a pipe.Direct that takes every message it is offered.
type writer struct {
	mu  sync.Mutex
	got [][]string
}

func (w *writer) WriteNow(_ *pipe.Queue, m pipe.Msg) bool {
	w.mu.Lock()
	w.got = append(w.got, strs(m))
	w.mu.Unlock()
	return true
}

func (w *writer) written() [][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.got)
}

// TestDirectAfterWait: a DEALER's or ROUTER's send goes to the
// connection at once (pipe.Direct) only right after a receive that
// waited for its message, a reply's or a request's turn; a send after a
// send, or after a message that was already waiting, is queued, so that
// a stream is written in batches.
func TestDirectAfterWait(t *testing.T) {
	for _, tc := range []struct {
		typ Type
		id  []string // what the socket's sends start with
	}{
		{DEALER, nil},
		{ROUTER, []string{"peer"}},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			s := newSock(t, tc.typ, Options{})
			p := raw(t, s, 16, &pipe.Peer{RoutingID: []byte("peer")})
			w := &writer{}
			p.Out.SetDirect(w)
			out := func(body string) []string { return append(slices.Clone(tc.id), body) }
			in := func(body string) []string { return append(slices.Clone(tc.id), body) }

			send(t, s, out("first")...) // no receive before: queued
			popStrs(t, p, "first")

			peerSend(t, p, msg("waiting"))
			expect(t, s, in("waiting")...) // there already: no wait
			send(t, s, out("after waiting")...)
			popStrs(t, p, "after waiting")

			got := make(chan []string, 1)
			go func() { got <- recv(t, s) }()
			time.Sleep(short) // the receive waits
			peerSend(t, p, msg("request"))
			if m := <-got; !slices.Equal(m, in("request")) {
				t.Fatalf("recv = %q", m)
			}
			send(t, s, out("reply")...)
			send(t, s, out("more")...)
			popStrs(t, p, "more")
			empty(t, p)
			if w := w.written(); len(w) != 1 || !slices.Equal(w[0], []string{"reply"}) {
				t.Fatalf("written at once: %q, want the reply only", w)
			}
		})
	}
}
