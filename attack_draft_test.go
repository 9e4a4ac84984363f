package azmq

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/wire"
)

// TestAttackJoinFlood: a raw DISH joins ever more distinct 200-byte groups
// on a RADIO with WithMaxSubscriptionBytes(64 KiB) while the RADIO keeps
// sending to a legitimate DISH. The attacker is dropped with
// ErrTooManySubscriptions, memory stays bounded, and the legitimate DISH
// keeps receiving.
func TestAttackJoinFlood(t *testing.T) {
	const (
		limit  = 64 << 10
		groups = 20_000 // 4 MB of JOINs: 200 times what the limit allows
		bound  = 4 << 20
	)
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	radio := newSock(t, z, RADIO, WithMaxSubscriptionBytes(limit))
	log := logEvents(t, radio)
	if err := radio.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	dish := newSock(t, z, DISH)
	if err := dish.Join("legit"); err != nil {
		t.Fatal(err)
	}
	if err := dish.Connect(radio.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	radioUntil(t, ctx, radio, dish, "legit", "warm-up")

	raw := dialRaw(t, radio)
	raw.handshake(socketType("DISH"))
	guard := newMemGuard(bound)
	group := func(i int) []byte {
		g := bytes.Repeat([]byte{'g'}, 200)
		copy(g, fmt.Sprintf("attack-%08d-", i))
		return g
	}
	sent := 0
	var werr error
	for sent < groups && werr == nil && !guard.over() {
		var chunk []byte
		for range 256 {
			chunk = wire.AppendJoin(chunk, group(sent))
			sent++
		}
		werr = raw.write(chunk, 10*time.Second)
		// The RADIO applies joins as it sends.
		if err := radio.SendGroup(ctx, "legit", []byte("tick")); err != nil {
			t.Fatal(err)
		}
	}
	guard.sample()
	t.Logf("%d JOINs written (write error: %v); the process grew by at most %s (bound %s)", sent, werr, mib(guard.peak), mib(bound))
	if guard.peak > bound {
		t.Errorf("joins made the process keep %s more, bound %s", mib(guard.peak), mib(bound))
	}
	for i := 0; ; i++ {
		if _, ok := log.wait(droppedFor(raw.addr(), ErrTooManySubscriptions), 10*time.Millisecond); ok {
			break
		}
		if i == 500 {
			t.Fatalf("the flooding DISH was not dropped with ErrTooManySubscriptions; events: %s", log.summary())
		}
		radio.SendGroup(ctx, "legit", []byte("tick"))
	}
	m := radioUntil(t, ctx, radio, dish, "legit", "after")
	if string(m.Frames[0]) != "after" && string(m.Frames[0]) != "tick" {
		t.Fatalf("legitimate DISH got %q", m.Frames)
	}
}

// TestDishDropsMalformed: what a RADIO sends that is not [group, body]
// is dropped by the DISH, and the connection goes on.
func TestDishDropsMalformed(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	dish := newSock(t, z, DISH)
	if err := dish.Join("g"); err != nil {
		t.Fatal(err)
	}
	if err := dish.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	raw := dialRaw(t, dish)
	raw.handshake(socketType("RADIO"))
	var b []byte
	b = wire.AppendFrame(b, 0, []byte("lonely"))                                     // one frame
	b = wire.AppendFrame(b, wire.FlagMore, []byte("g"))                              // three frames
	b = wire.AppendFrame(b, wire.FlagMore, []byte("x"))                              //
	b = wire.AppendFrame(b, 0, []byte("y"))                                          //
	b = wire.AppendFrame(b, wire.FlagMore, bytes.Repeat([]byte{'g'}, MaxGroupLen+1)) // group too long
	b = wire.AppendFrame(b, 0, []byte("z"))                                          //
	b = wire.AppendFrame(b, wire.FlagMore, []byte("g"))                              // good
	b = wire.AppendFrame(b, 0, []byte("ok"))
	if err := raw.write(b, rawIOTimeout); err != nil {
		t.Fatal(err)
	}
	m, err := dish.RecvMsg(ctx)
	if err != nil || m.Group != "g" || len(m.Frames) != 1 || string(m.Frames[0]) != "ok" {
		t.Fatalf("RecvMsg = %q in %q, %v; want ok in g", m.Frames, m.Group, err)
	}
}
