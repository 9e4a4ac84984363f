package pattern

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

func TestReqRepAlternation(t *testing.T) {
	req, rep := newSock(t, REQ, Options{}), newSock(t, REP, Options{})
	ctx := timeout(t, 2*time.Second)
	if _, _, err := req.Recv(ctx); !errors.Is(err, ErrState) {
		t.Fatalf("REQ Recv before Send = %v", err)
	}
	if err := rep.Send(ctx, msg("x")); !errors.Is(err, ErrState) {
		t.Fatalf("REP Send before Recv = %v", err)
	}
	connect(t, req, rep, REQ, REP, 10)
	for i := 0; i < 3; i++ {
		send(t, req, "hello", fmt.Sprint(i))
		if err := req.Send(ctx, msg("again")); !errors.Is(err, ErrState) {
			t.Fatalf("second REQ Send = %v", err)
		}
		expect(t, rep, "hello", fmt.Sprint(i))
		if _, _, err := rep.Recv(ctx); !errors.Is(err, ErrState) {
			t.Fatalf("second REP Recv = %v", err)
		}
		send(t, rep, "world")
		if err := rep.Send(ctx, msg("again")); !errors.Is(err, ErrState) {
			t.Fatalf("second REP Send = %v", err)
		}
		expect(t, req, "world")
		if _, _, err := req.Recv(ctx); !errors.Is(err, ErrState) {
			t.Fatalf("second REQ Recv = %v", err)
		}
	}
}

func TestReqPutsDelimiter(t *testing.T) {
	req := newSock(t, REQ, Options{})
	p := raw(t, req, 10, nil)
	send(t, req, "a", "b")
	popStrs(t, p, "", "a", "b")
}

func TestRepAnswersRightRequester(t *testing.T) {
	rep := newSock(t, REP, Options{})
	var reqs []Socket
	for i := 0; i < 3; i++ {
		r := newSock(t, REQ, Options{})
		connect(t, r, rep, REQ, REP, 10)
		reqs = append(reqs, r)
	}
	for i, r := range reqs {
		send(t, r, fmt.Sprint("req", i))
	}
	for range reqs {
		got := recv(t, rep)
		send(t, rep, "re:"+got[0])
	}
	for i, r := range reqs {
		expect(t, r, fmt.Sprint("re:req", i))
	}
}

func TestReqDropsStrayReplies(t *testing.T) {
	req := newSock(t, REQ, Options{})
	p1, p2 := raw(t, req, 10, nil), raw(t, req, 10, nil)
	send(t, req, "q")
	popStrs(t, p1, "", "q") // round-robin starts at the first pipe
	peerSend(t, p2, msg("", "from the other peer"))
	peerSend(t, p1, msg("no delimiter"))
	peerSend(t, p1, msg("x", "", "bad first frame"))
	peerSend(t, p1, msg("")) // delimiter without body
	peerSend(t, p1, msg("", "right"))
	expect(t, req, "right")
	if n := p1.In.Len() + p2.In.Len(); n != 0 {
		t.Fatalf("%d messages left unread", n)
	}
}

func TestReqDetachResetsState(t *testing.T) {
	req := newSock(t, REQ, Options{})
	p1 := raw(t, req, 10, nil)
	send(t, req, "q1")
	popStrs(t, p1, "", "q1")

	// A Recv blocked on the lost peer learns the request is lost.
	done := make(chan error, 1)
	go func() {
		_, _, err := req.Recv(timeout(t, 4*short))
		done <- err
	}()
	time.Sleep(short) // bounded: let Recv block before the Detach
	p1.Close()
	req.Detach(p1)
	if err := <-done; !errors.Is(err, ErrState) || !strings.Contains(err.Error(), "went away") {
		t.Fatalf("blocked Recv = %v, want the lost-request ErrState", err)
	}

	// The REQ is back in the send state.
	p2 := raw(t, req, 10, nil)
	send(t, req, "q2")
	popStrs(t, p2, "", "q2")
}

func TestRepEnvelope(t *testing.T) {
	rep := newSock(t, REP, Options{})
	p := raw(t, rep, 10, nil)
	peerSend(t, p, msg("no delimiter"))
	peerSend(t, p, msg("only delimiter", ""))
	peerSend(t, p, msg("id1", "id2", "", "body", "2"))
	expect(t, rep, "body", "2")
	send(t, rep, "reply")
	popStrs(t, p, "id1", "id2", "", "reply")
	empty(t, p)
}

func TestRepReplyToGonePeerDropped(t *testing.T) {
	rep := newSock(t, REP, Options{})
	p := pipe.New(1, 10, rep.Readable(), rep.Writable(), nil, nil) // Out holds 1
	p.SetPeer(&pipe.Peer{SocketType: "REQ"})
	if err := rep.Attach(p); err != nil {
		t.Fatal(err)
	}
	peerSend(t, p, msg("", "a"))
	peerSend(t, p, msg("", "b"))
	expect(t, rep, "a")
	// Full pipe: the reply is dropped, never blocks.
	if ok, _ := p.Out.TryPush(msg("filler")); !ok {
		t.Fatal("filler")
	}
	send(t, rep, "dropped")
	peerRecv(t, p)
	empty(t, p)
	// Gone peer: dropped too.
	expect(t, rep, "b")
	p.Close()
	rep.Detach(p)
	send(t, rep, "dropped")
	empty(t, p)
	// Recv is allowed again.
	q := raw(t, rep, 1, &pipe.Peer{})
	peerSend(t, q, msg("", "c"))
	expect(t, rep, "c")
}

func TestReqRouterDealerRep(t *testing.T) {
	// REQ -> ROUTER ... DEALER -> REP: the envelope travels through.
	req, router, dealer, rep := newSock(t, REQ, Options{}), newSock(t, ROUTER, Options{}),
		newSock(t, DEALER, Options{}), newSock(t, REP, Options{})
	connect(t, req, router, REQ, ROUTER, 10)
	connect(t, dealer, rep, DEALER, REP, 10)
	send(t, req, "hi")
	m, _, err := router.Recv(timeout(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := dealer.Send(timeout(t, time.Second), m); err != nil {
		t.Fatal(err)
	}
	expect(t, rep, "hi")
	send(t, rep, "ho")
	m, _, err = dealer.Recv(timeout(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := router.Send(timeout(t, time.Second), m); err != nil {
		t.Fatal(err)
	}
	expect(t, req, "ho")
}
