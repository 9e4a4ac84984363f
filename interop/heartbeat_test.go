//go:build !windows

package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/engine"
)

// Heartbeat interop (ZMTP 3.1 PING/PONG, PROTOCOL.md §1.9 and G13). A libzmq
// peer is made truly silent by SIGSTOP of its process: a merely idle python
// still has libzmq's I/O thread answering PINGs.

const (
	hbIvl     = 100 * time.Millisecond
	hbTimeout = 300 * time.Millisecond
	hbTTL     = time.Second
	// hbIdle is how long a connection stays idle while heartbeats run.
	hbIdle = 1500 * time.Millisecond
	// hbDetect bounds the time from silencing a peer to the disconnect.
	hbDetect = 3 * time.Second
)

// hbLib is a libzmq heartbeat configuration in peer.py's options (ms).
type hbLib struct{ ivl, timeout, ttl int }

// apply adds the heartbeat options to opts (a copy); the zero hbLib adds none.
func (h hbLib) apply(opts map[string]any) map[string]any {
	o := map[string]any{}
	for k, v := range opts {
		o[k] = v
	}
	if h.ivl > 0 {
		o["heartbeat_ivl"] = h.ivl
	}
	if h.timeout > 0 {
		o["heartbeat_timeout"] = h.timeout
	}
	if h.ttl > 0 {
		o["heartbeat_ttl"] = h.ttl
	}
	return o
}

// hbCurve says whether and how a case runs over CURVE.
type hbCurve int

const (
	hbNoCurve hbCurve = iota
	hbCurveAzmqServer
	hbCurveAzmqClient
)

func (c hbCurve) String() string {
	switch c {
	case hbCurveAzmqServer:
		return "curve-azmq-server"
	case hbCurveAzmqClient:
		return "curve-azmq-client"
	}
	return "null"
}

// setup returns the azmq options and the libzmq options (lib, with the
// security options added) for the mechanism, with fresh keys.
func (c hbCurve) setup(t *testing.T, lib map[string]any) ([]azmq.SocketOption, map[string]any) {
	t.Helper()
	if c == hbNoCurve {
		return nil, lib
	}
	cs := curveSetup{azmqServer: c == hbCurveAzmqServer, srv: newKeys(t), cli: newKeys(t)}
	return cs.azmqOpts(), cs.libOpts(lib)
}

// monEvents collects a socket's monitor events in the background.
type monEvents struct {
	ch  <-chan azmq.Event
	got []azmq.Event
}

func monitor(ctx context.Context, s *azmq.Socket) *monEvents {
	return &monEvents{ch: s.Monitor(ctx)}
}

// drain takes every event already queued.
func (m *monEvents) drain() {
	for {
		select {
		case ev, ok := <-m.ch:
			if !ok {
				return
			}
			m.got = append(m.got, ev)
		default:
			return
		}
	}
}

// find returns the first event of the kind seen so far.
func (m *monEvents) find(kind azmq.EventKind) (azmq.Event, bool) {
	m.drain()
	for _, ev := range m.got {
		if ev.Kind == kind {
			return ev, true
		}
	}
	return azmq.Event{}, false
}

// waitFor waits up to d for a new event of the kind (one not seen yet).
func (m *monEvents) waitFor(kind azmq.EventKind, d time.Duration) (azmq.Event, bool) {
	m.drain()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-m.ch:
			if !ok {
				return azmq.Event{}, false
			}
			m.got = append(m.got, ev)
			if ev.Kind == kind {
				return ev, true
			}
		case <-timer.C:
			return azmq.Event{}, false
		}
	}
}

func (m *monEvents) String() string {
	var sb strings.Builder
	for i, ev := range m.got {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(ev.Kind.String())
		if ev.Err != nil {
			fmt.Fprintf(&sb, "(%v)", ev.Err)
		}
	}
	if sb.Len() == 0 {
		return "none"
	}
	return sb.String()
}

// signal sends sig to a process, failing the test on error.
func signal(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill(%d, %v): %v", pid, sig, err)
	}
}

