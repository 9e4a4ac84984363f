package pattern

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// failed records why a pipe's connection was ended through pipe.Fail.
func failed(p *pipe.Pipe) <-chan error {
	ch := make(chan error, 1)
	p.OnFail(func(err error) {
		select {
		case ch <- err:
		default:
		}
	})
	return ch
}

func TestRouterHandover(t *testing.T) {
	for _, handover := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "handover"}[handover], func(t *testing.T) {
			r := newSock(t, ROUTER, Options{Routing: RoutingOptions{Handover: handover}})
			old := raw(t, r, 10, &pipe.Peer{RoutingID: []byte("dup")})
			oldFail := failed(old)
			peerSend(t, old, msg("before"))
			nu := raw(t, r, 10, &pipe.Peer{RoutingID: []byte("dup")})
			peerSend(t, nu, msg("from new"))

			send(t, r, "dup", "reply")
			if !handover {
				// libzmq's default: the newcomer is ignored.
				popStrs(t, old, "reply")
				empty(t, nu)
				expect(t, r, "dup", "before")
				nothing(t, r)
				select {
				case err := <-oldFail:
					t.Fatalf("old connection ended: %v", err)
				default:
				}
				return
			}
			popStrs(t, nu, "reply")
			empty(t, old)
			select {
			case err := <-oldFail:
				if !errors.Is(err, errHandedOver) {
					t.Fatalf("old connection ended with %v", err)
				}
			default:
				t.Fatal("old connection not ended")
			}
			// What the old one sent is still delivered, under a generated
			// id; the new one's under the id.
			got := map[string]string{}
			for range 2 {
				m := recv(t, r)
				got[m[1]] = m[0]
			}
			if got["from new"] != "dup" {
				t.Fatalf("new connection's message under %q", got["from new"])
			}
			if id := got["before"]; len(id) != 5 || id[0] != 0 {
				t.Fatalf("old connection's message under %x, want a generated id", id)
			}
			// The old pipe's end does not take the id from the new one.
			old.Close()
			r.Detach(old)
			send(t, r, "dup", "still")
			popStrs(t, nu, "still")
		})
	}
}

func TestProbeRouter(t *testing.T) {
	for _, typ := range []Type{ROUTER, DEALER, REQ} {
		for _, probe := range []bool{false, true} {
			t.Run(typ.String()+map[bool]string{false: "", true: "/probe"}[probe], func(t *testing.T) {
				s := newSock(t, typ, Options{Routing: RoutingOptions{Probe: probe}})
				p := raw(t, s, 10, &pipe.Peer{SocketType: "ROUTER", RoutingID: []byte("r")})
				if !probe {
					empty(t, p)
					s.Hiccup(p)
					empty(t, p)
					return
				}
				popStrs(t, p, "")
				empty(t, p)
				// A persistent pipe's next connection is probed again.
				s.Hiccup(p)
				popStrs(t, p, "")
				empty(t, p)
			})
		}
	}
}

func TestProbeReachesRouter(t *testing.T) {
	d := newSock(t, DEALER, Options{Routing: RoutingOptions{Probe: true}})
	r := newSock(t, ROUTER, Options{})
	pd := pipe.New(10, 10, d.Readable(), d.Writable(), r.Readable(), r.Writable())
	pr := &pipe.Pipe{In: pd.Out, Out: pd.In}
	pr.SetPeer(&pipe.Peer{SocketType: "DEALER", RoutingID: []byte("d")})
	if err := d.Attach(pd); err != nil { // probe queued before the connection
		t.Fatal(err)
	}
	if err := r.Attach(pr); err != nil {
		t.Fatal(err)
	}
	expect(t, r, "d", "")
	// The ROUTER can now address the DEALER before it says anything.
	send(t, r, "d", "welcome")
	expect(t, d, "welcome")
}

// drain reads what a socket delivers until it has nothing more.
func drain(t *testing.T, s Socket) [][]string {
	t.Helper()
	var out [][]string
	for range 20 {
		m, _, err := s.Recv(timeout(t, short))
		if err != nil {
			return out
		}
		out = append(out, strs(m))
	}
	t.Fatal("more messages than expected")
	return nil
}

func TestRouterNotify(t *testing.T) {
	cases := []struct {
		mask int
		want [][]string
	}{
		{0, [][]string{{"a", "m1"}, {"a", "m2"}}},
		{NotifyConnect, [][]string{{"a", ""}, {"a", "m1"}, {"a", "m2"}}},
		{NotifyDisconnect, [][]string{{"a", "m1"}, {"a", "m2"}, {"a", ""}}},
		{NotifyConnect | NotifyDisconnect, [][]string{{"a", ""}, {"a", "m1"}, {"a", "m2"}, {"a", ""}}},
	}
	for _, c := range cases {
		t.Run(string(rune('0'+c.mask)), func(t *testing.T) {
			r := newSock(t, ROUTER, Options{Routing: RoutingOptions{Notify: c.mask}})
			p := raw(t, r, 10, &pipe.Peer{SocketType: "DEALER", RoutingID: []byte("a")})
			peerSend(t, p, msg("m1"))
			peerSend(t, p, msg("m2"))
			// It goes before its messages are read: they come first.
			p.In.Close()
			p.Out.Discard()
			r.Detach(p)
			if got := drain(t, r); !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Fatalf("got %q, want %q", got, c.want)
			}

			// Inproc connections are not told of, as in libzmq.
			in := pipe.New(10, 10, r.Readable(), r.Writable(), nil, nil)
			in.Inproc = true
			in.SetPeer(&pipe.Peer{SocketType: "DEALER", RoutingID: []byte("b")})
			if err := r.Attach(in); err != nil {
				t.Fatal(err)
			}
			in.Close()
			r.Detach(in)
			nothing(t, r)
		})
	}
}

