package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/azmq/azmq"
)

// The modes of libzmq's perf tools, under both spellings in use.
var modeAliases = map[string]string{
	"thr_local": "local_thr", "thr_remote": "remote_thr",
	"lat_local": "local_lat", "lat_remote": "remote_lat",
	"thr_inproc": "inproc_thr", "lat_inproc": "inproc_lat",
}

// bench runs "azmq bench [flags]" (the matrix) or "azmq bench MODE ...".
func bench(args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("azmq bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	quick := fs.Bool("quick", false, "tiny fixed counts instead of calibrated ones: a few seconds in all")
	transports := fs.String("transports", "inproc,ipc,tcp", "comma-separated transports to measure: inproc, ipc, tcp, ws, wss (with a certificate made for the run), and udp (radiodish only)")
	sizes := fs.String("sizes", "16,256,4k,64k", "comma-separated message sizes in bytes (k = KiB)")
	patterns := fs.String("patterns", "pushpull", "comma-separated patterns to measure: pushpull, clientserver, radiodish (more than pushpull adds a pattern column to the table)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this `file` (go tool pprof)")
	release := fs.Bool("release", true, "give each received message back with azmq.Release, as libzmq's perf tools close theirs; false leaves them to the garbage collector")
	copySend := fs.Bool("copy", false, "send with Send, which copies every message, instead of SendNoCopy, which hands the payload over as libzmq's perf tools hand over each zmq_msg_t")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, benchUsage)
			fs.PrintDefaults()
			return nil
		}
		return usageErr("bench: %v", err)
	}

	noRelease.Store(!*release)
	withCopy.Store(*copySend)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one ends the process at once.
	context.AfterFunc(ctx, stop)

	var m *matrix
	if fs.NArg() == 0 {
		var err error
		if m, err = newMatrix(*transports, *sizes, *patterns, *quick); err != nil {
			return usageErr("bench: %v", err)
		}
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer func() {
			if perr := stopProfile(); perr != nil && err == nil {
				err = perr
			}
		}()
	}
	if m == nil {
		return perfMode(ctx, fs.Args(), stdout, stderr)
	}
	return m.run(ctx, stdout, stderr)
}

// startCPUProfile profiles the process into path until the returned stop.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		return nil
	}, nil
}

