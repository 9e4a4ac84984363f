package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestSoakShort(t *testing.T) {
	var out bytes.Buffer
	res, err := runSoak(context.Background(), soakConfig{duration: 3 * time.Second, report: time.Second}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if why := res.failure(); why != "" {
		t.Fatalf("soak failed: %s", why)
	}
	if res.pushRecv == 0 || res.reqReplied == 0 || res.pairRecv == 0 || res.subRecv == 0 {
		t.Errorf("a pattern moved nothing: push=%d req=%d pair=%d sub=%d", res.pushRecv, res.reqReplied, res.pairRecv, res.subRecv)
	}
	if res.losses() != 0 || !res.goroutinesBack || !res.fdsBack {
		t.Errorf("losses=%d goroutines back=%v fds back=%v", res.losses(), res.goroutinesBack, res.fdsBack)
	}
	for _, want := range []string{"soak t=", "losses=0 errors=0", "result: PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestSoakUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"soak", "-duration", "0s"}, &out, &errb); code != 2 {
		t.Errorf("-duration 0s: exit %d, want 2", code)
	}
	out.Reset()
	if code := run([]string{"soak", "--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "-report") {
		t.Errorf("--help: exit %d, output %q", code, out.String())
	}
}
