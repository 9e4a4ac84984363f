package azmq

import (
	"context"
	"testing"
	"time"
)

// waitStats polls s.Stats until ok holds, for up to 5 s.
func waitStats(t *testing.T, s *Socket, what string, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := s.Stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: stats %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStatsMessages: messages and bytes in and out, on each transport.
func TestStatsMessages(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			pull := newSock(t, z, PULL)
			push := newSock(t, z, PUSH)
			if err := pull.Bind(ep); err != nil {
				t.Fatal(err)
			}
			if err := push.Connect(pull.LastEndpoint()); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 10; i++ {
				if err := push.Send(ctx, []byte("head"), make([]byte, 100)); err != nil {
					t.Fatal(err)
				}
			}
			if err := push.SendNoCopy(ctx, []byte("x")); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 11; i++ {
				if _, err := pull.Recv(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := push.Stats(); got.MsgsOut != 11 || got.BytesOut != 10*104+1 || got.MsgsIn != 0 {
				t.Errorf("PUSH stats %+v: want 11 messages, 1041 bytes out", got)
			}
			if got := pull.Stats(); got.MsgsIn != 11 || got.BytesIn != 10*104+1 || got.MsgsOut != 0 {
				t.Errorf("PULL stats %+v: want 11 messages, 1041 bytes in", got)
			}
			if name == "inproc" {
				return
			}
			if got := pull.Stats(); got.Accepted != 1 || got.Handshakes != 1 {
				t.Errorf("PULL stats %+v: want 1 accepted, 1 handshake", got)
			}
			if got := push.Stats(); got.Connected != 1 || got.Handshakes != 1 {
				t.Errorf("PUSH stats %+v: want 1 connected, 1 handshake", got)
			}
			pull.Close()
			waitStats(t, push, "PUSH after its peer closed", func(s Stats) bool { return s.Disconnects == 1 && s.Reconnects >= 1 })
		})
	}
}