const benchUsage = `Usage:
  azmq bench [-quick] [-transports LIST] [-sizes LIST] [-patterns LIST] [-cpuprofile FILE] [-release=false] [-copy]
  azmq bench [-cpuprofile FILE] [-release=false] [-copy] local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT
  azmq bench conns_server|conns_client ENDPOINT N
  azmq bench inproc_thr|inproc_lat SIZE COUNT
  azmq bench soak [-duration D] [-report D]
  azmq bench flood [-sizes LIST] [-hwm LIST] [-duration D] [-transports LIST]

Without a mode, bench measures PUSH->PULL throughput and REQ/REP latency
for every transport and size in this process, about half a second a cell,
and prints a table. With a mode, it is one side of the two-process
benchmark of libzmq's perf tools: start local_thr (or local_lat) first,
then remote_thr (or remote_lat) with the same ENDPOINT, SIZE and COUNT.
local_thr prints "msgs_per_s=N mb_per_s=N", timed from the first message
received to the last; remote_lat prints "rtt_us=N latency_us=N" over all
COUNT round trips. A local side given a wildcard endpoint such as
tcp://127.0.0.1:* prints the endpoint it bound as "endpoint=..." on stderr.
conns_server binds a ROUTER that echoes until N peers made 3 round trips
each; conns_client opens N DEALER sockets against it; each prints what a
connection costs it (goroutines, heap, RSS). flood runs a PUSH flooding
a slow PULL, each in its own process, and prints each one's peak memory
against HWM x size (see "azmq bench flood --help").

-patterns chooses the pairs of socket types the table measures (default
pushpull, the table as it has always been):
  pushpull      PUSH->PULL throughput, REQ/REP latency
  clientserver  CLIENT->SERVER throughput; latency of a CLIENT whose
                SERVER answers with SendTo
  radiodish     RADIO->DISH throughput, one group, no latency (one way).
                A RADIO drops what its DISH has no room for, as a PUB
                does: the DISH counts what arrived, stops waiting 100ms
                after the last message was sent, and the table gives the
                share lost. It runs over udp too (-transports udp: the
                DISH binds, the RADIO connects), which drops more, with
                sizes up to what one datagram holds (8185 B).
With more than pushpull, the table has a pattern column and a lost column.
SendTo and SendGroup copy each message (they have no SendNoCopy): -copy
changes the other senders only.

CURVE: with AZMQ_BENCH_CURVE_SERVER_SECRET (the binding side) and
AZMQ_BENCH_CURVE_SERVER_PUBLIC (the connecting side) set to a key pair in
Z85 (azmq keygen), local_thr, remote_thr, local_lat and remote_lat run over
CURVE: the binding side is the server, the connecting side a client with a
key pair made for the run. The inproc modes and the matrix ignore them.
-cpuprofile FILE writes a CPU profile of the run (go tool pprof).
The receiving sides give every message back with azmq.Release once they
have checked it, as libzmq's perf tools close each message; with
-release=false they leave them to the garbage collector instead. The
sending sides hand their payload over with SendNoCopy, as libzmq's perf
tools send each zmq_msg_t without a copy; with -copy they use Send, which
copies every message, as a program refilling one buffer must.

Examples:
  azmq bench                                   the whole matrix, in under a minute
  azmq bench -quick -transports tcp -sizes 16,64k
  azmq bench -quick -patterns pushpull,clientserver,radiodish
  azmq bench -patterns radiodish -transports tcp,udp -sizes 16,4k
  azmq bench -cpuprofile pull.prof local_thr tcp://127.0.0.1:5555 64 1000000
  azmq bench local_thr tcp://127.0.0.1:5555 16 1000000 &
  azmq bench remote_thr tcp://127.0.0.1:5555 16 1000000
  azmq bench conns_server tcp://127.0.0.1:5556 10000 &
  azmq bench conns_client tcp://127.0.0.1:5556 10000

Flags:
`

// perfMode runs one of the libzmq perf-tool modes.
func perfMode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	mode := args[0]
	if m, ok := modeAliases[mode]; ok {
		mode = m
	}
	var ep string
	switch mode {
	case "soak":
		return soakCmd(ctx, args[1:], stdout)
	case "flood":
		return floodCmd(ctx, args[1:], stdout, stderr)
	case "flood_push", "flood_pull":
		return floodChild(ctx, mode, args[1:], os.Stdin, stdout)
	case "inproc_thr", "inproc_lat":
		if len(args) != 3 {
			return usageErr("bench %s: want SIZE COUNT", args[0])
		}
		ep = "inproc://azmq-bench"
		args = args[1:]
	case "conns_server", "conns_client":
		if len(args) != 3 {
			return usageErr("bench %s: want ENDPOINT N", args[0])
		}
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 1 {
			return usageErr("bench %s: N %q is not a positive number", mode, args[2])
		}
		if mode == "conns_server" {
			return connsServer(ctx, args[1], n, stdout, stderr)
		}
		return connsClient(ctx, args[1], n, stdout)
	case "local_thr", "remote_thr", "local_lat", "remote_lat":
		if len(args) != 4 {
			return usageErr("bench %s: want ENDPOINT SIZE COUNT", args[0])
		}
		ep = args[1]
		args = args[2:]
	default:
		return usageErr("bench: unknown mode %q", args[0])
	}
	size, err := strconv.Atoi(args[0])
	if err != nil || size < 0 {
		return usageErr("bench %s: SIZE %q is not a byte count", mode, args[0])
	}
	count, err := strconv.Atoi(args[1])
	if err != nil || count < 1 {
		return usageErr("bench %s: COUNT %q is not a positive number", mode, args[1])
	}

	var sec []azmq.SocketOption
	switch mode {
	case "local_thr", "local_lat", "remote_thr", "remote_lat":
		server := mode == "local_thr" || mode == "local_lat"
		if sec, err = benchCurve(server, os.Getenv); err != nil {
			return err
		}
	}

	switch mode {
	case "inproc_thr":
		d, err := thrPair(ctx, ep, size, count)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, thrLine(size, count, d))
	case "inproc_lat":
		d, err := latPair(ctx, ep, size, count)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, latLine(count, d))
	case "local_thr":
		return localThr(ctx, ep, size, count, sec, stdout, stderr)
	case "remote_thr":
		return remoteThr(ctx, ep, size, count, sec)
	case "local_lat":
		return localLat(ctx, ep, size, count, sec, stderr)
	case "remote_lat":
		return remoteLat(ctx, ep, size, count, sec, stdout)
	}
	return nil
}

