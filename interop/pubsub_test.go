//go:build !windows

package interop

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// The publishers cycle through these; subscribers subscribe to "ta" and
// "tb", so "tc.x" and "t" (a prefix of a topic, not the reverse) must never
// arrive. After "ta" is unsubscribed only "tb.x" may arrive.
var (
	psCycle = [][][]byte{
		{b("ta.x"), b("payload-a")},
		{b("tb.x"), b("payload-b")},
		{b("tc.x"), b("payload-c")},
		{b("t"), b("payload-t")},
	}
	topicA, topicB = b("ta"), b("tb")
)

const (
	psFirst = 10 // messages received while subscribed to both topics
	psAfter = 20 // messages received after "ta" is unsubscribed (and a drain)
	psDrain = 300 * time.Millisecond
)

// psCheck checks a received message against the subscriptions in force.
func psCheck(t *testing.T, who string, n int, m [][]byte, seen map[string]bool) {
	t.Helper()
	if len(m) != 2 {
		t.Fatalf("%s message %d: want 2 frames, got %s", who, n, describe(m))
	}
	var want [][]byte
	for _, c := range psCycle {
		if bytes.Equal(c[0], m[0]) {
			want = c
		}
	}
	if want == nil {
		t.Fatalf("%s message %d: unknown %s", who, n, describe(m))
	}
	checkMsg(t, fmt.Sprintf("%s message %d", who, n), m, want)
	topic := string(m[0][:min(2, len(m[0]))])
	if n < psFirst {
		if topic != "ta" && topic != "tb" {
			t.Fatalf("%s message %d: %q matches no subscription (subscribed to \"ta\", \"tb\")", who, n, m[0])
		}
		seen[topic] = true
	} else if topic != "tb" {
		t.Fatalf("%s message %d: %q arrived after \"ta\" was unsubscribed and %v of drain (only \"tb\" remains)", who, n, m[0], psDrain)
	}
}

// subscription is the XSUB/XPUB form of a (un)subscription: 01 or 00, then the topic.
func subscription(on bool, topic []byte) []byte {
	if on {
		return append([]byte{1}, topic...)
	}
	return append([]byte{0}, topic...)
}

// oneFrame returns the frame of a single-frame message.
func oneFrame(t *testing.T, who string, m [][]byte) []byte {
	t.Helper()
	if len(m) != 1 {
		t.Fatalf("%s: want a single-frame message, got %s", who, describe(m))
	}
	return m[0]
}

// subMsgs is the sorted hex of XPUB subscription messages, for comparing sets.
func subMsgs(msgs ...[]byte) string {
	h := hexFrames(msgs)
	sort.Strings(h)
	return fmt.Sprint(h)
}

func TestPubSub(t *testing.T) {
	var cases []pairCase
	for _, pub := range []string{"PUB", "XPUB"} {
		for _, sub := range []string{"SUB", "XSUB"} {
			cases = append(cases, goPublishes(pub, sub), libPublishes(pub, sub))
		}
	}
	runCases(t, topologies, cases)
}

var socketTypes = map[string]azmq.SocketType{
	"PAIR": azmq.PAIR, "PUB": azmq.PUB, "SUB": azmq.SUB, "REQ": azmq.REQ, "REP": azmq.REP,
	"DEALER": azmq.DEALER, "ROUTER": azmq.ROUTER, "PULL": azmq.PULL, "PUSH": azmq.PUSH,
	"XPUB": azmq.XPUB, "XSUB": azmq.XSUB,
}

