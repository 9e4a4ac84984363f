package main

import (
	"context"
	"path/filepath"
	"runtime"
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
