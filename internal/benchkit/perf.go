package benchkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/azmq/azmq"
)

// The modes of libzmq's perf tools, under both spellings in use.
var modeAliases = map[string]string{
	"thr_local": "local_thr", "thr_remote": "remote_thr",
	"lat_local": "local_lat", "lat_remote": "remote_lat",
	"thr_inproc": "inproc_thr", "lat_inproc": "inproc_lat",
}

// Perf runs one of the libzmq perf-tool modes: args are the mode and its
// arguments, as "azmq bench MODE ..." takes them. The results go to stdout
// as the perf protocol's lines, the endpoint a wildcard bound to stderr.
func Perf(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("bench: no mode")
	}
	mode := args[0]
	if m, ok := modeAliases[mode]; ok {
		mode = m
	}
	var ep string
	switch mode {
	case "inproc_thr", "inproc_lat":
		if len(args) != 3 {
			return usageErr("bench %s: want SIZE COUNT", args[0])
		}
		ep = "inproc://azmq-bench"
		args = args[1:]
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
		return remoteThr(ctx, ep, size, count, sec, stdout)
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

// localThr: PULL binds and receives count messages. Its line adds the
// process's CPU time per message, from before the socket is made to the
// last message received.
func localThr(ctx context.Context, ep string, size, count int, sec []azmq.SocketOption, stdout, stderr io.Writer) error {
	cpu := startCPU()
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
	fmt.Fprintln(stdout, thrLine(size, count, d)+cpu.field(count))
	return nil
}

// remoteThr: PUSH connects and sends count messages, then waits until all
// of them are written, and prints the process's CPU time per message over
// all that, "cpu_ns_per_msg=N".
func remoteThr(ctx context.Context, ep string, size, count int, sec []azmq.SocketOption, stdout io.Writer) error {
	cpu := startCPU()
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
	if err := push.Close(); err != nil { // linger -1: returns once every message is written
		return err
	}
	if f := cpu.field(count); f != "" {
		fmt.Fprintln(stdout, f[1:])
	}
	return nil
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

// recv is the perf tools' receive: into one reused Msg with RecvInto,
// which gives the last message's memory back, as libzmq's perf tools
// receive into one zmq_msg_t again and again; with -release=false, Recv,
// each message the receiver's to keep.
func recv(ctx context.Context, s *azmq.Socket, m *azmq.Msg) ([][]byte, error) {
	if noRelease.Load() {
		return s.Recv(ctx)
	}
	err := s.RecvInto(ctx, m)
	return m.Frames, err
}

// recvThr receives count messages of size bytes and returns the time from
// the first to the last.
func recvThr(ctx context.Context, pull *azmq.Socket, size, count int) (time.Duration, error) {
	var t0 time.Time
	var m azmq.Msg
	for i := range count {
		msg, err := recv(ctx, pull, &m)
		if err != nil {
			return 0, fmt.Errorf("receive message %d of %d: %w", i+1, count, err)
		}
		if err := checkSize(msg, size); err != nil {
			return 0, err
		}
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
	var m azmq.Msg
	for i := range count {
		if err := send(ctx, req, payload); err != nil {
			return 0, fmt.Errorf("send request %d of %d: %w", i+1, count, err)
		}
		msg, err := recv(ctx, req, &m)
		if err != nil {
			return 0, fmt.Errorf("receive reply %d of %d: %w", i+1, count, err)
		}
		if err := checkSize(msg, size); err != nil {
			return 0, err
		}
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
