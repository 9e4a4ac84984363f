//go:build !windows

package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/cmdtest"
)

// pythonPath is Debian's interpreter, the one with python3-zmq. Another
// python3 without zmq may come first on PATH, so it is called by full path.
const pythonPath = "/usr/bin/python3"

const (
	// peerLifetime bounds a peer process: it is killed after this long.
	peerLifetime = 90 * time.Second
	// lineTimeout bounds each wait for a line from a peer.
	lineTimeout = 20 * time.Second
	// opTimeout bounds each test's azmq calls (the ctx of Send and Recv).
	opTimeout = 30 * time.Second
	// inlineSpecMax is the largest spec passed on argv; larger ones go on stdin.
	inlineSpecMax = 64 << 10
)

// peerAvailable reports, once per run, whether /usr/bin/python3 can import zmq.
var peerAvailable = sync.OnceValues(func() (string, error) {
	out, err := exec.Command(pythonPath, "-c", "import zmq; print(zmq.zmq_version())").CombinedOutput()
	if err != nil {
		if msg := bytes.TrimSpace(out); len(msg) > 0 {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return "", fmt.Errorf("%s cannot import zmq: %w", pythonPath, err)
	}
	return strings.TrimSpace(string(out)), nil
})

// requirePeer skips the test when the libzmq peer cannot run, or fails it
// when AZMQ_INTEROP=1 says the peer must be there.
func requirePeer(t *testing.T) {
	t.Helper()
	if _, err := peerAvailable(); err != nil {
		if os.Getenv("AZMQ_INTEROP") == "1" {
			t.Fatalf("libzmq peer required (AZMQ_INTEROP=1) but unavailable: %v; install it with: apt-get install -y python3-zmq", err)
		}
		t.Skipf("libzmq peer unavailable, skipping: %v (apt-get install -y python3-zmq; AZMQ_INTEROP=1 turns this skip into a failure)", err)
	}
}

// spec is the JSON spec of peer.py and of peer.mjs; see their doc comments.
type spec struct {
	Type    string         `json:"type"`
	Bind    []string       `json:"bind,omitempty"`
	Connect []string       `json:"connect,omitempty"`
	Options map[string]any `json:"options,omitempty"`
	Steps   []step         `json:"steps,omitempty"`
}

// step is one peer step, e.g. step{"op": "recv", "count": 3}.
type step map[string]any

// peerLine is one JSON line printed by a peer (peer.py or peer.mjs).
type peerLine struct {
	Ready   *string  `json:"ready"`
	Bound   string   `json:"bound"`
	Msg     []string `json:"msg"`
	Ack     string   `json:"ack"`
	Drained *int     `json:"drained"`
	Sent    *int     `json:"sent"`
	Eagain  bool     `json:"eagain"`
	Done    bool     `json:"done"`

	// peer.mjs only: a SERVER's message's routing id, a DISH's message's
	// group, and an error (expected by a step, or fatal).
	RoutingID *uint32 `json:"routing_id"`
	Group     *string `json:"group"`
	Error     string  `json:"error"`

	raw   string
	frame [][]byte // Msg decoded
}

func (l peerLine) kind() string {
	switch {
	case l.Error != "":
		return "error"
	case l.Ready != nil:
		return "ready"
	case l.Bound != "":
		return "bound"
	case l.Msg != nil:
		return "msg"
	case l.Ack != "":
		return "ack"
	case l.Drained != nil:
		return "drained"
	case l.Sent != nil:
		return "sent"
	case l.Eagain:
		return "eagain"
	case l.Done:
		return "done"
	}
	return "unknown"
}

// peer is a running peer process: peer.py, or peer.mjs (startNodePeer).
type peer struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr lockedBuffer
	lines  chan peerLine // closed when stdout ends
	exited chan struct{} // closed when the process has been waited for
	quit   chan struct{} // closed at cleanup: the reader stops
	rdone  chan struct{} // closed when the reader has stopped
	werr   error         // cmd.Wait's result, once exited is closed
	spec   string

	// endpoint is the peer's ready endpoint, once ready has returned.
	endpoint string
}

// lockedBuffer is an io.Writer whose content can be read while the process runs.
type lockedBuffer = cmdtest.LockedBuf

// startPeer starts peer.py with the spec. The process is killed, and its
// stderr shown if the test failed, when the test ends.
func startPeer(t *testing.T, sp spec) *peer {
	t.Helper()
	requirePeer(t)
	script, err := filepath.Abs("peer.py")
	if err != nil {
		t.Fatal(err)
	}
	return startProcess(t, "libzmq "+sp.Type, sp, pythonPath, "-u", script)
}