// TestStatsDropped: a PUB counts each message a full subscriber missed; a
// ROUTER each message to an unknown or full peer; a blocking type none.
func TestStatsDropped(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pub := newSock(t, z, PUB, WithSendHWM(1))
	sub := newSock(t, z, SUB, WithRecvHWM(1))
	if err := pub.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	if err := sub.Subscribe(nil); err != nil {
		t.Fatal(err)
	}
	if err := sub.Connect(pub.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	// Until the subscription arrives the PUB sends to no one: that is not
	// a drop.
	for {
		if err := pub.Send(ctx, []byte("probe")); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := sub.Recv(rctx)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the subscription never arrived")
		}
	}
	if d := pub.Stats().Dropped; d != 0 {
		t.Fatalf("Dropped = %d before any subscriber was full", d)
	}
	const n = 200000 // far more than the queues and socket buffers hold
	for i := 0; i < n; i++ {
		if err := pub.Send(ctx, make([]byte, 64)); err != nil {
			t.Fatal(err)
		}
	}
	st := pub.Stats()
	if st.Dropped == 0 || st.Dropped >= n {
		t.Errorf("PUB with a subscriber that does not read: Dropped = %d of %d sent", st.Dropped, n)
	}
	if st.MsgsOut < n {
		t.Errorf("PUB MsgsOut = %d, want at least %d: a dropped message was still sent", st.MsgsOut, n)
	}

	router := newSock(t, z, ROUTER)
	for i := 0; i < 3; i++ {
		if err := router.Send(ctx, []byte("nobody"), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if d := router.Stats().Dropped; d != 3 {
		t.Errorf("ROUTER sending to an unknown id 3 times: Dropped = %d", d)
	}
	push := newSock(t, z, PUSH, WithSendHWM(1))
	if err := push.Bind("inproc://stats-push"); err != nil {
		t.Fatal(err)
	}
	pull := newSock(t, z, PULL, WithRecvHWM(1))
	if err := pull.Connect("inproc://stats-push"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		sctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		push.Send(sctx, []byte("x")) // blocks at the HWM: never a drop
		cancel()
	}
	if d := push.Stats().Dropped; d != 0 {
		t.Errorf("PUSH Dropped = %d: a blocking type does not drop", d)
	}
}

// TestStatsHandshakeFailures: a peer of the wrong type counts on both
// sides, and the connecting side counts its reconnects.
func TestStatsHandshakeFailures(t *testing.T) {
	z := NewContext()
	defer z.Close()
	rep := newSock(t, z, REP)
	if err := rep.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	pull := newSock(t, z, PULL, WithReconnectInterval(10*time.Millisecond))
	if err := pull.Connect(rep.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	waitStats(t, rep, "REP refusing a PULL", func(s Stats) bool { return s.HandshakeFailures >= 1 && s.Handshakes == 0 })
	waitStats(t, pull, "PULL refused by a REP", func(s Stats) bool {
		return s.HandshakeFailures >= 2 && s.Reconnects >= 1 && s.Handshakes == 0
	})
}

// TestStatsNoDrop: a PUB with WithXPubNoDrop waits instead of dropping,
// and counts nothing dropped; with WithInvertMatching it drops (and
// counts) as a plain PUB.
func TestStatsNoDrop(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  SocketOption
		drop bool
	}{{"nodrop", WithXPubNoDrop(true), false}, {"invert", WithInvertMatching(true), true}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			pub := newSock(t, z, PUB, WithSendHWM(1), c.opt)
			sub := newSock(t, z, SUB, WithRecvHWM(1), WithInvertMatching(c.drop))
			if err := pub.Bind("inproc://stats-nodrop"); err != nil {
				t.Fatal(err)
			}
			topic := "" // everything
			if c.drop {
				topic = "nobody" // inverted: everything else
			}
			if err := sub.Subscribe([]byte(topic)); err != nil {
				t.Fatal(err)
			}
			if err := sub.Connect("inproc://stats-nodrop"); err != nil {
				t.Fatal(err)
			}
			waitStats(t, pub, "subscription", func(Stats) bool {
				rctx, cancel := context.WithTimeout(ctx, time.Millisecond)
				defer cancel()
				pub.Send(rctx, []byte("x"))
				rctx2, cancel2 := context.WithTimeout(ctx, 5*time.Millisecond)
				defer cancel2()
				_, err := sub.Recv(rctx2)
				return err == nil
			})
			for i := 0; i < 100; i++ {
				sctx, cancel := context.WithTimeout(ctx, time.Millisecond)
				pub.Send(sctx, []byte("x"))
				cancel()
			}
			if d := pub.Stats().Dropped; (d > 0) != c.drop {
				t.Errorf("Dropped = %d", d)
			}
		})
	}
}

// TestStatsCounter: the packed message and byte counts stay exact across
// folds (either part passing its bound) and huge messages, and a reader
// running beside concurrent adders only ever sees them grow.
func TestStatsCounter(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sizes []uint64 // added in turn, repeated times
		times int
	}{
		{"small", []uint64{0, 16, 256}, 1000},
		{"fold-by-bytes", []uint64{1 << 31}, 3 * (foldBytes >> 31)},
		{"fold-by-messages", []uint64{1}, foldMsgs + 10},
		{"huge", []uint64{bigMsg, 1<<40 + 3, 7}, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c counter
			var wantMsgs, wantBytes uint64
			for i := 0; i < tt.times; i++ {
				for _, n := range tt.sizes {
					c.add(n)
					wantMsgs++
					wantBytes += n
				}
			}
			if m, b := c.load(); m != wantMsgs || b != wantBytes {
				t.Fatalf("load = %d messages, %d bytes; want %d, %d", m, b, wantMsgs, wantBytes)
			}
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		var c counter
		const adders, each = 4, foldMsgs/4 + 1000
		done := make(chan struct{})
		for range adders {
			go func() {
				defer func() { done <- struct{}{} }()
				for range each {
					c.add(3)
				}
			}()
		}
		var lastM, lastB uint64
		for finished := 0; finished < adders; {
			select {
			case <-done:
				finished++
			default:
			}
			m, b := c.load()
			if m < lastM || b < lastB || b != 3*m {
				t.Fatalf("load = %d, %d after %d, %d: went back or half counted", m, b, lastM, lastB)
			}
			lastM, lastB = m, b
		}
		if m, b := c.load(); m != adders*each || b != 3*adders*each {
			t.Fatalf("load = %d, %d; want %d, %d", m, b, adders*each, 3*adders*each)
		}
	})
}