// freeze stops the process (every thread of it, libzmq's I/O thread too);
// it is continued at cleanup, before its own cleanup kills it.
func freeze(t *testing.T, pid int) time.Time {
	t.Helper()
	signal(t, pid, syscall.SIGSTOP)
	at := time.Now()
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	return at
}

// checkHeartbeatErr fails unless err is azmq's heartbeat timeout.
func checkHeartbeatErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "heartbeat") {
		t.Fatalf("%s: EventDisconnected with Err %v, want a heartbeat timeout (%q)", what, err, engine.ErrHeartbeat)
	}
	if !errors.Is(err, engine.ErrHeartbeat) {
		t.Errorf("%s: EventDisconnected Err %v mentions heartbeat but is not errors.Is(engine.ErrHeartbeat)", what, err)
	}
}

// TestHeartbeatIdle: an azmq DEALER and a libzmq ROUTER with heartbeats on
// (both sides, only libzmq, only azmq; then both over CURVE) stay idle for
// hbIdle after a first round trip; a second round trip then passes, and
// neither azmq's monitor nor libzmq's saw a disconnect.
func TestHeartbeatIdle(t *testing.T) {
	t.Parallel()
	type hbCase struct {
		name  string
		azmq  bool  // azmq heartbeats: WithHeartbeat(hbIvl, hbTimeout, 0)
		lib   hbLib // libzmq's heartbeat options
		curve hbCurve
	}
	both := hbLib{ivl: int(hbIvl / time.Millisecond), timeout: int(hbTimeout / time.Millisecond)}
	cases := []hbCase{
		{name: "both", azmq: true, lib: both},
		{name: "libzmq-only", lib: both},
		{name: "azmq-only", azmq: true},
		{name: "both", azmq: true, lib: both, curve: hbCurveAzmqServer},
		{name: "both", azmq: true, lib: both, curve: hbCurveAzmqClient},
	}
	for _, c := range cases {
		for _, tp := range tcpTopologies {
			t.Run(c.name+"/"+c.curve.String()+"/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				var opts []azmq.SocketOption
				if c.azmq {
					opts = append(opts, azmq.WithHeartbeat(hbIvl, hbTimeout, 0))
				}
				libOpts := c.lib.apply(map[string]any{"monitor": true})
				secOpts, libOpts := c.curve.setup(t, libOpts)
				s := newSocket(t, azmq.DEALER, append(opts, secOpts...)...)
				mon := monitor(ctx, s)
				p := link(t, s, spec{Type: "ROUTER", Options: libOpts, Steps: []step{
					{"op": "echo", "count": 2, "timeout_ms": 15000},
					{"op": "events", "ms": 0},
					{"op": "interactive"}, // until the checks below are done
				}}, tp)
				for i, m := range [][][]byte{{b("before-idle"), pattern(100, 1)}, {b("after-idle"), pattern(100, 2)}} {
					if i == 1 {
						time.Sleep(hbIdle)
						if ev, ok := mon.find(azmq.EventDisconnected); ok {
							t.Fatalf("azmq DEALER disconnected while idle with heartbeats on: Err %v; events: %s", ev.Err, mon)
						}
					}
					send(t, ctx, s, m)
					got := p.recvMsg()
					if len(got) < 2 || len(got[0]) == 0 {
						t.Fatalf("message %d as libzmq ROUTER received it: want [routing id, body...], got %s", i, describe(got))
					}
					checkMsg(t, fmt.Sprintf("message %d body as libzmq ROUTER received it", i), got[1:], m)
					checkMsg(t, fmt.Sprintf("echo %d as azmq DEALER received it", i), recvWithin(t, ctx, s, 5*time.Second), m)
				}
				evs := peerEvents(p)
				// The peer is still up (interactive): any disconnect so far
				// is a false heartbeat timeout.
				if ev, ok := mon.find(azmq.EventDisconnected); ok {
					t.Errorf("azmq DEALER saw EventDisconnected (Err %v); events: %s", ev.Err, mon)
				}
				if _, ok := mon.find(azmq.EventHandshakeSucceeded); !ok {
					t.Errorf("azmq DEALER: no EventHandshakeSucceeded; events: %s", mon)
				}
				for _, e := range evs {
					if e.Event == "DISCONNECTED" || strings.HasPrefix(e.Event, "HANDSHAKE_FAILED") {
						t.Errorf("libzmq ROUTER saw %s while idle with heartbeats on; its events: %s", e.Event, eventNames(evs))
					}
				}
				p.do(step{"op": "exit"})
				p.wait()
			})
		}
	}
}

