package azmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pattern"
	"github.com/azmq/azmq/internal/wire"
)

// TestPubSubOptionTypes: each publish-subscribe option is taken by the
// types libzmq gives it to and refused, naming both, by the others.
func TestPubSubOptionTypes(t *testing.T) {
	checkOptionTypes(t, []optionTypes{
		{"WithXPubVerbose", WithXPubVerbose(true), []SocketType{XPUB}, []SocketType{PUB, SUB, XSUB}},
		{"WithXPubVerboser", WithXPubVerboser(true), []SocketType{XPUB}, []SocketType{PUB, SUB}},
		{"WithXPubManual", WithXPubManual(true), []SocketType{XPUB}, []SocketType{PUB, SUB, XSUB}},
		{"WithXPubManualLastValue", WithXPubManualLastValue(true), []SocketType{XPUB}, []SocketType{PUB, SUB}},
		{"WithXPubNoDrop", WithXPubNoDrop(true), []SocketType{PUB, XPUB}, []SocketType{SUB, XSUB, PUSH, RADIO}},
		{"WithXPubWelcomeMsg", WithXPubWelcomeMsg([]byte("hi")), []SocketType{PUB, XPUB}, []SocketType{SUB, XSUB, DEALER}},
		{"WithInvertMatching", WithInvertMatching(true), []SocketType{PUB, XPUB, SUB}, []SocketType{XSUB, DISH, RADIO, PUSH}},
		{"WithConflate", WithConflate(true), []SocketType{PUSH, PULL, PUB, SUB, DEALER},
			[]SocketType{XPUB, XSUB, ROUTER, REQ, REP, PAIR, CLIENT, SERVER, SCATTER, GATHER}},
	})
}

// TestPubSubOptionValues: the options keep libzmq's interplay (VERBOSE
// turns VERBOSER's cancels off, MANUAL_LAST_VALUE implies MANUAL, an
// empty welcome is none) and the welcome is the caller's no more.
func TestPubSubOptionValues(t *testing.T) {
	apply := func(opts ...SocketOption) socketConfig {
		c := defaultConfig()
		for _, o := range opts {
			if err := o(&c); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	if c := apply(WithXPubVerboser(true), WithXPubVerbose(true)); !c.ps.VerboseSubs || c.ps.VerboseUnsubs {
		t.Errorf("VERBOSER then VERBOSE: %+v", c.ps)
	}
	if c := apply(WithXPubVerboser(true)); !c.ps.VerboseSubs || !c.ps.VerboseUnsubs {
		t.Errorf("VERBOSER: %+v", c.ps)
	}
	if c := apply(WithXPubManualLastValue(true)); !c.ps.Manual || !c.ps.LastValue {
		t.Errorf("MANUAL_LAST_VALUE: %+v", c.ps)
	}
	if c := apply(WithXPubManualLastValue(true), WithXPubManual(false)); c.ps.Manual || c.ps.LastValue {
		t.Errorf("MANUAL_LAST_VALUE then MANUAL off: %+v", c.ps)
	}
	if c := apply(WithXPubWelcomeMsg([]byte("x")), WithXPubWelcomeMsg(nil)); c.ps.Welcome != nil {
		t.Errorf("empty welcome kept %q", c.ps.Welcome)
	}
	w := []byte("hello")
	c := apply(WithXPubWelcomeMsg(w))
	w[0] = 'X'
	if string(c.ps.Welcome) != "hello" {
		t.Errorf("welcome follows the caller's slice: %q", c.ps.Welcome)
	}
	if c := apply(); !reflect.DeepEqual(c.ps, pattern.PubSubOptions{}) {
		t.Errorf("defaults: %+v, want all off", c.ps)
	}
}

// TestXPubManualSocket: over tcp, an XPUB with WithXPubManual hands its
// application the SUB's subscription, applies nothing by itself, and
// Socket.Subscribe subscribes that SUB to the topic the application
// chooses. Without the option, Subscribe on XPUB is ErrNotSupported.
func TestXPubManualSocket(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	plain := newSock(t, z, XPUB)
	if err := plain.Subscribe([]byte("a")); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Subscribe on a plain XPUB: %v", err)
	}
	x := newSock(t, z, XPUB, WithXPubManual(true))
	if err := x.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	sub := newSock(t, z, SUB)
	if err := sub.Subscribe([]byte("news")); err != nil {
		t.Fatal(err)
	}
	if err := sub.Connect(x.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	m, err := x.Recv(ctx)
	if err != nil || len(m) != 1 || string(m[0]) != "\x01news" {
		t.Fatalf("XPUB Recv = %q, %v; want the subscription", m, err)
	}
	// The application narrows it to news.sport.
	if err := x.Subscribe([]byte("news.sport")); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, x, "news.weather")
	mustSend(t, ctx, x, "news.sport", "1")
	got, err := sub.Recv(ctx)
	if err != nil || len(got) != 2 || string(got[0]) != "news.sport" {
		t.Fatalf("SUB Recv = %q, %v; want news.sport (news.weather is not applied)", got, err)
	}
	// Unsubscribe takes it back.
	if err := x.Unsubscribe([]byte("news.sport")); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, x, "news.sport", "2")
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if got, err := sub.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after Unsubscribe the SUB got %q, %v", got, err)
	}
}

