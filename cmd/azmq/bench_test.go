package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
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

// The two-process throughput and latency modes over CURVE, both sides in
// this process over tcp loopback, keys from the variables the C program
// in bench/libzmq-curve reads too.
func TestPerfModesCurve(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, sec, err := azmq.NewCurveKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envCurveServerSecret: sec, envCurveServerPublic: pub}
	srvOpts, err := benchCurve(true, func(k string) string { return env[k] })
	if err != nil || len(srvOpts) != 1 {
		t.Fatalf("server options: %d, %v", len(srvOpts), err)
	}
	cliOpts, err := benchCurve(false, func(k string) string { return env[k] })
	if err != nil || len(cliOpts) != 1 {
		t.Fatalf("client options: %d, %v", len(cliOpts), err)
	}
	// local waits for the endpoint line on stderr, as the script does.
	local := func(run func(stdout, stderr io.Writer) error) (string, *lockedBuf, chan error) {
		out, errb := &lockedBuf{}, &lockedBuf{}
		done := make(chan error, 1)
		go func() { done <- run(out, errb) }()
		for {
			if s := errb.String(); strings.HasPrefix(s, "endpoint=") {
				return strings.TrimSpace(strings.TrimPrefix(s, "endpoint=")), out, done
			}
			select {
			case err := <-done:
				t.Fatalf("local side ended before binding: %v", err)
			case <-ctx.Done():
				t.Fatal("local side never bound")
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	for _, size := range []int{16, 70000} {
		ep, out, done := local(func(stdout, stderr io.Writer) error {
			return localThr(ctx, "tcp://127.0.0.1:*", size, 200, srvOpts, stdout, stderr)
		})
		if err := remoteThr(ctx, ep, size, 200, cliOpts); err != nil {
			t.Fatalf("remote_thr %d B: %v", size, err)
		}
		if err := <-done; err != nil || !strings.HasPrefix(out.String(), "msgs_per_s=") {
			t.Fatalf("local_thr %d B: %q, %v", size, out.String(), err)
		}

		ep, _, done = local(func(_, stderr io.Writer) error {
			return localLat(ctx, "tcp://127.0.0.1:*", size, 20, srvOpts, stderr)
		})
		var lat bytes.Buffer
		if err := remoteLat(ctx, ep, size, 20, cliOpts, &lat); err != nil || !strings.HasPrefix(lat.String(), "rtt_us=") {
			t.Fatalf("remote_lat %d B: %q, %v", size, lat.String(), err)
		}
		if err := <-done; err != nil {
			t.Fatalf("local_lat %d B: %v", size, err)
		}
	}
}

func TestBenchCurveEnv(t *testing.T) {
	for _, tt := range []struct {
		name   string
		env    map[string]string
		server bool
		opts   int
		bad    bool
	}{
		{"unset server", nil, true, 0, false},
		{"unset client", nil, false, 0, false},
		{"server without secret", map[string]string{envCurveServerPublic: "x"}, true, 0, true},
		{"client without public", map[string]string{envCurveServerSecret: "x"}, false, 0, true},
		{"server", map[string]string{envCurveServerSecret: "x"}, true, 1, false},
		{"client", map[string]string{envCurveServerPublic: "x"}, false, 1, false},
	} {
		opts, err := benchCurve(tt.server, func(k string) string { return tt.env[k] })
		var ue errUsage
		if len(opts) != tt.opts || (err != nil) != tt.bad || (err != nil && !errors.As(err, &ue)) {
			t.Errorf("%s: %d options, %v", tt.name, len(opts), err)
		}
	}
	// A malformed key surfaces when the socket is made, naming the option.
	opts, _ := benchCurve(true, func(k string) string { return map[string]string{envCurveServerSecret: "short"}[k] })
	if _, err := azmq.NewSocket(azmq.PULL, opts...); err == nil || !strings.Contains(err.Error(), "WithCurveServer") {
		t.Errorf("short key: %v", err)
	}
}
