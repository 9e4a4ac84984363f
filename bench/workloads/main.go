// Command workloads is azmq's side of the fan-out and broker workloads
// (scripts/bench-fanout.sh, scripts/bench-broker.sh); bench/libzmq-workloads
// is libzmq's, with the same command line and output, so that either side
// runs against either.
//
//	workloads pub    CONNS TOPICS SIZE SECS HWM TIMEOUT_S
//	workloads sub    ENDPOINT CONTROL CONNS TOPICS HWM TIMEOUT_S
//	workloads router CONNS HWM TIMEOUT_S
//	workloads dealer ENDPOINT CONNS SIZE SECS TIMEOUT_S
//
// pub binds a PUB and a control PULL on tcp://127.0.0.1:* (printing
// endpoint= and control= on stderr) and publishes for SECS seconds once the
// CONNS subscribers of sub have all heard it; TOPICS is "one" (every
// subscriber subscribes to t0000, the only topic) or "distinct" (subscriber
// i subscribes to t%04d and the publisher sends to each topic in turn).
// router binds a ROUTER (printing endpoint=) and echoes every request;
// dealer runs CONNS DEALERs, each with one request outstanding, for SECS
// seconds. Each side prints one line of key=value on stdout; the binding
// side's includes its resident set (VmRSS) before the connections and once
// they are all there, and its goroutines. WL_CPUPROFILE=FILE writes a CPU
// profile of the binding side's timed phase, or of a sub's run from its
// connections on.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "pub":
		err = runPub(args, os.Stdout, os.Stderr)
	case "sub":
		err = runSub(args, os.Stdout)
	case "router":
		err = runRouter(args, os.Stdout, os.Stderr)
	case "dealer":
		err = runDealer(args, os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "workloads %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  workloads pub    CONNS TOPICS SIZE SECS HWM TIMEOUT_S
  workloads sub    ENDPOINT CONTROL CONNS TOPICS HWM TIMEOUT_S
  workloads router CONNS HWM TIMEOUT_S
  workloads dealer ENDPOINT CONNS SIZE SECS TIMEOUT_S`)
	os.Exit(2)
}

// Message layout, shared with the C side (little-endian):
//
//	[0:5]   topic, "t%04d"
//	[5]     kind: 'W' warm-up, 'D' data, 'E' end ('H' hello, 'R' request,
//	        'Q' quit on the broker)
//	[6:14]  fan-out: the topic's sequence number (data) or the number of
//	        data messages sent to the topic (end)
//	[14:22] fan-out: the send time, wall-clock nanoseconds (CLOCK_REALTIME)
const (
	hdrLen  = 22
	maxConn = 10000 // topics are 4 digits
)

func topicOf(i int) []byte { return fmt.Appendf(nil, "t%04d", i) }

func putHdr(b []byte, topic []byte, kind byte, seq uint64, ts int64) {
	copy(b, topic)
	b[5] = kind
	binary.LittleEndian.PutUint64(b[6:], seq)
	binary.LittleEndian.PutUint64(b[14:], uint64(ts))
}

// args parses the positional arguments: ints where the name says so.
type argList struct {
	a   []string
	err error
}

func (l *argList) str(i int, name string) string {
	if i >= len(l.a) {
		if l.err == nil {
			l.err = fmt.Errorf("missing %s", name)
		}
		return ""
	}
	return l.a[i]
}

func (l *argList) num(i int, name string, lo, hi int) int {
	s := l.str(i, name)
	if l.err != nil {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		l.err = fmt.Errorf("%s %q: want an integer in %d..%d", name, s, lo, hi)
	}
	return n
}

func topicsArg(l *argList, i int) bool {
	s := l.str(i, "TOPICS")
	if l.err == nil && s != "one" && s != "distinct" {
		l.err = fmt.Errorf("TOPICS %q: want one or distinct", s)
	}
	return s == "distinct"
}

// rssKiB is the process's resident set (VmRSS) in KiB, -1 where unknown.
func rssKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// memSample is the binding side's footprint at one moment.
type memSample struct {
	rss        int64
	goroutines int
}

func sampleMem() memSample { return memSample{rssKiB(), runtime.NumGoroutine()} }

// memKV is the binding side's memory figures, per connection where that
// applies.
func memKV(base, conn, end memSample, conns int) string {
	per := func(a, b int64) string {
		if a < 0 || b < 0 {
			return "-1"
		}
		return strconv.FormatFloat(float64(b-a)/float64(conns), 'f', 2, 64)
	}
	return fmt.Sprintf("rss_base_kib=%d rss_conn_kib=%d rss_end_kib=%d rss_per_conn_kib=%s goroutines_base=%d goroutines_conn=%d goroutines_per_conn=%s",
		base.rss, conn.rss, end.rss, per(base.rss, conn.rss), base.goroutines, conn.goroutines,
		per(int64(base.goroutines), int64(conn.goroutines)))
}

// startProfile starts a CPU profile into WL_CPUPROFILE when it is set; the
// returned function stops it.
func startProfile() (func() error, error) {
	path := os.Getenv("WL_CPUPROFILE")
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// timedOut tells whether err is the end of the run's time budget.
func timedOut(err error) bool { return errors.Is(err, context.DeadlineExceeded) }