// Figures of TestAttackXPubVerboseFlood.
const (
	// verboseTopicSize is the attacker's topic: one, subscribed again and
	// again, which WithXPubVerbose hands the application every time.
	verboseTopicSize = 4 << 10
	// verboseFloodBytes is what the attacker writes (24576 subscriptions);
	// without a byte bound on what the application has not read, it would
	// all be kept (24576 entries are well under maxPending's count).
	verboseFloodBytes = 96 << 20
	// verboseFloodBound is what the process may keep for it: the 16 MiB of
	// unread notices, the pipe's 1000 messages (4 MiB), buffers and what
	// the collector has not yet given back.
	verboseFloodBound = 40 << 20
)

// TestAttackXPubVerboseFlood: a raw tcp subscriber floods an XPUB with
// WithXPubVerbose with the same subscription while the application keeps
// publishing and never calls Recv. What waits for Recv stays bounded in
// memory, the newest kept; a legitimate SUB keeps receiving.
func TestAttackXPubVerboseFlood(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	x := newSock(t, z, XPUB, WithXPubVerbose(true))
	if err := x.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	sub := newSock(t, z, SUB)
	if err := sub.Subscribe([]byte("legit")); err != nil {
		t.Fatal(err)
	}
	if err := sub.Connect(x.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	publishUntilReceived(t, ctx, x, sub, []string{"noise"}, []string{"legit", "warm-up"})

	// The application publishes (which applies what subscribers sent)
	// and never reads.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for range 1_000_000 {
			select {
			case <-tick.C:
				x.Send(ctx, []byte("noise"))
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})

	raw := dialRaw(t, x)
	raw.handshake(socketType("SUB"))
	topic := bytes.Repeat([]byte{'v'}, verboseTopicSize)
	one := wire.AppendSubscribe(nil, topic)
	var chunk []byte
	for len(chunk) < 256<<10 {
		chunk = append(chunk, one...)
	}
	guard := newMemGuard(verboseFloodBound)
	written := 0
	var werr error
	for written < verboseFloodBytes && werr == nil && !guard.over() {
		werr = raw.write(chunk, 10*time.Second)
		written += len(chunk)
	}
	if werr != nil {
		t.Fatalf("after %d bytes: %v", written, werr)
	}
	// Let the publisher apply what is in flight, then measure.
	time.Sleep(300 * time.Millisecond)
	guard.sample()
	t.Logf("%s of repeated %d-byte subscriptions: the process grew by at most %s (bound %s)",
		mib(uint64(written)), verboseTopicSize, mib(guard.peak), mib(verboseFloodBound))
	if guard.peak > verboseFloodBound {
		t.Errorf("unread subscriptions made the process keep %s more, bound %s", mib(guard.peak), mib(verboseFloodBound))
	}
	// The application still gets subscriptions (the newest, the oldest
	// having been dropped), and the legitimate SUB its messages.
	m, err := x.Recv(ctx)
	if err != nil || len(m) != 1 || len(m[0]) != 1+verboseTopicSize || m[0][0] != 1 {
		t.Fatalf("XPUB Recv after the flood: %d frames, %v", len(m), err)
	}
	mustSend(t, ctx, x, "legit", "after")
	for range 1000 {
		got, err := sub.Recv(ctx)
		if err != nil {
			t.Fatalf("legitimate SUB: %v", err)
		}
		if len(got) == 2 && string(got[1]) == "after" {
			return
		}
	}
	t.Fatal("the legitimate SUB did not receive its message")
}