// The CURVE keys of the two-process modes, shared with the C program in
// bench/libzmq-curve so that either side can be azmq or libzmq. With
// either variable set, the binding side is a CURVE server with the secret
// key and the connecting side a client of the public key, with a key pair
// of its own made for the run.
const (
	envCurveServerSecret = "AZMQ_BENCH_CURVE_SERVER_SECRET"
	envCurveServerPublic = "AZMQ_BENCH_CURVE_SERVER_PUBLIC"
)

// benchCurve returns the security options of a two-process mode's socket:
// none unless the CURVE variables are set.
func benchCurve(server bool, getenv func(string) string) ([]azmq.SocketOption, error) {
	secret, public := getenv(envCurveServerSecret), getenv(envCurveServerPublic)
	if secret == "" && public == "" {
		return nil, nil
	}
	if server {
		if secret == "" {
			return nil, usageErr("bench: %s is set but not %s, which the binding (server) side needs", envCurveServerPublic, envCurveServerSecret)
		}
		return []azmq.SocketOption{azmq.WithCurveServer(secret)}, nil
	}
	if public == "" {
		return nil, usageErr("bench: %s is set but not %s, which the connecting (client) side needs", envCurveServerSecret, envCurveServerPublic)
	}
	cpub, csec, err := azmq.NewCurveKeyPair()
	if err != nil {
		return nil, fmt.Errorf("bench: client key pair: %w", err)
	}
	return []azmq.SocketOption{azmq.WithCurveClient(public, cpub, csec)}, nil
}

// thrLine is the throughput line of the perf protocol: count messages
// received, timed from the first to the last (so count-1 intervals).
func thrLine(size, count int, d time.Duration) string {
	mps := 0.0
	if count > 1 && d > 0 {
		mps = float64(count-1) / d.Seconds()
	}
	return fmt.Sprintf("msgs_per_s=%.0f mb_per_s=%.1f", mps, mps*float64(size)/1e6)
}

// latLine is the latency line of the perf protocol: count round trips in
// d; the latency is half a round trip.
func latLine(count int, d time.Duration) string {
	rtt := d.Seconds() * 1e6 / float64(count)
	return fmt.Sprintf("rtt_us=%.2f latency_us=%.2f", rtt, rtt/2)
}

// bound reports the endpoint a local side listens on when it was given a
// wildcard, so that a caller can find the port.
func bound(s *azmq.Socket, given string, stderr io.Writer) {
	if last := s.LastEndpoint(); last != given {
		fmt.Fprintf(stderr, "endpoint=%s\n", last)
	}
}

// localThr: PULL binds and receives count messages.
func localThr(ctx context.Context, ep string, size, count int, sec []azmq.SocketOption, stdout, stderr io.Writer) error {
	// The PULL side never sends: there is nothing to linger for.
	pull, err := azmq.NewSocket(azmq.PULL, append(sec, azmq.WithLinger(0))...)
	if err != nil {
		return err
	}
	defer pull.Close()
	if err := pull.Bind(ep); err != nil {
		return err
	}
	bound(pull, ep, stderr)
	d, err := recvThr(ctx, pull, size, count)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, thrLine(size, count, d))
	return nil
}

