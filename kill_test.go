package azmq

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A PUSH process killed mid-stream: the PULL never sees part of a message,
// notices the death, and takes the stream of the restarted process.
func TestSenderKilledMidStreamAndRestarted(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ev := pull.Monitor(ctx)
	ep := pull.LastEndpoint()
	const size = 64 << 10 // several writes per message: the kill lands mid-frame

	for run := uint32(1); run <= 2; run++ {
		p := startPeer(t, "push", ep, false, false, int(run))
		p.say("stream %d", size)
		var seqs []uint32
		for len(seqs) < 300 {
			m, err := pull.Recv(ctx)
			if err != nil {
				t.Fatalf("run %d: Recv after %d messages: %v", run, len(seqs), err)
			}
			seq, ok := seqCheck(m)
			if !ok {
				t.Fatalf("run %d: message %d is not whole (%d frames)", run, len(seqs), len(m))
			}
			seqs = append(seqs, seq)
		}
		p.kill()
		waitEvent(t, ev, EventDisconnected)
		// What had arrived whole before the death is still delivered; no
		// piece of the message cut by the kill ever is.
		for {
			rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			m, err := pull.Recv(rctx)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			seq, ok := seqCheck(m)
			if !ok {
				t.Fatalf("run %d: a message after the kill is not whole (%d frames, %d bytes)", run, len(m), len(m[0]))
			}
			seqs = append(seqs, seq)
		}
		if !contiguous(seqs, run<<24) {
			t.Fatalf("run %d: messages out of order or missing: first %#x, %d in all", run, seqs[0], len(seqs))
		}
		t.Logf("run %d: %d whole messages of %d bytes, then SIGKILL", run, len(seqs), size)
	}
}

// A PULL process killed mid-stream and restarted on the same endpoint:
// the connecting PUSH reconnects and goes on; what was still queued on its
// side reaches the new process, in order, and nothing arrives twice. Only
// what was in flight on the dead connection is lost, as with libzmq.
func TestReceiverKilledAndRestarted(t *testing.T) {
	ctx := testCtx(t)
	ep := "tcp://127.0.0.1:" + freePort(t)
	z := NewContext()
	defer z.Close()
	push := newSock(t, z, PUSH, WithReconnectInterval(20*time.Millisecond), WithLinger(0))
	ev := push.Monitor(ctx)
	if err := push.Connect(ep); err != nil {
		t.Fatal(err)
	}
	const total, size = 4000, 16 << 10
	first := startPeer(t, "pull", ep, true, false, 0)
	sent := make(chan error, 1)
	go func() {
		for seq := uint32(0); seq < total; seq++ {
			if err := push.Send(ctx, seqMsg(seq, size)); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	first.waitRecv(10*time.Second, 500)
	first.kill()
	waitEvent(t, ev, EventDisconnected)
	before := first.received()
	if !contiguous(before, 0) {
		t.Fatalf("first receiver: out of order: %v...", before[:10])
	}

	second := startPeer(t, "pull", ep, true, false, 0)
	second.waitRecv(20*time.Second, total-1)
	if err := <-sent; err != nil {
		t.Fatalf("Send: %v", err)
	}
	after := second.received()
	last := before[len(before)-1]
	if after[0] <= last || !contiguous(after, after[0]) {
		t.Fatalf("second receiver: first %d after the first's last %d, contiguous %v", after[0], last, contiguous(after, after[0]))
	}
	t.Logf("first receiver took 0..%d, second %d..%d; %d lost in flight with the killed process",
		last, after[0], total-1, after[0]-last-1)
	second.say("quit")
}

// A REQ whose REP process dies holding the request: the reply will never
// come, so Recv says the request is lost (an ErrState) instead of waiting;
// the REQ may send again, and the restarted REP answers. (libzmq's REQ
// stays stuck in its receive state instead.)
func TestReqWhoseRepDies(t *testing.T) {
	ctx := testCtx(t)
	ep := "tcp://127.0.0.1:" + freePort(t)
	z := NewContext()
	defer z.Close()
	req := newSock(t, z, REQ, WithReconnectInterval(20*time.Millisecond))
	ev := req.Monitor(ctx)
	if err := req.Connect(ep); err != nil {
		t.Fatal(err)
	}
	rep := startPeer(t, "rep", ep, true, false, 0)
	mustSend(t, ctx, req, "one")
	rep.waitLine(5*time.Second, "req one")
	rep.kill()
	waitEvent(t, ev, EventDisconnected)

	if _, err := req.Recv(ctx); !errors.Is(err, ErrState) {
		t.Fatalf("Recv after the REP died = %v, want ErrState (request lost)", err)
	}
	// The request died with its peer: the REQ is free to ask again.
	rep = startPeer(t, "rep", ep, true, false, 0)
	rep.say("answer")
	rep.waitLine(5*time.Second, "answering")
	mustSend(t, ctx, req, "two")
	mustRecv(t, ctx, req, "re:two")
	rep.say("quit")
}

// A REQ whose REP is alive but never answers stays in its receive state:
// Send is ErrState, and the way out is to Close it (the "lazy pirate"
// pattern), which returns at once.
func TestReqWhoseRepHangsCanBeClosed(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	rep := startPeer(t, "rep", "tcp://127.0.0.1:0", true, false, 0)
	ep := rep.seen[len(rep.seen)-1][len("ready "):]
	req := newSock(t, z, REQ)
	if err := req.Connect(ep); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, req, "one")
	rep.waitLine(5*time.Second, "req one")
	rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := req.Recv(rctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv from a mute REP = %v, want DeadlineExceeded", err)
	}
	if err := req.Send(ctx, []byte("two")); !errors.Is(err, ErrState) {
		t.Fatalf("second Send = %v, want ErrState", err)
	}
	start := time.Now()
	if err := req.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
}