func TestRouterNotifyPersistent(t *testing.T) {
	r := newSock(t, ROUTER, Options{Routing: RoutingOptions{Notify: NotifyConnect | NotifyDisconnect}})
	p := pipe.New(10, 10, r.Readable(), r.Writable(), nil, nil)
	if err := r.(IDAttacher).AttachID(p, []byte("srv")); err != nil {
		t.Fatal(err)
	}
	nothing(t, r) // no connection yet
	p.SetPeer(&pipe.Peer{SocketType: "ROUTER"})
	r.Hiccup(p) // the socket tells of every connection of such a pipe
	peerSend(t, p, msg("x"))
	r.Hangup(p)
	want := [][]string{{"srv", ""}, {"srv", "x"}, {"srv", ""}}
	if got := drain(t, r); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("got %q, want %q", got, want)
	}
	// A reconnection before the last one's data was read: the end is
	// told before the new connection.
	r.Hiccup(p)
	peerSend(t, p, msg("y"))
	r.Hangup(p)
	r.Hiccup(p)
	want = [][]string{{"srv", ""}, {"srv", ""}, {"srv", ""}, {"srv", "y"}}
	if got := drain(t, r); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestRouterAttachID(t *testing.T) {
	r := newSock(t, ROUTER, Options{RouterMandatory: true})
	a := r.(IDAttacher)
	// A persistent connect pipe: addressable before its connection.
	p := pipe.New(10, 10, r.Readable(), r.Writable(), nil, nil)
	if err := a.AttachID(p, []byte("chosen")); err != nil {
		t.Fatal(err)
	}
	if !a.IDInUse([]byte("chosen")) || a.IDInUse([]byte("other")) {
		t.Fatal("IDInUse wrong")
	}
	send(t, r, "chosen", "early")
	popStrs(t, p, "early")
	// Whatever the peer announces, on every connection.
	p.SetPeer(&pipe.Peer{SocketType: "ROUTER", RoutingID: []byte("announced")})
	r.Hiccup(p)
	peerSend(t, p, msg("hi"))
	expect(t, r, "chosen", "hi")
	send(t, r, "chosen", "later")
	popStrs(t, p, "later")

	// The id is taken: by the pipe above, and by a peer's Identity.
	q := pipe.New(10, 10, r.Readable(), r.Writable(), nil, nil)
	if err := a.AttachID(q, []byte("chosen")); !errors.Is(err, ErrIDInUse) {
		t.Fatalf("duplicate AttachID = %v", err)
	}
	raw(t, r, 10, &pipe.Peer{RoutingID: []byte("peer")})
	if err := a.AttachID(q, []byte("peer")); !errors.Is(err, ErrIDInUse) {
		t.Fatalf("AttachID of a peer's id = %v", err)
	}
	// Gone for good: the id is free.
	p.Close()
	r.Detach(p)
	if a.IDInUse([]byte("chosen")) {
		t.Fatal("id still in use after Detach")
	}
}

func TestStreamAttachID(t *testing.T) {
	s := newSock(t, STREAM, Options{})
	a := s.(IDAttacher)
	p := pipe.New(10, 10, s.Readable(), s.Writable(), nil, nil)
	p.SetPeer(&pipe.Peer{})
	if err := a.AttachID(p, []byte("conn")); err != nil {
		t.Fatal(err)
	}
	expect(t, s, "conn", "")
	peerSend(t, p, msg("data"))
	expect(t, s, "conn", "data")
	send(t, s, "conn", "back")
	popStrs(t, p, "back")
	q := pipe.New(10, 10, s.Readable(), s.Writable(), nil, nil)
	if err := a.AttachID(q, []byte("conn")); !errors.Is(err, ErrIDInUse) {
		t.Fatalf("duplicate = %v", err)
	}
}

// reqID reads the request id of a correlated request popped by a peer.
func reqID(t *testing.T, m pipe.Msg) []byte {
	t.Helper()
	if len(m.Frames) < 3 || len(m.Frames[0]) != 4 || len(m.Frames[1]) != 0 {
		t.Fatalf("request %q: want [4-byte id, \"\", body]", strs(m))
	}
	return m.Frames[0]
}

