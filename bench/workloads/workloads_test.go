package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/cmdtest"
)

// announce is the stderr of a binding side: it hands the test the
// endpoints the side prints there.
type announce struct{ cmdtest.LockedBuf }

// value waits (up to 10 s) for KEY=... on a line of its own.
func (a *announce) value(t *testing.T, key string) string {
	t.Helper()
	for range 1000 {
		for line := range strings.SplitSeq(a.String(), "\n") {
			if v, ok := strings.CutPrefix(line, key+"="); ok {
				return v
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s= announced", key)
	return ""
}

// kvs parses one output line of key=value words.
func kvs(t *testing.T, line string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for w := range strings.FieldsSeq(line) {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			t.Fatalf("%q: a word without =: %q", line, w)
		}
		m[k] = v
	}
	return m
}

func num(t *testing.T, m map[string]string, key string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(m[key], 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, m[key], err)
	}
	return v
}

// TestFanoutRun runs the publisher and three subscribers in this process:
// every data message the publisher sent to a subscriber's topic is either
// delivered or counted as a drop, and the publisher measured itself.
func TestFanoutRun(t *testing.T) {
	const conns = 3
	for _, topics := range []string{"one", "distinct"} {
		t.Run(topics, func(t *testing.T) {
			var pubOut bytes.Buffer
			ann := &announce{}
			done := make(chan error, 1)
			go func() { done <- runPub([]string{strconv.Itoa(conns), topics, "64", "1", "1000", "20"}, &pubOut, ann) }()
			ep, ctl := ann.value(t, "endpoint"), ann.value(t, "control")
			var subOut bytes.Buffer
			if err := runSub([]string{ep, ctl, strconv.Itoa(conns), topics, "1000", "20"}, &subOut); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			pub, sub := kvs(t, pubOut.String()), kvs(t, subOut.String())
			sent := num(t, pub, "sent")
			want := sent
			if topics == "one" {
				want = sent * conns // every subscriber gets every message
			}
			delivered, drops := num(t, sub, "delivered"), num(t, sub, "drops")
			if sent <= 0 || delivered <= 0 || drops < 0 || delivered+drops != want {
				t.Errorf("sent %v: delivered %v + drops %v, want %v in all", sent, delivered, drops, want)
			}
			if num(t, sub, "min_delivered") <= 0 || num(t, sub, "delivered_per_s") <= 0 {
				t.Errorf("a subscriber got nothing: %s", subOut.String())
			}
			if lagEnd, lagMax := num(t, sub, "lag_end_ms"), num(t, sub, "lag_max_ms"); lagEnd > lagMax || lagMax <= 0 {
				t.Errorf("lag at the end %v ms, max %v ms", lagEnd, lagMax)
			}
			if g := num(t, pub, "goroutines_per_conn"); g <= 0 {
				t.Errorf("goroutines per connection %v, want > 0", g)
			}
			if num(t, pub, "rss_conn_kib") <= 0 {
				t.Errorf("no resident set measured: %s", pubOut.String())
			}
		})
	}
}

// TestBrokerRun runs the ROUTER and three DEALERs in this process: the
// ROUTER echoed every request the clients counted, plus their hellos.
func TestBrokerRun(t *testing.T) {
	const conns = 3
	var rOut bytes.Buffer
	ann := &announce{}
	done := make(chan error, 1)
	go func() { done <- runRouter([]string{strconv.Itoa(conns), "1000", "20"}, &rOut, ann) }()
	var dOut bytes.Buffer
	if err := runDealer([]string{ann.value(t, "endpoint"), strconv.Itoa(conns), "64", "1", "20"}, &dOut); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r, d := kvs(t, rOut.String()), kvs(t, dOut.String())
	if got, want := num(t, r, "replies"), num(t, d, "replies")+conns; got != want || got <= conns {
		t.Errorf("the ROUTER echoed %v, want the clients' %v round trips and %d hellos", got, want-conns, conns)
	}
	if p50, p99 := num(t, d, "p50_us"), num(t, d, "p99_us"); p50 <= 0 || p50 > p99 {
		t.Errorf("p50 %v µs, p99 %v µs", p50, p99)
	}
	if g := num(t, r, "goroutines_per_conn"); g <= 0 {
		t.Errorf("goroutines per connection %v, want > 0", g)
	}
}

// TestSummaries checks the arithmetic of the client sides' lines.
func TestSummaries(t *testing.T) {
	stats := []subStats{
		{recv: 100, sent: 100, first: 1e9, last: 2e9, lagMax: 5e6, lagLast: 1e6},
		{recv: 60, sent: 100, first: 1.5e9, last: 3e9, lagMax: 9e6, lagLast: 4e6},
	}
	got := kvs(t, fanoutLine("x", stats))
	for k, want := range map[string]string{
		"delivered": "160", "recv_secs": "2.000", "delivered_per_s": "80",
		"drops": "40", "min_delivered": "60", "lag_end_ms": "4.00", "lag_max_ms": "9.00",
	} {
		if got[k] != want {
			t.Errorf("fanoutLine: %s=%s, want %s", k, got[k], want)
		}
	}
	rtts := make([]uint32, 100)
	for i := range rtts {
		rtts[i] = uint32(100-i) * 1000 // 100..1 µs, unsorted
	}
	got = kvs(t, brokerLine("x", rtts, 2*time.Second))
	for k, want := range map[string]string{"replies": "100", "replies_per_s": "50", "p50_us": "50.0", "p99_us": "99.0"} {
		if got[k] != want {
			t.Errorf("brokerLine: %s=%s, want %s", k, got[k], want)
		}
	}
}

// TestBadArgs: a bad command line is an error that names the argument.
func TestBadArgs(t *testing.T) {
	var out bytes.Buffer
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"pub missing", func() error { return runPub([]string{"3"}, &out, &out) }, "missing TOPICS"},
		{"pub conns", func() error { return runPub([]string{"0", "one", "64", "1", "0", "5"}, &out, &out) }, "CONNS"},
		{"pub topics", func() error { return runPub([]string{"3", "many", "64", "1", "0", "5"}, &out, &out) }, "TOPICS"},
		{"pub size", func() error { return runPub([]string{"3", "one", "8", "1", "0", "5"}, &out, &out) }, "SIZE"},
		{"sub hwm", func() error { return runSub([]string{"tcp://x:1", "tcp://x:2", "3", "one", "-1", "5"}, &out) }, "HWM"},
		{"router conns", func() error { return runRouter([]string{"10001", "0", "5"}, &out, &out) }, "CONNS"},
		{"dealer secs", func() error { return runDealer([]string{"tcp://x:1", "3", "64", "x", "5"}, &out) }, "SECS"},
	} {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.want)
		}
	}
	if out.Len() != 0 {
		t.Errorf("a bad command line printed %q", out.String())
	}
}
