// Package perf is what the Go peer programs share: the command line of
// libzmq's perf tools, the timed loops, and the lines they print. A peer
// program supplies only a [Library], which opens sockets of the
// implementation it measures.
//
//	NAME local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT
//	NAME inproc_thr|inproc_lat SIZE COUNT
//
// local_thr binds a PULL socket and receives COUNT messages of SIZE bytes;
// remote_thr connects a PUSH socket and sends them. local_lat binds a REP
// socket that echoes COUNT messages; remote_lat connects a REQ socket and
// makes COUNT round trips. The inproc modes run both sides in one process.
//
// local_thr and inproc_thr print "msgs_per_s=N mb_per_s=N", timed from the
// first message received to the last, so over COUNT-1 intervals and without
// the connection's set-up. local_thr adds "cpu_ns_per_msg=N" and remote_thr
// prints "cpu_ns_per_msg=N" at its end: the process's user+system CPU time
// (getrusage RUSAGE_SELF, every thread) from before the socket is made to
// the end of the side (the last message received; the sender closed and
// [Library.Term] returned), over COUNT, as azmq bench and the libzmq peer
// measure it. remote_lat and inproc_lat print
// "rtt_us=N latency_us=N": the mean round trip over all COUNT, and half of
// it. A binding side given a wildcard endpoint (tcp://127.0.0.1:*) prints
// the endpoint it bound as "endpoint=..." on stderr, so that the runner can
// start the other side once it listens.
//
// Exit status: 0 done, 1 failed, 2 bad usage.
package perf

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Kind is a socket type.
type Kind int

// The four socket types of the benchmark.
const (
	PUSH Kind = iota
	PULL
	REQ
	REP
)

func (k Kind) String() string {
	return [...]string{"PUSH", "PULL", "REQ", "REP"}[k]
}

// Socket is one socket of the implementation under test, sending and
// receiving single-frame messages.
type Socket interface {
	Send(b []byte) error
	Recv() ([]byte, error)
	// Close returns once what was sent has left, as far as the library
	// lets a program wait for that.
	Close() error
}

// Library opens sockets of one ZeroMQ implementation.
type Library struct {
	Name string
	// Bind opens a socket bound to ep. It returns the endpoint it bound:
	// ep itself, or ep with the port chosen for a wildcard.
	Bind func(k Kind, ep string) (Socket, string, error)
	// Connect opens a socket connected to ep.
	Connect func(k Kind, ep string) (Socket, error)
	// Term, when set, runs after every socket is closed and before the
	// process exits.
	Term func() error
}

// usageError is a command-line mistake: exit status 2.
type usageError string

func (e usageError) Error() string { return string(e) }

// Main runs the mode os.Args names and exits.
func Main(lib Library) {
	os.Exit(Run(lib, os.Args[1:], os.Stdout, os.Stderr))
}

// Run runs the mode args names and returns the exit status.
func Run(lib Library, args []string, stdout, stderr io.Writer) int {
	last, err := run(lib, args, stdout, stderr)
	if err == nil && lib.Term != nil {
		err = lib.Term()
	}
	if err == nil && last != nil {
		last()
	}
	switch err.(type) {
	case nil:
		return 0
	case usageError:
		fmt.Fprintf(stderr, "%s: %v\n", lib.Name, err)
		fmt.Fprintf(stderr, "usage: %s local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT\n"+
			"       %s inproc_thr|inproc_lat SIZE COUNT\n", lib.Name, lib.Name)
		return 2
	default:
		fmt.Fprintf(stderr, "%s: %v\n", lib.Name, err)
		return 1
	}
}

// run runs a mode; last, when not nil, is what it prints once the library
// is terminated.
func run(lib Library, args []string, stdout, stderr io.Writer) (last func(), err error) {
	err = runMode(lib, args, stdout, stderr, &last)
	return last, err
}

func runMode(lib Library, args []string, stdout, stderr io.Writer, last *func()) error {
	if len(args) == 0 {
		return usageError("no mode")
	}
	mode, args := args[0], args[1:]
	var ep string
	switch mode {
	case "local_thr", "remote_thr", "local_lat", "remote_lat":
		if len(args) != 3 {
			return usageError(mode + " takes ENDPOINT SIZE COUNT")
		}
		ep, args = args[0], args[1:]
	case "inproc_thr", "inproc_lat":
		if len(args) != 2 {
			return usageError(mode + " takes SIZE COUNT")
		}
		ep = "inproc://perf-" + mode
	default:
		return usageError(fmt.Sprintf("unknown mode %q", mode))
	}
	size, err := strconv.Atoi(args[0])
	if err != nil || size < 0 {
		return usageError(fmt.Sprintf("SIZE %q is not a byte count", args[0]))
	}
	count, err := strconv.Atoi(args[1])
	if err != nil || count < 1 {
		return usageError(fmt.Sprintf("COUNT %q is not a positive number", args[1]))
	}
	cpu := startCPU()

	switch mode {
	case "local_thr":
		pull, err := bind(lib, PULL, ep, stderr)
		if err != nil {
			return err
		}
		d, err := receive(pull, size, count)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, ThrLine(size, count, d)+cpu.field(count))
		return pull.Close()
	case "remote_thr":
		push, err := lib.Connect(PUSH, ep)
		if err != nil {
			return fmt.Errorf("connect PUSH to %s: %w", ep, err)
		}
		if err := send(push, size, count); err != nil {
			return err
		}
		*last = func() {
			if f := cpu.field(count); f != "" {
				fmt.Fprintln(stdout, f[1:])
			}
		}
		return push.Close()
	case "local_lat":
		rep, err := bind(lib, REP, ep, stderr)
		if err != nil {
			return err
		}
		if err := echo(rep, size, count); err != nil {
			return err
		}
		return rep.Close()
	case "remote_lat":
		req, err := lib.Connect(REQ, ep)
		if err != nil {
			return fmt.Errorf("connect REQ to %s: %w", ep, err)
		}
		d, err := roundTrips(req, size, count)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, LatLine(count, d))
		return req.Close()
	case "inproc_thr":
		d, err := inproc(lib, PULL, PUSH, ep, stderr,
			func(pull Socket) (time.Duration, error) { return receive(pull, size, count) },
			func(push Socket) error { return send(push, size, count) })
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, ThrLine(size, count, d))
	case "inproc_lat":
		d, err := inproc(lib, REP, REQ, ep, stderr,
			func(req Socket) (time.Duration, error) { return roundTrips(req, size, count) },
			func(rep Socket) error { return echo(rep, size, count) })
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, LatLine(count, d))
	}
	return nil
}

