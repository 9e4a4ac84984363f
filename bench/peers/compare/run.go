package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runner starts the programs, one run at a time, and records every run.
type runner struct {
	cfg      *config
	dir      string // the ipc endpoints' directory, removed at the end
	seq      int
	runs     *os.File
	runsPath string
	errs     *os.File
	errPath  string
}

func newRunner(cfg *config) (*runner, error) {
	r := &runner{cfg: cfg}
	var err error
	// Short: a unix socket's path has a limit of about 100 bytes.
	if r.dir, err = os.MkdirTemp("", "peers-"); err != nil {
		return nil, err
	}
	r.runsPath = filepath.Join(cfg.out, "runs.tsv")
	if r.runs, err = os.Create(r.runsPath); err != nil {
		return nil, err
	}
	fmt.Fprintln(r.runs, "phase\tremote\tlocal\tkind\ttransport\tsize\tcount\tvalue\tseconds\tmax_rss_kb\toutput\tcpu_ns_recv\tcpu_ns_send")
	r.errPath = filepath.Join(cfg.out, "err", "errors.log")
	if r.errs, err = os.Create(r.errPath); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *runner) close() {
	r.runs.Close()
	r.errs.Close()
	os.RemoveAll(r.dir)
}

// result is the outcome of one run.
type result struct {
	ok     bool
	figure float64 // msgs/s (thr) or latency in µs (lat), when ok
	value  string  // the figure as printed, or fail, hang, panic, n/a
	line   string  // the result line the program printed
	maxRSS int64   // KiB, of the binding process (inproc: the only one)
	// The CPU time per message of the receiving and the sending process,
	// as each printed it (thr over tcp and ipc); "-" when it did not.
	cpuRecv, cpuSend string
}

// run makes one measurement: the local (binding) side of implementation
// local against the remote side of implementation remote, or, for inproc,
// local's program alone. phase (probe, rep, cross) goes to runs.tsv.
func (r *runner) run(phase, remote, local string, c cell, count int) result {
	start := time.Now()
	size, n := strconv.Itoa(c.size), strconv.Itoa(count)
	var procs []*proc
	var measured *proc // the one that prints the result line
	if c.transport == "inproc" {
		p := r.start(local, "inproc_"+c.kind, size, n)
		p.wait()
		procs, measured = []*proc{p}, p
	} else {
		r.seq++
		ep := "tcp://127.0.0.1:*"
		if c.transport == "ipc" {
			ep = "ipc://" + filepath.Join(r.dir, strconv.Itoa(r.seq)+".ipc")
		}
		lp := r.start(local, "local_"+c.kind, ep, size, n)
		procs = []*proc{lp}
		if bound, ok := r.ready(lp, ep); ok {
			rp := r.start(remote, "remote_"+c.kind, bound, size, n)
			procs = append(procs, rp)
			rp.wait()
			if rp.exitCode() != 0 {
				// The local side would wait for messages that will not come.
				lp.stopAfter(2 * time.Second)
			}
		} else {
			lp.stopAfter(0)
		}
		lp.wait()
		measured = lp
		if c.kind == "lat" && len(procs) == 2 {
			measured = procs[1]
		}
		if c.transport == "ipc" {
			os.Remove(strings.TrimPrefix(ep, "ipc://"))
		}
	}
	seconds := time.Since(start).Seconds()

	res := result{cpuRecv: "-", cpuSend: "-"}
	if c.kind == "thr" && len(procs) == 2 {
		res.cpuRecv = cpuField(procs[0].stdout.String())
		res.cpuSend = cpuField(procs[1].stdout.String())
	}
	res.line, res.value = resultLine(c.kind, measured.stdout.String())
	res.ok = res.value != ""
	for _, p := range procs {
		res.ok = res.ok && p.exitCode() == 0
	}
	if res.ok {
		res.figure, _ = strconv.ParseFloat(res.value, 64)
	} else {
		res.value = verdict(procs)
	}
	if ru, ok := procs[0].rusage(); ok {
		res.maxRSS = ru.Maxrss
	}
	fmt.Fprintf(r.runs, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%.2f\t%d\t%s\t%s\t%s\n", phase, remote, local, c.kind, c.transport,
		c.size, count, res.value, seconds, res.maxRSS, res.line, res.cpuRecv, res.cpuSend)
	if !res.ok {
		fmt.Fprintf(r.errs, "== %s %s -> %s, %v, n=%d: %s\n", phase, remote, local, c, count, res.value)
		for _, p := range procs {
			fmt.Fprintf(r.errs, "-- %s (%s):\n%s\n", strings.Join(p.cmd.Args, " "), p.status(), p.stderr.head(4000))
		}
	}
	return res
}