// TestXPubNoDropSocket: over inproc, a PUB with WithXPubNoDrop refuses a
// message at a subscriber's HWM when given an ended ctx (the way to send
// without waiting), with ctx's error; once the SUB reads, there is room
// again. Without the option the same sends never fail.
func TestXPubNoDropSocket(t *testing.T) {
	for _, nodrop := range []bool{true, false} {
		t.Run(fmt.Sprint("nodrop=", nodrop), func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			t.Cleanup(func() { z.Close() })
			pub := newSock(t, z, PUB, WithXPubNoDrop(nodrop), WithSendHWM(2))
			sub := newSock(t, z, SUB, WithRecvHWM(2))
			ep := "inproc://" + t.Name()
			if err := pub.Bind(ep); err != nil {
				t.Fatal(err)
			}
			sub.Subscribe(nil)
			if err := sub.Connect(ep); err != nil {
				t.Fatal(err)
			}
			ended, cancel := context.WithCancel(ctx)
			cancel()
			var err error
			sent := 0
			for range 1000 {
				if err = pub.Send(ended, []byte("m")); err != nil {
					break
				}
				sent++
				if sent%100 == 0 {
					time.Sleep(time.Millisecond) // lets the subscription arrive
				}
			}
			if !nodrop {
				if err != nil {
					t.Fatalf("without WithXPubNoDrop, Send failed: %v", err)
				}
				return
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("at the HWM, Send with an ended ctx: %v after %d sends; want context.Canceled", err, sent)
			}
			if _, err := sub.Recv(ctx); err != nil {
				t.Fatal(err)
			}
			if err := pub.Send(ended, []byte("m")); err != nil {
				t.Fatalf("with room again, Send: %v", err)
			}
		})
	}
}

// TestXPubWelcomeReconnect: an XPUB that connects sends its welcome on
// each new connection: a restarted SUB gets it again (libzmq sends it on
// the first connection only). The subscriptions stay with the queue, as in
// libzmq: the application hears of the topic once.
func TestXPubWelcomeReconnect(t *testing.T) {
	ep := "tcp://127.0.0.1:" + freePort(t)
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	x := newSock(t, z, XPUB, WithXPubWelcomeMsg([]byte("W-hello")), WithReconnectInterval(10*time.Millisecond))
	if err := x.Connect(ep); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		sub := newSock(t, z, SUB)
		if err := sub.Subscribe([]byte("W")); err != nil {
			t.Fatal(err)
		}
		if err := sub.Bind(ep); err != nil {
			t.Fatal(err)
		}
		m := recvWithin(t, sub, 5*time.Second)
		if len(m) != 1 || string(m[0]) != "W-hello" {
			t.Fatalf("round %d: SUB got %q, want the welcome", round, m)
		}
		if round == 0 {
			if m, err := x.Recv(ctx); err != nil || string(m[0]) != "\x01W" {
				t.Fatalf("XPUB Recv %q, %v", m, err)
			}
		}
		sub.Close()
	}
}
