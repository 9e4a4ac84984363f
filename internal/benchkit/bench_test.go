package benchkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/udptest"
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
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "4q", "2000000m"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
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
		var sent bytes.Buffer
		if err := remoteThr(ctx, ep, size, 200, cliOpts, &sent); err != nil {
			t.Fatalf("remote_thr %d B: %v", size, err)
		}
		if err := <-done; err != nil || !strings.HasPrefix(out.String(), "msgs_per_s=") || !strings.Contains(out.String(), " cpu_ns_per_msg=") {
			t.Fatalf("local_thr %d B: %q, %v", size, out.String(), err)
		}
		if !strings.HasPrefix(sent.String(), "cpu_ns_per_msg=") {
			t.Fatalf("remote_thr %d B printed %q, want cpu_ns_per_msg=N", size, sent.String())
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

// The CPU meter reads the process's time: work done between the start and
// the reading shows, divided by the count, in the perf line's format.
func TestCPUMeter(t *testing.T) {
	if _, ok := processCPU(); !ok {
		t.Skip("no process CPU time on " + runtime.GOOS)
	}
	m := startCPU()
	// Burn at least 20 ms of CPU time, bounded in wall time.
	x, deadline := uint64(1), time.Now().Add(5*time.Second)
	for {
		for range 1_000_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if now, _ := processCPU(); now-m.start >= 20*time.Millisecond || time.Now().After(deadline) {
			break
		}
	}
	f := m.field(1000)
	var ns float64
	if _, err := fmt.Sscanf(f, " cpu_ns_per_msg=%g", &ns); err != nil || ns < 20e3 {
		t.Errorf("field = %q (x %d): want cpu_ns_per_msg of at least 20000 ns (20 ms over 1000)", f, x)
	}
	if got := (cpuMeter{}).field(10); got != "" {
		t.Errorf("a meter that could not start gave %q, want nothing", got)
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
		if len(opts) != tt.opts || (err != nil) != tt.bad || (err != nil && !errors.Is(err, ErrUsage)) {
			t.Errorf("%s: %d options, %v", tt.name, len(opts), err)
		}
	}
	// A malformed key surfaces when the socket is made, naming the option.
	opts, _ := benchCurve(true, func(k string) string { return map[string]string{envCurveServerSecret: "short"}[k] })
	if _, err := azmq.NewSocket(azmq.PULL, opts...); err == nil || !strings.Contains(err.Error(), "WithCurveServer") {
		t.Errorf("short key: %v", err)
	}
}

// The drivers of bench -patterns, in this process (so under -race too).
func TestPatternPairs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eps := []string{"inproc://bench-pattern-test", "tcp://127.0.0.1:*", "ws://127.0.0.1:*/p", "wss://127.0.0.1:*/p"}
	if runtime.GOOS != "windows" {
		eps = append(eps, "ipc://"+filepath.Join(t.TempDir(), "pattern.sock"))
	}
	pats, err := parsePatterns("clientserver,radiodish")
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range append(eps, "udp://127.0.0.1:*") {
		tr, _, _ := strings.Cut(ep, ":")
		t.Run(tr, func(t *testing.T) {
			if tr == "udp" {
				udptest.Require(t)
			}
			testPatternPairs(t, ctx, pats, ep, tr)
		})
	}
}

func testPatternPairs(t *testing.T, ctx context.Context, pats []*benchPattern, ep, tr string) {
	for _, size := range []int{0, 16, 70000} {
		for _, p := range pats {
			if !p.runs(tr, size) {
				continue
			}
			const n = 300
			r, err := p.thr(ctx, ep, size, n)
			switch {
			case err != nil:
				t.Errorf("%s thr %s %d: %v", p.name, ep, size, err)
			case r.sent != n || r.got < 1 || r.got > n || r.d < 0:
				t.Errorf("%s thr %s %d: %+v, want %d sent and 1 to %d received", p.name, ep, size, r, n, n)
			case !p.lossy && r.got != n:
				t.Errorf("%s thr %s %d: %d of %d arrived, and it loses none", p.name, ep, size, r.got, n)
			}
			if p.lat == nil {
				continue
			}
			// Windows' clock (Wine's at least) can be coarser than 30
			// inproc round trips: 0 is a reading there, not a fault.
			if d, err := p.lat(ctx, ep, size, 30); err != nil || d < 0 || d == 0 && runtime.GOOS != "windows" {
				t.Errorf("%s lat %s %d: %v, %v", p.name, ep, size, d, err)
			}
		}
	}
}

// A RADIO/DISH run whose messages mostly do not come ends, soon after
// the RADIO is done, with what came, and tells how many that was.
func TestRecvLossyBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	dish, radio, err := radioDish(ctx, zctx, "tcp://127.0.0.1:*", 16)
	if err != nil {
		t.Fatal(err)
	}
	// Three messages to the group, and 50 to one the DISH did not join:
	// those are never delivered, as lost ones are not.
	sent := make(chan error, 1)
	go func() {
		if err := sendGroupThr(ctx, radio, benchGroup, 16, 3); err != nil {
			sent <- err
			return
		}
		sent <- sendGroupThr(ctx, radio, "elsewhere", 16, 50)
	}()
	start := time.Now()
	run, err := recvLossy(ctx, dish, 16, 53, sent)
	if err != nil || run.got != 3 {
		t.Fatalf("recvLossy: %+v, %v; want 3 received", run, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("recvLossy took %v to give up on the rest", d)
	}

	// A sender that fails ends the receiving with its error.
	sent = make(chan error, 1)
	sent <- errors.New("the sender broke")
	if _, err := recvLossy(ctx, dish, 16, 10, sent); err == nil || !strings.Contains(err.Error(), "broke") {
		t.Errorf("recvLossy after a failed sender: %v", err)
	}
}

