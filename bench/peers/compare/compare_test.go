package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestResultLine(t *testing.T) {
	tests := []struct {
		kind, out, line, value string
	}{
		{"thr", "msgs_per_s=123 mb_per_s=0.0\n", "msgs_per_s=123 mb_per_s=0.0", "123"},
		{"thr", "noise\nmsgs_per_s=5.5 mb_per_s=1\n", "msgs_per_s=5.5 mb_per_s=1", "5.5"},
		{"lat", "rtt_us=20.00 latency_us=10.00\n", "rtt_us=20.00 latency_us=10.00", "10.00"},
		{"lat", "msgs_per_s=1 mb_per_s=1\n", "", ""},
		{"thr", "msgs_per_s=abc\n", "", ""},
		{"thr", "", "", ""},
	}
	for _, tt := range tests {
		line, value := resultLine(tt.kind, tt.out)
		if line != tt.line || value != tt.value {
			t.Errorf("resultLine(%s, %q) = %q, %q; want %q, %q", tt.kind, tt.out, line, value, tt.line, tt.value)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{[]float64{3}, 3, true},
		{[]float64{5, 1, 3}, 3, true},
		{[]float64{4, 1, 3, 2}, 2.5, true},
	}
	for _, tt := range tests {
		if got, ok := median(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCellText(t *testing.T) {
	good := func(v float64) result { return result{ok: true, figure: v} }
	bad := func(why string) result { return result{value: why} }
	thr := cell{"thr", "tcp", 1000}
	tests := []struct {
		c     cell
		runs  []result
		count int
		base  float64
		ratio bool
		want  string
	}{
		{thr, []result{good(2e6), good(1e6), good(3e6)}, 5000, 1e6, true, "2M msg/s, 2000 MB/s n=5000 2.00x"},
		{thr, []result{good(1500), bad("hang"), good(2500)}, 0, 0, false, "2k msg/s, 2 MB/s (2/3: hang)"},
		{thr, []result{bad("panic")}, 0, 0, false, "panic"},
		{thr, []result{bad("hang"), bad("fail"), bad("hang")}, 10, 0, false, "hang,fail"},
		{cell{"lat", "ipc", 16}, []result{good(12.345)}, 100, 10, true, "12.3 µs n=100 1.23x"},
	}
	for _, tt := range tests {
		if got := cellText(tt.c, tt.runs, tt.count, tt.base, tt.ratio); got != tt.want {
			t.Errorf("cellText(%v, %v) = %q, want %q", tt.c, tt.runs, got, tt.want)
		}
	}
}

func TestStderrLogEndpoint(t *testing.T) {
	l := newStderrLog()
	for _, part := range []string{"starting\nendp", "oint=tcp://127.0.0.1:4", "242\nendpoint=tcp://other:1\n"} {
		l.Write([]byte(part))
	}
	select {
	case ep := <-l.endpoint:
		if ep != "tcp://127.0.0.1:4242" {
			t.Errorf("endpoint %q", ep)
		}
	default:
		t.Fatal("no endpoint passed on")
	}
	if !strings.Contains(l.String(), "other") {
		t.Error("the rest of stderr was not kept")
	}
}

func TestStderrLogVerdicts(t *testing.T) {
	l := newStderrLog()
	l.Write([]byte("goroutine noise\npanic: runtime error: makeslice: len out of range\n"))
	if !l.panicked() {
		t.Error("a Go panic not seen")
	}
	l = newStderrLog()
	l.Write([]byte("x: unknown mode \"inproc_lat\"\nusage: x local_thr ...\n"))
	if l.panicked() || !l.mentionsUsage() {
		t.Error("a usage message misread")
	}
}

func TestListening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.ipc")
	if listening(path) {
		t.Fatal("listening before any listener")
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !listening(path) {
		t.Fatal("a listening unix socket not seen")
	}
}

func TestConfigure(t *testing.T) {
	env := map[string]string{
		"IMPLS":      "a b",
		"CMD_a":      "true x",
		"CMD_b":      "false",
		"LAT_SIZES":  "",
		"THR_SIZES":  "16 65536",
		"CROSS":      "a:b b:c",
		"TRANSPORTS": "tcp",
	}
	cfg, err := configure(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.latSizes) != 0 || len(cfg.thrSizes) != 2 || cfg.reps != 3 {
		t.Errorf("sizes %v %v, reps %d", cfg.thrSizes, cfg.latSizes, cfg.reps)
	}
	if strings.Join(cfg.cmds["a"], " ") != "true x" {
		t.Errorf("CMD_a gave %q", cfg.cmds["a"])
	}
	if len(cfg.cross) != 1 || cfg.cross[0] != [2]string{"a", "b"} {
		t.Errorf("cross %v: want only a:b, c is not in IMPLS", cfg.cross)
	}
	env["TRANSPORTS"] = "udp"
	if _, err := configure(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil {
		t.Error("an unknown transport accepted")
	}
}

func TestCPUField(t *testing.T) {
	for out, want := range map[string]string{
		"msgs_per_s=10 mb_per_s=0.1 cpu_ns_per_msg=171\n": "171",
		"cpu_ns_per_msg=125\n":                            "125",
		"msgs_per_s=10 mb_per_s=0.1\n":                    "-",
		"cpu_ns_per_msg=x\n":                              "-",
		"cpu_ns_per_msg=-3\n":                             "-",
		"":                                                "-",
	} {
		if got := cpuField(out); got != want {
			t.Errorf("cpuField(%q) = %q, want %q", out, got, want)
		}
	}
}

func TestCPUText(t *testing.T) {
	run := func(recv, send string) result { return result{ok: true, cpuRecv: recv, cpuSend: send} }
	failed := result{value: "fail", cpuRecv: "1", cpuSend: "1"} // a failed run's figures do not count
	libzmq := []result{run("100", "50"), run("120", "70"), run("110", "60")}
	baseRecv, baseSend := cpuMedians(libzmq)
	if baseRecv != 110 || baseSend != 60 {
		t.Fatalf("cpuMedians = %v, %v; want 110, 60", baseRecv, baseSend)
	}
	tests := []struct {
		runs  []result
		ratio bool
		want  string
	}{
		{libzmq, false, "110, 60 ns"},
		{[]result{run("220", "30"), failed}, true, "220, 30 ns (2.00x, 0.50x)"},
		{[]result{run("55", "-")}, true, "55, - ns (0.50x, -)"},
		{[]result{run("-", "-")}, true, "-"},
		{[]result{failed}, true, "-"},
	}
	for _, tt := range tests {
		if got := cpuText(tt.runs, baseRecv, baseSend, tt.ratio); got != tt.want {
			t.Errorf("cpuText(%v) = %q, want %q", tt.runs, got, tt.want)
		}
	}
}