// ready waits until the binding side listens and returns the endpoint to
// connect to. Over tcp the program says which port it got; over ipc the
// path appears among the listening unix sockets.
func (r *runner) ready(lp *proc, ep string) (string, bool) {
	deadline := time.After(r.cfg.timeout)
	path, isIPC := strings.CutPrefix(ep, "ipc://")
	for {
		if isIPC && listening(path) {
			return ep, true
		}
		select {
		case bound := <-lp.stderr.endpoint:
			if !isIPC {
				return bound, true
			}
		case <-lp.done:
			return "", false
		case <-deadline:
			return "", false
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// listening reports whether a unix socket listens on path, from
// /proc/net/unix (the Flags column has __SO_ACCEPTCON, 0x10000, once
// listen was called: a connect before that would be refused). Without
// /proc it settles for the path existing.
func listening(path string) bool {
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		_, err := os.Stat(path)
		return err == nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || fields[len(fields)-1] != path {
			continue
		}
		if flags, err := strconv.ParseUint(fields[3], 16, 32); err == nil && flags&0x10000 != 0 {
			return true
		}
	}
	return false
}

// resultLine finds the line of the result in a program's output and the
// figure in it: msgs_per_s for thr, latency_us for lat.
func resultLine(kind, out string) (line, value string) {
	key := "msgs_per_s="
	if kind == "lat" {
		key = "latency_us="
	}
	for l := range strings.SplitSeq(out, "\n") {
		for _, f := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(f, key); ok {
				if _, err := strconv.ParseFloat(v, 64); err == nil {
					return strings.TrimSpace(l), v
				}
			}
		}
	}
	return "", ""
}

// cpuField finds "cpu_ns_per_msg=N" in a program's output: the value, or
// "-" when the program printed none.
func cpuField(out string) string {
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "cpu_ns_per_msg="); ok {
			if x, err := strconv.ParseFloat(v, 64); err == nil && x >= 0 {
				return v
			}
		}
	}
	return "-"
}

// verdict names how a run failed: a Go panic first, then a mode not
// offered, then a process killed after TIMEOUT, else "fail".
func verdict(procs []*proc) string {
	for _, p := range procs {
		if p.stderr.panicked() {
			return "panic"
		}
	}
	for _, p := range procs {
		if p.exitCode() == 2 && p.stderr.mentionsUsage() {
			return "n/a"
		}
	}
	for _, p := range procs {
		if p.timedOut {
			return "hang"
		}
	}
	return "fail"
}

// proc is one started program.
type proc struct {
	cmd      *exec.Cmd
	stdout   bytes.Buffer // read after done
	stderr   *stderrLog
	done     chan struct{}
	startErr error
	timedOut bool // killed after TIMEOUT (set before done is closed)
}

// start runs impl's program with the mode and arguments. The program is
// ended with SIGTERM after TIMEOUT, and killed 3 s later if still there.
func (r *runner) start(impl, mode string, args ...string) *proc {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.timeout)
	argv := append(append(append([]string{}, r.cfg.cmds[impl][1:]...), mode), args...)
	cmd := exec.CommandContext(ctx, r.cfg.cmds[impl][0], argv...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	p := &proc{cmd: cmd, stderr: newStderrLog(), done: make(chan struct{})}
	cmd.Stdout = &p.stdout
	cmd.Stderr = p.stderr
	if p.startErr = cmd.Start(); p.startErr != nil {
		cancel()
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		defer cancel()
		cmd.Wait()
		p.timedOut = ctx.Err() == context.DeadlineExceeded && cmd.ProcessState.ExitCode() != 0
	}()
	return p
}

func (p *proc) wait() { <-p.done }

// stopAfter gives the program grace to end by itself, then SIGTERM, then
// after 3 s SIGKILL.
func (p *proc) stopAfter(grace time.Duration) {
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		p.cmd.Process.Kill()
	}
}

// exitCode is the program's exit status, -1 when it did not start or was
// ended by a signal.
func (p *proc) exitCode() int {
	if p.startErr != nil || p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) status() string {
	switch {
	case p.startErr != nil:
		return "did not start: " + p.startErr.Error()
	case p.timedOut:
		return "killed after TIMEOUT"
	default:
		return p.cmd.ProcessState.String()
	}
}

func (p *proc) rusage() (*syscall.Rusage, bool) {
	if p.cmd.ProcessState == nil {
		return nil, false
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return ru, ok
}

// stderrLog keeps the start of a program's stderr and passes on the first
// "endpoint=" line as soon as it is written.
type stderrLog struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	scanned  int // bytes of buf looked at for "endpoint="
	endpoint chan string
	sent     bool
}

const stderrKeep = 64 << 10

func newStderrLog() *stderrLog { return &stderrLog{endpoint: make(chan string, 1)} }

func (l *stderrLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := stderrKeep - l.buf.Len(); room > 0 {
		l.buf.Write(b[:min(len(b), room)])
	}
	for !l.sent {
		rest := l.buf.Bytes()[l.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		if ep, ok := strings.CutPrefix(string(rest[:i]), "endpoint="); ok {
			l.endpoint <- strings.TrimSpace(ep)
			l.sent = true
		}
		l.scanned += i + 1
	}
	return len(b), nil
}

func (l *stderrLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *stderrLog) head(n int) string {
	s := l.String()
	if len(s) > n {
		s = s[:n] + "\n[...]"
	}
	return strings.TrimRight(s, "\n")
}

// panicked reports a Go panic or fatal runtime error.
func (l *stderrLog) panicked() bool {
	for line := range strings.SplitSeq(l.String(), "\n") {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			return true
		}
	}
	return false
}

func (l *stderrLog) mentionsUsage() bool {
	return strings.Contains(strings.ToLower(l.String()), "usage")
}