// TestHeartbeatDeadPeer: azmq PUSH and libzmq PULL exchange a message,
// then the libzmq process is stopped (SIGSTOP). azmq must drop the
// connection with a heartbeat timeout within hbDetect:
//   - "azmq-pings": azmq's own PINGs (WithHeartbeat(hbIvl, hbTimeout, 0)) go
//     unanswered (also over CURVE, both roles);
//   - "libzmq-ttl": azmq has no heartbeat of its own, but libzmq's PINGs
//     carry a TTL (HEARTBEAT_IVL 100, HEARTBEAT_TTL 1000), which azmq honours.
func TestHeartbeatDeadPeer(t *testing.T) {
	t.Parallel()
	type hbCase struct {
		name  string
		azmq  bool
		lib   hbLib
		curve hbCurve
	}
	cases := []hbCase{
		{name: "azmq-pings", azmq: true},
		// libzmq's own timeout is set as long as the TTL: by default it is
		// the interval, and a test machine running every interop test at
		// once has let a PONG (or libzmq's reading of it) take longer
		// than 100 ms. What this case checks is azmq honouring the TTL.
		{name: "libzmq-ttl", lib: hbLib{ivl: int(hbIvl / time.Millisecond), timeout: int(hbTTL / time.Millisecond), ttl: int(hbTTL / time.Millisecond)}},
		{name: "azmq-pings", azmq: true, curve: hbCurveAzmqServer},
		{name: "azmq-pings", azmq: true, curve: hbCurveAzmqClient},
	}
	for _, c := range cases {
		for _, tp := range tcpTopologies {
			t.Run(c.name+"/"+c.curve.String()+"/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				var opts []azmq.SocketOption
				if c.azmq {
					opts = append(opts, azmq.WithHeartbeat(hbIvl, hbTimeout, 0))
				}
				secOpts, libOpts := c.curve.setup(t, c.lib.apply(nil))
				s := newSocket(t, azmq.PUSH, append(opts, secOpts...)...)
				mon := monitor(ctx, s)
				// The peer sleeps after the message: it is stopped meanwhile,
				// and killed at cleanup.
				p := link(t, s, spec{Type: "PULL", Options: libOpts, Steps: []step{
					{"op": "recv", "timeout_ms": 15000},
					{"op": "sleep", "ms": 60000},
				}}, tp)
				m := [][]byte{b("alive"), pattern(64, 3)}
				send(t, ctx, s, m)
				checkMsg(t, "message as libzmq PULL received it", p.recvMsg(), m)
				// A few heartbeat rounds while the peer is alive: no disconnect.
				time.Sleep(3 * hbIvl)
				if ev, ok := mon.find(azmq.EventDisconnected); ok {
					t.Fatalf("azmq PUSH disconnected while the peer was alive: Err %v; events: %s", ev.Err, mon)
				}
				stopped := freeze(t, p.cmd.Process.Pid)
				ev, ok := mon.waitFor(azmq.EventDisconnected, hbDetect)
				if !ok {
					t.Fatalf("azmq PUSH: no EventDisconnected within %v of stopping the libzmq peer; events: %s", hbDetect, mon)
				}
				t.Logf("disconnected %v after SIGSTOP: %v", time.Since(stopped).Round(time.Millisecond), ev.Err)
				checkHeartbeatErr(t, "azmq PUSH", ev.Err)
			})
		}
	}
}

// hbHelperEnv names the endpoint a helper process connects to; see
// TestHeartbeatAzmqHelper.
const hbHelperEnv = "AZMQ_INTEROP_HB_HELPER"

// hbHelperSent is what a helper prints once its message is sent.
const hbHelperSent = "azmq-hb-helper: sent"