// bind opens a bound socket and reports the endpoint when ep was a wildcard.
func bind(lib Library, k Kind, ep string, stderr io.Writer) (Socket, error) {
	s, bound, err := lib.Bind(k, ep)
	if err != nil {
		return nil, fmt.Errorf("bind %v to %s: %w", k, ep, err)
	}
	if bound != ep {
		fmt.Fprintf(stderr, "endpoint=%s\n", bound)
	}
	return s, nil
}

// inproc runs both sides in this process. The timed side binds (thr: PULL)
// or connects (lat: REQ); the other side runs in a goroutine. The bound
// socket exists before the other one connects, as older libraries require.
// When the other side fails, the timed one would wait forever: the process
// ends there, with the error on stderr.
func inproc(lib Library, bindKind, connKind Kind, ep string, stderr io.Writer,
	timed func(Socket) (time.Duration, error), other func(Socket) error) (time.Duration, error) {
	bound, _, err := lib.Bind(bindKind, ep)
	if err != nil {
		return 0, fmt.Errorf("bind %v to %s: %w", bindKind, ep, err)
	}
	conn, err := lib.Connect(connKind, ep)
	if err != nil {
		return 0, fmt.Errorf("connect %v to %s: %w", connKind, ep, err)
	}
	timedSock, otherSock := bound, conn
	if bindKind == REP { // latency: REQ is timed, REP echoes
		timedSock, otherSock = conn, bound
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := other(otherSock)
		if err == nil {
			err = otherSock.Close()
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", lib.Name, err)
			os.Exit(1)
		}
	}()
	d, err := timed(timedSock)
	if err != nil {
		return 0, err
	}
	<-done
	return d, timedSock.Close()
}

// receive takes count messages and times them from the first to the last.
func receive(s Socket, size, count int) (time.Duration, error) {
	var start time.Time
	for i := range count {
		b, err := s.Recv()
		if err != nil {
			return 0, fmt.Errorf("recv message %d: %w", i, err)
		}
		if len(b) != size {
			return 0, fmt.Errorf("message %d has %d bytes, want %d", i, len(b), size)
		}
		if i == 0 {
			start = time.Now()
		}
	}
	return time.Since(start), nil
}

// send sends count messages, the same payload each time.
func send(s Socket, size, count int) error {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'x'
	}
	for i := range count {
		if err := s.Send(payload); err != nil {
			return fmt.Errorf("send message %d: %w", i, err)
		}
	}
	return nil
}

// echo sends back each of count requests.
func echo(s Socket, size, count int) error {
	for i := range count {
		b, err := s.Recv()
		if err != nil {
			return fmt.Errorf("recv request %d: %w", i, err)
		}
		if len(b) != size {
			return fmt.Errorf("request %d has %d bytes, want %d", i, len(b), size)
		}
		if err := s.Send(b); err != nil {
			return fmt.Errorf("send reply %d: %w", i, err)
		}
	}
	return nil
}

// roundTrips makes count request-reply round trips and times them all.
func roundTrips(s Socket, size, count int) (time.Duration, error) {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'x'
	}
	start := time.Now()
	for i := range count {
		if err := s.Send(payload); err != nil {
			return 0, fmt.Errorf("send request %d: %w", i, err)
		}
		b, err := s.Recv()
		if err != nil {
			return 0, fmt.Errorf("recv reply %d: %w", i, err)
		}
		if len(b) != size {
			return 0, fmt.Errorf("reply %d has %d bytes, want %d", i, len(b), size)
		}
	}
	return time.Since(start), nil
}

// ThrLine is the throughput line for count messages received in d, from
// the first to the last.
func ThrLine(size, count int, d time.Duration) string {
	var rate float64
	if count > 1 && d > 0 {
		rate = float64(count-1) / d.Seconds()
	}
	return fmt.Sprintf("msgs_per_s=%.0f mb_per_s=%.1f", rate, rate*float64(size)/1e6)
}

// LatLine is the latency line for count round trips in d.
func LatLine(count int, d time.Duration) string {
	rtt := d.Seconds() * 1e6 / float64(count)
	return fmt.Sprintf("rtt_us=%.2f latency_us=%.2f", rtt, rtt/2)
}