// remoteThr: PUSH connects and sends count messages, then waits until all
// of them are written.
func remoteThr(ctx context.Context, ep string, size, count int, sec []azmq.SocketOption) error {
	push, err := azmq.NewSocket(azmq.PUSH, append(sec, azmq.WithLinger(-1))...)
	if err != nil {
		return err
	}
	if err := push.Connect(ep); err != nil {
		return err
	}
	if err := sendThr(ctx, push, size, count); err != nil {
		// The process ends now; the messages still queued go with it
		// (a Close with linger -1 would wait for them forever).
		return err
	}
	return push.Close() // linger -1: returns once every message is written
}

// localLat: REP binds and echoes count messages.
func localLat(ctx context.Context, ep string, size, count int, sec []azmq.SocketOption, stderr io.Writer) error {
	rep, err := azmq.NewSocket(azmq.REP, append(sec, azmq.WithLinger(-1))...)
	if err != nil {
		return err
	}
	if err := rep.Bind(ep); err != nil {
		return err
	}
	bound(rep, ep, stderr)
	if err := echo(ctx, rep, size, count); err != nil {
		return err // as in remoteThr: no Close that could wait forever
	}
	return rep.Close() // linger -1: returns once the last reply is written
}

// remoteLat: REQ connects and makes count round trips.
func remoteLat(ctx context.Context, ep string, size, count int, sec []azmq.SocketOption, stdout io.Writer) error {
	// After the last reply nothing is pending: no linger needed.
	req, err := azmq.NewSocket(azmq.REQ, append(sec, azmq.WithLinger(0))...)
	if err != nil {
		return err
	}
	defer req.Close()
	if err := req.Connect(ep); err != nil {
		return err
	}
	d, err := roundTrips(ctx, req, size, count)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, latLine(count, d))
	return nil
}

// thrPair measures PUSH->PULL throughput with both sides in this process:
// PULL binds ep, PUSH connects to what it bound. It returns the time from
// the first message received to the last.
func thrPair(ctx context.Context, ep string, size, count int) (time.Duration, error) {
	return thrPairOf(ctx, azmq.PUSH, azmq.PULL, ep, size, count)
}

// boundPair makes a socket of type bt bound to ep and one of type ct
// connected to it, in zctx. Both close after the last message was
// received: nothing lingers.
func boundPair(zctx *azmq.Context, bt, ct azmq.SocketType, ep string) (bound, conn *azmq.Socket, err error) {
	opts, err := benchOpts(ep)
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts, azmq.WithLinger(0))
	if bound, err = zctx.NewSocket(bt, opts...); err != nil {
		return nil, nil, err
	}
	if err := bound.Bind(ep); err != nil {
		return nil, nil, err
	}
	if conn, err = zctx.NewSocket(ct, opts...); err != nil {
		return nil, nil, err
	}
	if err := conn.Connect(bound.LastEndpoint()); err != nil {
		return nil, nil, err
	}
	return bound, conn, nil
}

// thrPairOf is thrPair for any pair of types that send and receive
// whole single-frame messages with Send and Recv (PUSH->PULL,
// CLIENT->SERVER): the receiver binds.
func thrPairOf(ctx context.Context, sender, receiver azmq.SocketType, ep string, size, count int) (time.Duration, error) {
	zctx := azmq.NewContext()
	defer zctx.Close()
	pull, push, err := boundPair(zctx, receiver, sender, ep)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sent := make(chan error, 1)
	go func() { sent <- sendThr(ctx, push, size, count) }()
	d, err := recvThr(ctx, pull, size, count)
	if err != nil {
		cancel()
		if serr := <-sent; serr != nil && !errors.Is(serr, context.Canceled) {
			return 0, serr // the cause
		}
		return 0, err
	}
	return d, <-sent
}

// latPair measures REQ/REP round trips with both sides in this process:
// REP binds ep, REQ connects to what it bound.
func latPair(ctx context.Context, ep string, size, count int) (time.Duration, error) {
	return latPairOf(ctx, azmq.REQ, azmq.REP, echo, ep, size, count)
}