// TestHeartbeatAzmqHelper is not a test: run by TestHeartbeatDeadAzmq in a
// child process (the test binary again, with hbHelperEnv set), it is an
// azmq PUSH with WithHeartbeat(hbIvl, 0, hbTTL) that connects, sends one
// message and then waits to be stopped and killed. Without the variable it
// does nothing.
func TestHeartbeatAzmqHelper(t *testing.T) {
	ep := os.Getenv(hbHelperEnv)
	if ep == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := newSocket(t, azmq.PUSH, azmq.WithHeartbeat(hbIvl, 0, hbTTL))
	if err := s.Connect(ep); err != nil {
		t.Fatalf("helper Connect(%q): %v", ep, err)
	}
	send(t, ctx, s, [][]byte{b("from-helper")})
	fmt.Println(hbHelperSent)
	<-ctx.Done()
}

// TestHeartbeatDeadAzmq: libzmq detects a dead azmq peer through the TTL
// azmq puts in its PINGs. The azmq side runs in a child process (so that it
// alone can be stopped): a PUSH with WithHeartbeat(100ms, 0, 500ms) sends a
// message to a libzmq PULL that has no heartbeat of its own; the link then
// stays idle for longer than the TTL without a disconnect (azmq's PINGs
// keep it up); then the child is stopped (SIGSTOP) and libzmq's monitor must
// report DISCONNECTED within hbDetect.
func TestHeartbeatDeadAzmq(t *testing.T) {
	t.Parallel()
	requirePeer(t)
	p := startPeer(t, spec{Type: "PULL", Bind: []string{"tcp://127.0.0.1:*"},
		Options: map[string]any{"monitor": true}, Steps: []step{
			{"op": "recv", "timeout_ms": 15000},
			{"op": "events", "ms": 20000, "until": []string{"DISCONNECTED"}},
		}})
	ep := p.ready()

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), peerLifetime)
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestHeartbeatAzmqHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), hbHelperEnv+"="+ep)
	cmd.WaitDelay = 2 * time.Second
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start the azmq helper: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cancel()
		if t.Failed() {
			t.Logf("azmq helper stderr:\n%s", stderr.String())
		}
	})
	sent := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var lines []string
		for sc.Scan() {
			if sc.Text() == hbHelperSent {
				sent <- ""
				for sc.Scan() { // drain, so the child never blocks on stdout
				}
				return
			}
			lines = append(lines, sc.Text())
		}
		sent <- strings.Join(lines, "\n")
	}()
	select {
	case other := <-sent:
		if other != "" {
			t.Fatalf("azmq helper ended without sending; its output:\n%s\nstderr:\n%s", other, stderr.String())
		}
	case <-time.After(lineTimeout):
		t.Fatalf("azmq helper: not sent within %v; stderr:\n%s", lineTimeout, stderr.String())
	}
	checkMsg(t, "helper message as libzmq PULL received it", p.recvMsg(), [][]byte{b("from-helper")})

	// Idle for over twice the TTL: azmq's PINGs must keep libzmq's TTL timer
	// from firing.
	time.Sleep(2*hbTTL + 200*time.Millisecond)
	select {
	case l := <-p.lines:
		p.failf("libzmq PULL ended its wait while the azmq peer was alive: %s", abbrev(l.raw, 300))
	default:
	}

	stopped := time.Now()
	signal(t, cmd.Process.Pid, syscall.SIGSTOP)
	evs := peerEvents(p)
	took := time.Since(stopped)
	found := false
	for _, e := range evs {
		if e.Event == "DISCONNECTED" {
			found = true
		}
	}
	if !found {
		t.Fatalf("libzmq PULL: no DISCONNECTED after the azmq peer was stopped; its events: %s", eventNames(evs))
	}
	if took > hbDetect {
		t.Fatalf("libzmq PULL: DISCONNECTED %v after the azmq peer was stopped, want within %v (TTL %v)", took, hbDetect, hbTTL)
	}
	t.Logf("libzmq disconnected %v after SIGSTOP of azmq (TTL %v); events: %s", took.Round(time.Millisecond), hbTTL, eventNames(evs))
	p.wait()
}
