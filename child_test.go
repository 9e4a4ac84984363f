package azmq

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The fault tests that kill or isolate a peer run it in a process of its
// own: the test binary started again with childRoleEnv set (see TestMain).
// The parent drives the child through stdin, one command per line, and
// reads what happened from its stdout, one event per line.
const (
	childRoleEnv = "AZMQ_TEST_CHILD"      // push, pull or rep
	childEPEnv   = "AZMQ_TEST_CHILD_EP"   // the endpoint
	childBindEnv = "AZMQ_TEST_CHILD_BIND" // "1": Bind, else Connect
	childHBEnv   = "AZMQ_TEST_CHILD_HB"   // "1": heartbeats on
)

// childHeartbeat is what a child with heartbeats uses: a silent peer is
// dropped after about a second.
func childHeartbeat() SocketOption {
	return WithHeartbeat(250*time.Millisecond, time.Second, 2*time.Second)
}

// runChild is a child process's whole life. Its exit code is 0 after a
// "quit" command and 1 after a failure (printed first).
func runChild(role string) int {
	out := &lineWriter{w: bufio.NewWriter(os.Stdout)}
	if err := child(role, out); err != nil {
		out.printf("error %v", err)
		return 1
	}
	return 0
}

type lineWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
	l.w.Flush()
}

func child(role string, out *lineWriter) error {
	types := map[string]SocketType{"push": PUSH, "pull": PULL, "rep": REP}
	typ, ok := types[role]
	if !ok {
		return fmt.Errorf("unknown role %q", role)
	}
	opts := []SocketOption{
		WithReconnectInterval(50 * time.Millisecond),
		WithReconnectIntervalMax(500 * time.Millisecond),
		WithLinger(0),
	}
	if os.Getenv(childHBEnv) == "1" {
		opts = append(opts, childHeartbeat())
	}
	z := NewContext()
	defer z.Close()
	s, err := z.NewSocket(typ, opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	events := s.Monitor(ctx)
	wg.Go(func() {
		for ev := range events {
			out.printf("event %v %v", ev.Kind, ev.Err)
		}
	})
	ep := os.Getenv(childEPEnv)
	if os.Getenv(childBindEnv) == "1" {
		err = s.Bind(ep)
	} else {
		err = s.Connect(ep)
	}
	if err != nil {
		return err
	}
	out.printf("ready %s", s.LastEndpoint())

	switch role {
	case "pull":
		// Every message is checked whole and reported by its number.
		wg.Go(func() {
			for {
				m, err := s.Recv(ctx)
				if err != nil {
					return
				}
				if seq, ok := seqCheck(m); ok {
					out.printf("recv %d", seq)
				} else {
					out.printf("bad %d frames", len(m))
				}
			}
		})
	case "rep":
		// Requests are reported; they are answered only in "answer" mode.
		var answer atomic.Bool
		wg.Go(func() {
			for {
				m, err := s.Recv(ctx)
				if err != nil {
					return
				}
				out.printf("req %s", m[0])
				if answer.Load() {
					if err := s.Send(ctx, append([]byte("re:"), m[0]...)); err != nil {
						return
					}
				}
			}
		})
		return childCommands(ctx, s, out, func(cmd string, _ []string) bool {
			if cmd == "answer" {
				answer.Store(true)
				out.printf("answering")
				return true
			}
			return false
		})
	}
	return childCommands(ctx, s, out, nil)
}

// childCommands runs the parent's commands until "quit" or end of input:
//
//	send N SIZE     send the next N numbered messages of SIZE bytes, then "sent TOTAL"
//	stream SIZE     send numbered messages until killed
//	quit            close and exit
func childCommands(ctx context.Context, s *Socket, out *lineWriter, extra func(string, []string) bool) error {
	run, _ := strconv.Atoi(os.Getenv("AZMQ_TEST_CHILD_RUN"))
	var next uint32
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "quit":
			return s.Close()
		case f[0] == "send" && len(f) == 3:
			n, _ := strconv.Atoi(f[1])
			size, _ := strconv.Atoi(f[2])
			for i := 0; i < n; i++ {
				if err := s.Send(ctx, seqMsg(uint32(run)<<24|next, size)); err != nil {
					return fmt.Errorf("send %d: %w", next, err)
				}
				next++
			}
			out.printf("sent %d", next)
		case f[0] == "stream" && len(f) == 2:
			size, _ := strconv.Atoi(f[1])
			go func() {
				for seq := uint32(run) << 24; ; seq++ {
					if s.Send(ctx, seqMsg(seq, size)) != nil {
						return
					}
				}
			}()
		case extra != nil && extra(f[0], f[1:]):
		default:
			return fmt.Errorf("bad command %q", in.Text())
		}
	}
	return s.Close()
}