// latPairOf is latPair for any pair of types: the replier binds and
// answers with echo, the requester connects and makes the round trips.
func latPairOf(ctx context.Context, requester, replier azmq.SocketType, echo func(context.Context, *azmq.Socket, int, int) error, ep string, size, count int) (time.Duration, error) {
	zctx := azmq.NewContext()
	defer zctx.Close()
	rep, req, err := boundPair(zctx, replier, requester, ep)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	echoed := make(chan error, 1)
	go func() { echoed <- echo(ctx, rep, size, count) }()
	d, err := roundTrips(ctx, req, size, count)
	if err != nil {
		cancel()
		if eerr := <-echoed; eerr != nil && !errors.Is(eerr, context.Canceled) {
			return 0, eerr
		}
		return 0, err
	}
	return d, <-echoed
}

// withCopy makes the senders use Send (bench -copy) instead of SendNoCopy.
var withCopy atomic.Bool

// send sends the benchmark's payload. libzmq's perf tools send each
// message with zmq_msg_send, handing it over without a copy; SendNoCopy is
// the same. SendNoCopy only forbids changing the payload afterwards, so
// the same bytes go out again and again.
func send(ctx context.Context, s *azmq.Socket, payload []byte) error {
	if withCopy.Load() {
		return s.Send(ctx, payload)
	}
	return s.SendNoCopy(ctx, payload)
}

// sendThr sends count messages of size bytes.
func sendThr(ctx context.Context, push *azmq.Socket, size, count int) error {
	payload := bytes.Repeat([]byte{'x'}, size)
	for range count {
		if err := send(ctx, push, payload); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	return nil
}

// noRelease leaves received messages to the garbage collector (bench
// -release=false) instead of giving them back with azmq.Release.
var noRelease atomic.Bool

// done is the end of a received message's life in the benchmark: libzmq's
// perf tools close each message (zmq_msg_close) once received, which gives
// its memory back; azmq.Release is the same.
func done(msg [][]byte) {
	if !noRelease.Load() {
		azmq.Release(msg)
	}
}

// recvThr receives count messages of size bytes and returns the time from
// the first to the last.
func recvThr(ctx context.Context, pull *azmq.Socket, size, count int) (time.Duration, error) {
	var t0 time.Time
	for i := range count {
		msg, err := pull.Recv(ctx)
		if err != nil {
			return 0, fmt.Errorf("receive message %d of %d: %w", i+1, count, err)
		}
		if err := checkSize(msg, size); err != nil {
			return 0, err
		}
		done(msg)
		if i == 0 {
			t0 = time.Now()
		}
	}
	return time.Since(t0), nil
}

// echo answers count requests with the request itself.
func echo(ctx context.Context, rep *azmq.Socket, size, count int) error {
	for i := range count {
		msg, err := rep.Recv(ctx)
		if err != nil {
			return fmt.Errorf("receive request %d of %d: %w", i+1, count, err)
		}
		if err := checkSize(msg, size); err != nil {
			return err
		}
		// The request is the replier's to give back, as libzmq's
		// local_lat sends the message it received.
		if err := rep.SendNoCopy(ctx, msg...); err != nil {
			return fmt.Errorf("send reply %d of %d: %w", i+1, count, err)
		}
	}
	return nil
}

// roundTrips makes count request-reply round trips and returns their time.
func roundTrips(ctx context.Context, req *azmq.Socket, size, count int) (time.Duration, error) {
	payload := bytes.Repeat([]byte{'x'}, size)
	t0 := time.Now()
	for i := range count {
		if err := send(ctx, req, payload); err != nil {
			return 0, fmt.Errorf("send request %d of %d: %w", i+1, count, err)
		}
		msg, err := req.Recv(ctx)
		if err != nil {
			return 0, fmt.Errorf("receive reply %d of %d: %w", i+1, count, err)
		}
		if err := checkSize(msg, size); err != nil {
			return 0, err
		}
		done(msg)
	}
	return time.Since(t0), nil
}

func checkSize(msg [][]byte, size int) error {
	if len(msg) != 1 || len(msg[0]) != size {
		n := 0
		for _, f := range msg {
			n += len(f)
		}
		return fmt.Errorf("received a message of %d frames and %d bytes, want 1 frame of %d", len(msg), n, size)
	}
	return nil
}