// goPublishes: azmq publishes in a loop to a libzmq subscriber, which
// receives psFirst messages, unsubscribes "ta", drains, and receives psAfter.
func goPublishes(pub, sub string) pairCase {
	return pairCase{
		name: "azmq-" + pub + "/libzmq-" + sub, azmq: socketTypes[pub],
		lib: spec{
			Type:    sub,
			Options: map[string]any{"subscribe": hexFrames([][]byte{topicA, topicB})},
			Steps: []step{
				{"op": "recv", "count": psFirst},
				{"op": "unsubscribe", "topic": hexFrames([][]byte{topicA})[0]},
				{"op": "drain", "ms": psDrain.Milliseconds()},
				{"op": "recv", "count": psAfter},
			},
		},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			if pub == "XPUB" {
				got := subMsgs(oneFrame(t, "azmq XPUB", recv(t, ctx, s)), oneFrame(t, "azmq XPUB", recv(t, ctx, s)))
				if want := subMsgs(subscription(true, topicA), subscription(true, topicB)); got != want {
					t.Fatalf("azmq XPUB subscription messages: got %s, want %s", got, want)
				}
			}
			who := "libzmq " + sub
			seen := map[string]bool{}
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			deadline := time.After(lineTimeout)
			n, sent := 0, 0
			for n < psFirst+psAfter {
				select {
				case <-tick.C:
					send(t, ctx, s, psCycle[sent%len(psCycle)])
					sent++
				case l, ok := <-p.lines:
					if !ok {
						p.failf("ended after %d messages (%s)", n, p.exitStatus())
					}
					switch l.kind() {
					case "msg":
						psCheck(t, who, n, l.frame, seen)
						n++
					case "drained":
					default:
						p.failf("unexpected line %s", abbrev(l.raw, 200))
					}
				case <-deadline:
					t.Fatalf("%s got %d of %d messages within %v (%d published)", who, n, psFirst+psAfter, lineTimeout, sent)
				}
			}
			if !seen["ta"] || !seen["tb"] {
				t.Errorf("%s: the first %d messages should include both topics, saw %v", who, psFirst, seen)
			}
			p.wait()
			if pub == "XPUB" {
				m := recvWithin(t, ctx, s, 5*time.Second)
				if m == nil {
					t.Fatalf("azmq XPUB: no unsubscribe message for \"ta\" within 5s")
				}
				checkMsg(t, "azmq XPUB unsubscribe message", m, [][]byte{subscription(false, topicA)})
			}
		},
	}
}

// libPublishes: libzmq publishes in a loop to an azmq subscriber.
func libPublishes(pub, sub string) pairCase {
	cycle := make([][]string, len(psCycle))
	for i, m := range psCycle {
		cycle[i] = hexFrames(m)
	}
	loop := step{"op": "send_loop", "messages": cycle, "interval_ms": 5, "recv_too": pub == "XPUB"}
	steps := []step{loop}
	if pub == "XPUB" {
		steps = []step{{"op": "recv", "count": 2}, loop}
	}
	return pairCase{
		name: "azmq-" + sub + "/libzmq-" + pub, azmq: socketTypes[sub],
		lib: spec{Type: pub, Steps: steps},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			subscribe := func(topic []byte, on bool) {
				t.Helper()
				var err error
				switch {
				case sub == "XSUB" && on:
					err = s.Send(ctx, subscription(true, topic))
				case sub == "XSUB":
					err = s.Send(ctx, subscription(false, topic))
				case on:
					err = s.Subscribe(topic)
				default:
					err = s.Unsubscribe(topic)
				}
				if err != nil {
					t.Fatalf("azmq %s (un)subscribe %q: %v", sub, topic, err)
				}
			}
			subscribe(topicA, true)
			subscribe(topicB, true)
			if pub == "XPUB" {
				got := subMsgs(oneFrame(t, "libzmq XPUB", p.recvMsg()), oneFrame(t, "libzmq XPUB", p.recvMsg()))
				if want := subMsgs(subscription(true, topicA), subscription(true, topicB)); got != want {
					t.Fatalf("libzmq XPUB subscription messages: got %s, want %s", got, want)
				}
			}
			who := "azmq " + sub
			seen := map[string]bool{}
			for n := 0; n < psFirst; n++ {
				psCheck(t, who, n, recv(t, ctx, s), seen)
			}
			if !seen["ta"] || !seen["tb"] {
				t.Errorf("%s: the first %d messages should include both topics, saw %v", who, psFirst, seen)
			}
			subscribe(topicA, false)
			end := time.Now().Add(psDrain)
			for d := time.Until(end); d > 0; d = time.Until(end) {
				recvWithin(t, ctx, s, d)
			}
			for n := psFirst; n < psFirst+psAfter; n++ {
				psCheck(t, who, n, recv(t, ctx, s), seen)
			}
			p.stop()
			if pub == "XPUB" {
				var unsub bool
				for {
					l := p.next()
					if l.kind() == "sent" {
						break
					}
					if l.kind() == "msg" && diffMsg(l.frame, [][]byte{subscription(false, topicA)}) == "" {
						unsub = true
						continue
					}
					p.failf("unexpected line %s", abbrev(l.raw, 200))
				}
				if !unsub {
					t.Errorf("libzmq XPUB got no unsubscribe message for \"ta\" from azmq %s", sub)
				}
			}
			p.wait()
		},
	}
}