// startProcess runs a peer program (argv, then the spec as one more
// argument, or on stdin when it is large) and reads what it prints.
func startProcess(t *testing.T, name string, sp spec, argv ...string) *peer {
	t.Helper()
	js, err := json.Marshal(sp)
	if err != nil {
		t.Fatalf("peer spec: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), peerLifetime)
	args := append([]string(nil), argv[1:]...)
	if len(js) <= inlineSpecMax {
		args = append(args, string(js))
	}
	cmd := exec.CommandContext(ctx, argv[0], args...)
	// How long Wait lets the output pipes drain once the peer has exited
	// or been killed: a loaded machine (node's exit flushing its stderr)
	// took more than 2 s.
	cmd.WaitDelay = 10 * time.Second
	p := &peer{
		t:      t,
		name:   name,
		cmd:    cmd,
		lines:  make(chan peerLine, 256),
		exited: make(chan struct{}),
		quit:   make(chan struct{}),
		rdone:  make(chan struct{}),
		spec:   abbrev(string(js), 300),
	}
	cmd.Stderr = &p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	p.stdin = stdin
	r, w, err := os.Pipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		cancel()
		r.Close()
		w.Close()
		t.Fatalf("start %s: %v", p.name, err)
	}
	w.Close()
	go p.read(r)
	go func() {
		p.werr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		close(p.quit)
		p.stdin.Close()
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		<-p.rdone
		r.Close()
		cancel()
		if t.Failed() {
			if s := p.stderr.String(); s != "" {
				t.Logf("%s stderr:\n%s", p.name, s)
			}
		}
	})
	if len(js) > inlineSpecMax {
		p.writeLine(js)
	}
	return p
}

// read turns the peer's stdout into lines on p.lines, until EOF or cleanup.
func (p *peer) read(r io.Reader) {
	defer close(p.rdone)
	defer close(p.lines)
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			var l peerLine
			l.raw = string(bytes.TrimSpace(b))
			if jerr := json.Unmarshal(b, &l); jerr != nil {
				l = peerLine{raw: "unparsable: " + abbrev(l.raw, 200)}
			} else if l.Msg != nil {
				l.frame = make([][]byte, len(l.Msg))
				for i, h := range l.Msg {
					f, herr := hex.DecodeString(h)
					if herr != nil {
						l = peerLine{raw: "bad hex: " + abbrev(l.raw, 200)}
						break
					}
					l.frame[i] = f
				}
			}
			select {
			case p.lines <- l:
			case <-p.quit:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// exitStatus describes how the peer ended, waiting a little for it.
func (p *peer) exitStatus() string {
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		return "still running"
	}
	if p.werr != nil {
		return fmt.Sprintf("exited: %v", p.werr)
	}
	return "exited with status 0"
}

// failf fails the test with the peer's stderr attached.
func (p *peer) failf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("%s: %s\n\tspec: %s\n\tstderr: %s", p.name, fmt.Sprintf(format, args...), p.spec, strings.TrimSpace(p.stderr.String()))
}

// next returns the next line the peer prints, failing the test when the
// peer ends or stays silent for lineTimeout.
func (p *peer) next() peerLine {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.failf("ended without the expected line (%s)", p.exitStatus())
		}
		return l
	case <-time.After(lineTimeout):
		p.failf("no line within %v", lineTimeout)
	}
	panic("unreachable")
}

// expect returns the next line of the given kind, skipping "ack" lines
// (unless an ack is expected); any other kind fails the test.
func (p *peer) expect(kind string) peerLine {
	p.t.Helper()
	for {
		l := p.next()
		k := l.kind()
		if k == kind {
			return l
		}
		if k == "ack" {
			continue
		}
		p.failf("expected a %q line, got %s", kind, abbrev(l.raw, 300))
	}
}

// ready waits for the peer's {"ready": endpoint} line.
func (p *peer) ready() string {
	p.t.Helper()
	p.endpoint = *p.expect("ready").Ready
	return p.endpoint
}

// recvMsg returns the next message the peer printed.
func (p *peer) recvMsg() [][]byte {
	p.t.Helper()
	return p.expect("msg").frame
}