// seqCheck returns the number of a one-frame seqMsg, and whether the
// message is exactly the one seqMsg makes for that number.
func seqCheck(frames [][]byte) (uint32, bool) {
	if len(frames) != 1 || len(frames[0]) < 4 {
		return 0, false
	}
	seq := binary.BigEndian.Uint32(frames[0])
	return seq, bytes.Equal(frames[0], seqMsg(seq, len(frames[0])))
}

// peerProc is a child process as the parent sees it.
type peerProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	seen  []string // every line read so far
	done  chan struct{}
}

// startPeer starts a child of the given role. wrap, if not nil, is a
// command the test binary is started under (e.g. ip netns exec NS).
func startPeer(t *testing.T, role, ep string, bind, heartbeat bool, run int, wrap ...string) *peerProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, wrap...), exe, "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(),
		childRoleEnv+"="+role, childEPEnv+"="+ep,
		childBindEnv+"="+boolEnv(bind), childHBEnv+"="+boolEnv(heartbeat),
		"AZMQ_TEST_CHILD_RUN="+strconv.Itoa(run))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s child: %v", role, err)
	}
	p := &peerProc{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1<<16), done: make(chan struct{})}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(p.kill)
	p.waitLine(10*time.Second, "ready")
	return p
}

func boolEnv(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// say sends the child a command.
func (p *peerProc) say(format string, args ...any) {
	p.t.Helper()
	if _, err := fmt.Fprintf(p.stdin, format+"\n", args...); err != nil {
		p.t.Fatalf("child %v: %v", p.cmd.Args[len(p.cmd.Args)-2:], err)
	}
}

// waitFor reads the child's lines until one satisfies ok, and returns it.
// A child that fails or exits first, or a wait longer than d, fails the test.
func (p *peerProc) waitFor(d time.Duration, what string, ok func(string) bool) string {
	p.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case line, open := <-p.lines:
			if !open {
				p.t.Fatalf("child exited while waiting for %s (last lines: %q)", what, tail(p.seen, 5))
			}
			p.seen = append(p.seen, line)
			if strings.HasPrefix(line, "error ") || strings.HasPrefix(line, "bad ") {
				p.t.Fatalf("child: %s", line)
			}
			if ok(line) {
				return line
			}
		case <-timer.C:
			p.t.Fatalf("no %s from the child within %v (last lines: %q)", what, d, tail(p.seen, 5))
		}
	}
}

func (p *peerProc) waitLine(d time.Duration, prefix string) string {
	p.t.Helper()
	return p.waitFor(d, strconv.Quote(prefix), func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// received is the numbers of the messages the child reported so far.
func (p *peerProc) received() []uint32 {
	var seqs []uint32
	for _, l := range p.seen {
		if n, ok := strings.CutPrefix(l, "recv "); ok {
			v, _ := strconv.ParseUint(n, 10, 32)
			seqs = append(seqs, uint32(v))
		}
	}
	return seqs
}

// waitRecv waits until the child has reported the message numbered seq.
func (p *peerProc) waitRecv(d time.Duration, seq uint32) {
	p.t.Helper()
	want := fmt.Sprintf("recv %d", seq)
	p.waitFor(d, want, func(l string) bool { return l == want })
}

// kill ends the child with SIGKILL (TerminateProcess on Windows): no
// close, no linger, its connections die with it.
func (p *peerProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	for line := range p.lines {
		p.seen = append(p.seen, line)
	}
}

func tail(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// contiguous reports whether seqs counts up by one from first.
func contiguous(seqs []uint32, first uint32) bool {
	for i, s := range seqs {
		if s != first+uint32(i) {
			return false
		}
	}
	return true
}