func TestReqCorrelate(t *testing.T) {
	req := newSock(t, REQ, Options{Routing: RoutingOptions{Correlate: true}})
	p := raw(t, req, 10, nil)
	send(t, req, "q1")
	m := peerRecv(t, p)
	id1 := reqID(t, m)
	if string(m.Frames[2]) != "q1" {
		t.Fatalf("request = %q", strs(m))
	}
	other := binary.LittleEndian.AppendUint32(nil, binary.LittleEndian.Uint32(id1)+7)
	for _, bad := range []pipe.Msg{
		{Frames: [][]byte{other, {}, []byte("wrong id")}},
		{Frames: [][]byte{{}, []byte("no id")}},
		{Frames: [][]byte{id1, []byte("no delimiter")}},
		{Frames: [][]byte{id1, {}}},
	} {
		peerSend(t, p, bad)
	}
	peerSend(t, p, pipe.Msg{Frames: [][]byte{id1, {}, []byte("r1")}})
	expect(t, req, "r1")

	// Ids follow each other.
	send(t, req, "q2")
	id2 := reqID(t, peerRecv(t, p))
	if binary.LittleEndian.Uint32(id2) != binary.LittleEndian.Uint32(id1)+1 {
		t.Fatalf("ids %x then %x", id1, id2)
	}
	// A late reply to q1 does not pass for q2's.
	peerSend(t, p, pipe.Msg{Frames: [][]byte{id1, {}, []byte("late r1")}})
	peerSend(t, p, pipe.Msg{Frames: [][]byte{id2, {}, []byte("r2")}})
	expect(t, req, "r2")
}

func TestReqCorrelateThroughRep(t *testing.T) {
	req := newSock(t, REQ, Options{Routing: RoutingOptions{Correlate: true}})
	rep := newSock(t, REP, Options{})
	connect(t, req, rep, REQ, REP, 10)
	for _, q := range []string{"a", "b", "c"} {
		send(t, req, q)
		expect(t, rep, q)
		send(t, rep, q+"!")
		expect(t, req, q+"!")
	}
}

func TestReqRelaxed(t *testing.T) {
	t.Run("strict", func(t *testing.T) {
		req := newSock(t, REQ, Options{})
		raw(t, req, 10, nil)
		send(t, req, "q1")
		if err := req.Send(timeout(t, time.Second), msg("q2")); !errors.Is(err, ErrState) {
			t.Fatalf("second Send = %v, want ErrState", err)
		}
	})
	t.Run("relaxed+correlate", func(t *testing.T) {
		req := newSock(t, REQ, Options{Routing: RoutingOptions{Relaxed: true, Correlate: true}})
		p := raw(t, req, 10, nil)
		send(t, req, "q1")
		id1 := reqID(t, peerRecv(t, p))
		send(t, req, "q2") // no reply yet: allowed
		id2 := reqID(t, peerRecv(t, p))
		peerSend(t, p, pipe.Msg{Frames: [][]byte{id1, {}, []byte("r1")}})
		peerSend(t, p, pipe.Msg{Frames: [][]byte{id2, {}, []byte("r2")}})
		expect(t, req, "r2")
		// r1 was dropped: the REQ is back in the send state.
		if _, _, err := req.Recv(timeout(t, short)); !errors.Is(err, ErrState) {
			t.Fatalf("Recv after the reply = %v, want ErrState", err)
		}
		if n := p.In.Len(); n != 0 {
			t.Fatalf("%d messages left unread", n)
		}
	})
	t.Run("relaxed, two peers", func(t *testing.T) {
		// Without Correlate, the reply is taken from the peer of the last
		// request only.
		req := newSock(t, REQ, Options{Routing: RoutingOptions{Relaxed: true}})
		p1, p2 := raw(t, req, 10, nil), raw(t, req, 10, nil)
		send(t, req, "q1")
		popStrs(t, p1, "", "q1")
		send(t, req, "q2")
		popStrs(t, p2, "", "q2")
		peerSend(t, p1, msg("", "r1"))
		peerSend(t, p2, msg("", "r2"))
		expect(t, req, "r2")
		// Recv with no request out is still ErrState.
		if _, _, err := req.Recv(timeout(t, short)); !errors.Is(err, ErrState) {
			t.Fatalf("Recv with no request = %v", err)
		}
	})
	t.Run("relaxed, lost request", func(t *testing.T) {
		// azmq's recovery of a lost request works beside Relaxed.
		req := newSock(t, REQ, Options{Routing: RoutingOptions{Relaxed: true, Correlate: true}})
		p1 := raw(t, req, 10, nil)
		send(t, req, "q1")
		peerRecv(t, p1)
		p1.Close()
		req.Detach(p1)
		if _, _, err := req.Recv(timeout(t, time.Second)); !errors.Is(err, errRequestLost) {
			t.Fatalf("Recv = %v, want the lost-request error", err)
		}
		p2 := raw(t, req, 10, nil)
		send(t, req, "q2")
		id := reqID(t, peerRecv(t, p2))
		peerSend(t, p2, pipe.Msg{Frames: [][]byte{bytes.Clone(id), {}, []byte("r2")}})
		expect(t, req, "r2")
	})
}
