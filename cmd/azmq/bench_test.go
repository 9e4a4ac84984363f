package main

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The drivers of the matrix, in this process (so under -race too).
func TestPairs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	eps := []string{"inproc://bench-test", "tcp://127.0.0.1:*"}
	if runtime.GOOS != "windows" { // AF_UNIX is not everywhere there
		eps = append(eps, "ipc://"+filepath.Join(t.TempDir(), "bench.sock"))
	}
	for _, ep := range eps {
		for _, size := range []int{0, 16, 70000} {
			if d, err := thrPair(ctx, ep, size, 300); err != nil || d < 0 {
				t.Errorf("thrPair %s %d: %v, %v", ep, size, d, err)
			}
			if d, err := latPair(ctx, ep, size, 30); err != nil || d < 0 {
				t.Errorf("latPair %s %d: %v, %v", ep, size, d, err)
			}
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"16": 16, "0": 0, "4k": 4096, "64KiB": 65536, "1m": 1 << 20, "1MiB": 1 << 20, "256b": 256} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "4q", "2000000m"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

func TestLines(t *testing.T) {
	if got, want := thrLine(100, 1001, time.Second), "msgs_per_s=1000 mb_per_s=0.1"; got != want {
		t.Errorf("thrLine = %q, want %q", got, want)
	}
	if got, want := latLine(1000, 50*time.Millisecond), "rtt_us=50.00 latency_us=25.00"; got != want {
		t.Errorf("latLine = %q, want %q", got, want)
	}
}

func TestConnsModes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The server binds any free port and prints it on stderr.
	srvOut, srvErr := &lockedBuf{}, &lockedBuf{}
	done := make(chan error, 1)
	go func() { done <- connsServer(ctx, "tcp://127.0.0.1:*", 50, srvOut, srvErr) }()
	var ep string
	for ep == "" {
		if ctx.Err() != nil {
			t.Fatal("server never bound")
		}
		if s := srvErr.String(); strings.HasPrefix(s, "endpoint=") {
			ep = strings.TrimSpace(strings.TrimPrefix(s, "endpoint="))
		}
		time.Sleep(5 * time.Millisecond)
	}
	var cliOut bytes.Buffer
	if err := connsClient(ctx, ep, 50, &cliOut); err != nil {
		t.Fatalf("client: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
	for _, out := range []string{cliOut.String(), srvOut.String()} {
		if !strings.Contains(out, "conns=50 ") || !strings.Contains(out, "goroutines_per_conn=") {
			t.Fatalf("stats line %q", out)
		}
	}
}