// wait waits for the peer's {"done": true} and a clean exit. Lines other
// than messages (acks, counts) are skipped; a message not read yet fails.
func (p *peer) wait() {
	p.t.Helper()
	for {
		l := p.next()
		if l.Done {
			break
		}
		if k := l.kind(); k == "msg" || k == "error" || k == "unknown" {
			p.failf("expected the end, got %s", abbrev(l.raw, 300))
		}
	}
	select {
	case <-p.exited:
	case <-time.After(lineTimeout):
		p.failf("did not exit after done")
	}
	if p.werr != nil {
		p.failf("exit: %v", p.werr)
	}
}

// writeLine sends one line to the peer's stdin.
func (p *peer) writeLine(b []byte) {
	p.t.Helper()
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.failf("write to stdin: %v (%s)", err, p.exitStatus())
	}
}

// do sends one step to a peer in interactive mode.
func (p *peer) do(st step) {
	p.t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		p.t.Fatal(err)
	}
	p.writeLine(b)
}

// stop ends the peer's current send_loop.
func (p *peer) stop() {
	p.t.Helper()
	p.writeLine([]byte("stop"))
}

// Helpers for the azmq side.

// testCtx is the ctx of a test's azmq calls: bounded, and cancelled at its end.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newSocket makes an azmq socket in a fresh Context; both are closed when
// the test ends.
func newSocket(t *testing.T, typ azmq.SocketType, opts ...azmq.SocketOption) *azmq.Socket {
	t.Helper()
	zctx := azmq.NewContext()
	t.Cleanup(func() { closeWithin(t, "context", zctx.Close) })
	s, err := zctx.NewSocket(typ, opts...)
	if err != nil {
		t.Fatalf("NewSocket(%v): %v", typ, err)
	}
	t.Cleanup(func() { closeWithin(t, "socket "+typ.String(), s.Close) })
	return s
}

// closeWithin calls a Close and fails the test if it takes more than 15s.
func closeWithin(t *testing.T, what string, close func() error) {
	done := make(chan error, 1)
	go func() { done <- close() }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, azmq.ErrClosed) {
			t.Errorf("close %s: %v", what, err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("close %s: still blocked after 15s", what)
		<-done
	}
}

// topo is where a scenario runs: the transport, and which side binds.
type topo struct {
	transport string // "tcp", "ipc" or "ws"
	azmqBinds bool
}

func (tp topo) String() string {
	if tp.azmqBinds {
		return tp.transport + "/azmq-binds"
	}
	return tp.transport + "/libzmq-binds"
}

// topologies is every scenario's table: both transports, both directions.
var topologies = []topo{{"tcp", true}, {"tcp", false}, {"ipc", true}, {"ipc", false}}

// tcpTopologies is both directions over tcp only.
var tcpTopologies = []topo{{"tcp", true}, {"tcp", false}}

// bindEndpoint is a fresh endpoint to bind: any free loopback port, or a
// socket file in a temporary directory.
func bindEndpoint(t *testing.T, transport string) string {
	t.Helper()
	switch transport {
	case "tcp":
		return "tcp://127.0.0.1:*"
	case "ws":
		return "ws://127.0.0.1:*/zmq"
	case "ipc":
		dir := t.TempDir()
		if len(dir) > 80 { // sun_path holds 107 bytes
			var err error
			dir, err = os.MkdirTemp("", "azmq-ipc-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
		}
		return "ipc://" + filepath.Join(dir, "s")
	}
	t.Fatalf("unknown transport %q", transport)
	return ""
}

// link binds one side and connects the other, starting the peer with sp
// (plus the endpoint), and returns the peer once it is ready.
func link(t *testing.T, s *azmq.Socket, sp spec, tp topo) *peer {
	t.Helper()
	return linkWith(t, s, sp, tp, startPeer)
}

// linkWith is link with the peer program that start runs.
func linkWith(t *testing.T, s *azmq.Socket, sp spec, tp topo, start func(*testing.T, spec) *peer) *peer {
	t.Helper()
	sp.Bind = append([]string(nil), sp.Bind...)
	sp.Connect = append([]string(nil), sp.Connect...)
	ep := bindEndpoint(t, tp.transport)
	if tp.azmqBinds {
		if err := s.Bind(ep); err != nil {
			t.Fatalf("azmq %v Bind(%q): %v", s.Type(), ep, err)
		}
		bound := s.LastEndpoint()
		if bound == "" || strings.HasSuffix(bound, ":*") || strings.HasSuffix(bound, ":0") {
			t.Fatalf("azmq %v LastEndpoint() = %q after Bind(%q): want the resolved endpoint", s.Type(), bound, ep)
		}
		sp.Connect = append(sp.Connect, bound)
		p := start(t, sp)
		p.ready()
		return p
	}
	sp.Bind = append(sp.Bind, ep)
	p := start(t, sp)
	got := p.ready()
	if err := s.Connect(got); err != nil {
		t.Fatalf("azmq %v Connect(%q): %v", s.Type(), got, err)
	}
	return p
}

// Message helpers.

func hexFrames(msg [][]byte) []string {
	h := make([]string, len(msg))
	for i, f := range msg {
		h[i] = hex.EncodeToString(f)
	}
	return h
}

func b(s string) []byte { return []byte(s) }

// pattern is n bytes of a pattern that depends on seed, so that a frame
// that lands in the wrong place does not compare equal.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7) + seed
	}
	return p
}