func TestParsePatterns(t *testing.T) {
	for in, want := range map[string]string{
		"pushpull":                        "pushpull",
		"ClientServer, radiodish,":        "clientserver,radiodish",
		"radiodish,pushpull,radiodish":    "radiodish,pushpull",
		"pushpull,clientserver,radiodish": "pushpull,clientserver,radiodish",
	} {
		ps, err := parsePatterns(in)
		var names []string
		for _, p := range ps {
			names = append(names, p.name)
		}
		if err != nil || strings.Join(names, ",") != want {
			t.Errorf("parsePatterns(%q) = %q, %v; want %q", in, names, err, want)
		}
	}
	if _, err := parsePatterns("pubsub"); err == nil || !strings.Contains(err.Error(), "radiodish") {
		t.Errorf("unknown pattern: %v, want an error listing the known ones", err)
	}
	if _, err := NewMatrix("tcp", "16", " , ", true); err == nil {
		t.Error("no pattern: no error")
	}
}

// Go benchmarks of the patterns bench -patterns measures, each over one
// pair of sockets made and warmed up before the timer starts.
func BenchmarkPatternThroughput(b *testing.B) {
	for _, ep := range []string{"inproc://bench-pattern", "tcp://127.0.0.1:*"} {
		for _, size := range []int{16, 4096} {
			for _, pair := range []struct {
				name             string
				sender, receiver azmq.SocketType
			}{{"PUSH-PULL", azmq.PUSH, azmq.PULL}, {"CLIENT-SERVER", azmq.CLIENT, azmq.SERVER}} {
				b.Run(fmt.Sprintf("%s/%s/%dB", pair.name, ep[:3], size), func(b *testing.B) {
					benchThr(b, pair.sender, pair.receiver, ep, size)
				})
			}
			b.Run(fmt.Sprintf("RADIO-DISH/%s/%dB", ep[:3], size), func(b *testing.B) {
				benchRadioDish(b, ep, size)
			})
		}
	}
	for _, size := range []int{16, 4096} { // RADIO/DISH alone goes over udp
		b.Run(fmt.Sprintf("RADIO-DISH/udp/%dB", size), func(b *testing.B) {
			benchRadioDish(b, "udp://127.0.0.1:*", size)
		})
	}
}

// BenchmarkPatternLatency: ns/op is one whole round trip of 16 bytes.
func BenchmarkPatternLatency(b *testing.B) {
	for _, ep := range []string{"inproc://bench-pattern", "tcp://127.0.0.1:*"} {
		b.Run("REQ-REP/"+ep[:3], func(b *testing.B) { benchLat(b, azmq.REQ, azmq.REP, echo, ep) })
		b.Run("CLIENT-SERVER/"+ep[:3], func(b *testing.B) { benchLat(b, azmq.CLIENT, azmq.SERVER, echoTo, ep) })
	}
}

func benchThr(b *testing.B, sender, receiver azmq.SocketType, ep string, size int) {
	// Cancelled at the end: a sender left waiting by a failure stops.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	pull, push, err := boundPair(zctx, receiver, sender, ep)
	if err != nil {
		b.Fatal(err)
	}
	// The first message waits for the connection: not timed.
	if err := sendThr(ctx, push, size, 1); err != nil {
		b.Fatal(err)
	}
	if _, err := recvThr(ctx, pull, size, 1); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	sent := make(chan error, 1)
	go func() { sent <- sendThr(ctx, push, size, b.N) }()
	if _, err := recvThr(ctx, pull, size, b.N); err != nil {
		b.Fatal(err)
	}
	if err := <-sent; err != nil {
		b.Fatal(err)
	}
}

func benchLat(b *testing.B, requester, replier azmq.SocketType, echo func(context.Context, *azmq.Socket, int, int) error, ep string) {
	const size = 16
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	rep, req, err := boundPair(zctx, replier, requester, ep)
	if err != nil {
		b.Fatal(err)
	}
	echoed := make(chan error, 1)
	go func() { echoed <- echo(ctx, rep, size, b.N+1) }()
	// The first round trip waits for the connection: not timed.
	if _, err := roundTrips(ctx, req, size, 1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := roundTrips(ctx, req, size, b.N); err != nil {
		b.Fatal(err)
	}
	if err := <-echoed; err != nil {
		b.Fatal(err)
	}
}

// benchRadioDish sends b.N messages from a RADIO and counts those its
// DISH received. A RADIO drops what the DISH has no room for, so ns/op
// is reported per message received, first to last (the wait for those
// that never come is not in it), beside the share lost.
func benchRadioDish(b *testing.B, ep string, size int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	dish, radio, err := radioDish(ctx, zctx, ep, size)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	sent := make(chan error, 1)
	go func() { sent <- sendGroupThr(ctx, radio, benchGroup, size, b.N) }()
	run, err := recvLossy(ctx, dish, size, b.N, sent)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if run.got > 1 {
		perMsg := run.d.Seconds() / float64(run.got-1)
		b.ReportMetric(perMsg*1e9, "ns/op")
		b.ReportMetric(float64(size)/perMsg/1e6, "MB/s")
	}
	b.ReportMetric(100*float64(b.N-run.got)/float64(b.N), "%lost")
}
