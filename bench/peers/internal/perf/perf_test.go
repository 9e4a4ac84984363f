package perf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// chanLib is a Library over Go channels: one bound endpoint at a time,
// enough for the inproc modes.
type chanLib struct {
	up, down chan []byte // connecting side -> bound side, and back
}

type chanSocket struct {
	in, out chan []byte
}

func (s chanSocket) Send(b []byte) error   { s.out <- b; return nil }
func (s chanSocket) Recv() ([]byte, error) { return <-s.in, nil }
func (s chanSocket) Close() error          { return nil }

func (l *chanLib) library() Library {
	l.up, l.down = make(chan []byte, 16), make(chan []byte, 16)
	return Library{
		Name: "chan",
		Bind: func(k Kind, ep string) (Socket, string, error) {
			return chanSocket{in: l.up, out: l.down}, ep, nil
		},
		Connect: func(k Kind, ep string) (Socket, error) {
			return chanSocket{in: l.down, out: l.up}, nil
		},
	}
}

func TestInproc(t *testing.T) {
	for _, mode := range []string{"inproc_thr", "inproc_lat"} {
		var out, errOut bytes.Buffer
		lib := (&chanLib{}).library()
		if code := Run(lib, []string{mode, "64", "1000"}, &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d, stderr %q", mode, code, errOut.String())
		}
		want := "msgs_per_s="
		if mode == "inproc_lat" {
			want = "rtt_us="
		}
		if !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "\n") != 1 {
			t.Errorf("%s printed %q, want one line starting %q", mode, out.String(), want)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"bogus", "1", "2"},
		{"local_thr", "tcp://127.0.0.1:*", "16"},
		{"inproc_thr", "x", "10"},
		{"inproc_thr", "16", "0"},
	} {
		var out, errOut bytes.Buffer
		if code := Run((&chanLib{}).library(), args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if !strings.Contains(errOut.String(), "usage:") {
			t.Errorf("%q: stderr %q has no usage", args, errOut.String())
		}
	}
}

func TestWildcardReported(t *testing.T) {
	var errOut bytes.Buffer
	fail := Library{Name: "x", Bind: func(Kind, string) (Socket, string, error) {
		return nil, "tcp://127.0.0.1:4242", errors.New("no")
	}}
	if _, err := bind(fail, PULL, "tcp://127.0.0.1:*", &errOut); err == nil || errOut.Len() != 0 {
		t.Errorf("a failed bind: err %v, stderr %q", err, errOut.String())
	}
	ok := Library{Name: "x", Bind: func(Kind, string) (Socket, string, error) {
		return chanSocket{}, "tcp://127.0.0.1:4242", nil
	}}
	if _, err := bind(ok, PULL, "tcp://127.0.0.1:*", &errOut); err != nil || errOut.String() != "endpoint=tcp://127.0.0.1:4242\n" {
		t.Errorf("a wildcard bind: err %v, stderr %q", err, errOut.String())
	}
}

func TestLines(t *testing.T) {
	if got := ThrLine(100, 1001, 1e9); got != "msgs_per_s=1000 mb_per_s=0.1" {
		t.Errorf("ThrLine = %q", got)
	}
	if got := LatLine(1000, 1e8); got != "rtt_us=100.00 latency_us=50.00" {
		t.Errorf("LatLine = %q", got)
	}
}

// The two throughput sides report the process's CPU time per message:
// local_thr on its line, remote_thr on a line of its own once the library
// is terminated.
func TestThrCPU(t *testing.T) {
	if _, ok := processCPU(); !ok {
		t.Skip("no process CPU time here")
	}
	lib := (&chanLib{}).library()
	var terms atomic.Int32
	lib.Term = func() error { terms.Add(1); return nil }
	var localOut, localErr, remoteOut, remoteErr bytes.Buffer
	local := make(chan int, 1)
	go func() { local <- Run(lib, []string{"local_thr", "chan://x", "64", "20000"}, &localOut, &localErr) }()
	if code := Run(lib, []string{"remote_thr", "chan://x", "64", "20000"}, &remoteOut, &remoteErr); code != 0 {
		t.Fatalf("remote_thr: exit %d, stderr %q", code, remoteErr.String())
	}
	if code := <-local; code != 0 {
		t.Fatalf("local_thr: exit %d, stderr %q", code, localErr.String())
	}
	var rate, mb, ns float64
	if n, err := fmt.Sscanf(localOut.String(), "msgs_per_s=%g mb_per_s=%g cpu_ns_per_msg=%g\n", &rate, &mb, &ns); n != 3 || err != nil {
		t.Errorf("local_thr printed %q: %v", localOut.String(), err)
	}
	if n, err := fmt.Sscanf(remoteOut.String(), "cpu_ns_per_msg=%g\n", &ns); n != 1 || err != nil || strings.Count(remoteOut.String(), "\n") != 1 {
		t.Errorf("remote_thr printed %q: %v", remoteOut.String(), err)
	}
	if n := terms.Load(); n != 2 {
		t.Errorf("Term ran %d times, want 2", n)
	}
}