// cat joins frames and messages into one message.
func cat(parts ...any) [][]byte {
	var m [][]byte
	for _, p := range parts {
		switch v := p.(type) {
		case []byte:
			m = append(m, v)
		case string:
			m = append(m, []byte(v))
		case [][]byte:
			m = append(m, v...)
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return m
}

// clone deep-copies a message: Send takes ownership of its slices.
func clone(m [][]byte) [][]byte {
	c := make([][]byte, len(m))
	for i, f := range m {
		c[i] = append([]byte{}, f...)
	}
	return c
}

// describe prints a message briefly: frame lengths and short hex prefixes.
func describe(m [][]byte) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d frame(s) [", len(m))
	for i, f := range m {
		if i > 0 {
			sb.WriteString(", ")
		}
		if len(f) <= 16 {
			fmt.Fprintf(&sb, "%q", f)
		} else {
			fmt.Fprintf(&sb, "%dB %x…", len(f), f[:8])
		}
	}
	sb.WriteString("]")
	return sb.String()
}

// diffMsg is "" when got equals want frame for frame, byte for byte, or
// else says where they differ.
func diffMsg(got, want [][]byte) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %s, want %s", describe(got), describe(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			g, w := got[i], want[i]
			at := 0
			for at < len(g) && at < len(w) && g[at] == w[at] {
				at++
			}
			return fmt.Sprintf("frame %d differs at byte %d (got %d bytes, want %d): got %s, want %s",
				i, at, len(g), len(w), describe(got), describe(want))
		}
	}
	return ""
}

// checkMsg fails the test unless got equals want.
func checkMsg(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	if d := diffMsg(got, want); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
}

// send sends a copy of m on s, failing the test on error.
func send(t *testing.T, ctx context.Context, s *azmq.Socket, m [][]byte) {
	t.Helper()
	if err := s.Send(ctx, clone(m)...); err != nil {
		t.Fatalf("azmq %v Send(%s): %v", s.Type(), describe(m), err)
	}
}

// recv receives one message on s, failing the test on error.
func recv(t *testing.T, ctx context.Context, s *azmq.Socket) [][]byte {
	t.Helper()
	m, err := s.Recv(ctx)
	if err != nil {
		t.Fatalf("azmq %v Recv: %v", s.Type(), err)
	}
	return m
}

// recvWithin receives one message on s, or returns nil after d.
func recvWithin(t *testing.T, ctx context.Context, s *azmq.Socket, d time.Duration) [][]byte {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	m, err := s.Recv(c)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil
		}
		t.Fatalf("azmq %v Recv: %v", s.Type(), err)
	}
	return m
}

func abbrev(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// pairCase is one scenario between an azmq socket and a libzmq peer: lib is
// the peer's spec without endpoints; run drives the exchange.
type pairCase struct {
	name string
	azmq azmq.SocketType
	opts []azmq.SocketOption
	lib  spec
	run  func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer)
}

// runCases runs every case over every topology, in parallel.
func runCases(t *testing.T, topos []topo, cases []pairCase) {
	runCasesWith(t, topos, cases, requirePeer, startPeer)
}

// runCasesWith is runCases with the peer program that start runs, once
// require has found it.
func runCasesWith(t *testing.T, topos []topo, cases []pairCase, require func(*testing.T), start func(*testing.T, spec) *peer) {
	for _, c := range cases {
		for _, tp := range topos {
			t.Run(c.name+"/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				require(t)
				ctx := testCtx(t)
				s := newSocket(t, c.azmq, c.opts...)
				p := linkWith(t, s, c.lib, tp, start)
				c.run(t, ctx, s, p)
			})
		}
	}
}
