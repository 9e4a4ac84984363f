package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/azmq/azmq/internal/benchkit"
)

// The flood mode, "stress flood": a PUSH floods a PULL that reads
// slowly, each in a process of its own, and each reports its peak memory
// against what the high-water marks allow: HWM × message size, plus a
// constant that the run measures as each process's baseline.

const floodUsage = `Usage:
  stress flood [-sizes LIST] [-hwm LIST] [-duration 10s] [-pause 10ms]
                   [-transports tcp,ipc]

For each transport, size and HWM, starts two processes of this tool: a
PULL that binds and, for the duration, pauses after every message it
receives, and a PUSH that connects and sends freshly allocated, numbered
messages as fast as Send allows for the duration. Both first exchange
100 tiny messages and report their resident set size (the baseline).
At the end the PUSH sends an "end" message with its count and closes
with linger, the PULL drains at full speed, and each reports its peak
resident set size (Linux: VmHWM and samples of VmRSS; elsewhere n/a) and
Go heap. The table shows, per side, baseline, peak, peak live heap, the
bound HWM × size, and whether peak <= baseline + bound + ALLOW, where
ALLOW is a fixed allowance for the per-connection buffers and the
runtime. The exit status is 1 when a message the PUSH sent was not
received, in order.

Flags:
`

// floodAllow is the allowance over baseline + HWM × size: a connection's
// buffers at full size (64 KiB read buffer, the ~72 KiB write batch, the
// 32 KiB slab, the reader's batch of up to 256 messages), goroutine stacks,
// and the runtime's own growth under load.
const floodAllow = 8 << 20

type floodConfig struct {
	transports []string
	sizes      []int
	hwms       []int
	duration   time.Duration
	pause      time.Duration
}

// floodSide is one process's memory; -1 where unknown. held is the Go
// heap found live by a collection at the end of the flood, when the
// queues are fullest: what the process holds, without the collector's
// headroom.
type floodSide struct {
	base, peak, held int64
}

type floodResult struct {
	transport      string
	size, hwm      int
	sent, received uint64
	end            uint64
	inOrder        bool
	push, pull     floodSide
}

// accounted reports whether every message sent arrived, in order.
func (r floodResult) accounted() bool {
	return r.inOrder && r.sent == r.received && r.end == r.sent
}

func (r floodResult) bound() int64 { return int64(r.hwm) * int64(r.size) }

// within reports whether a side's peak resident set is inside
// baseline + bound + allowance; "n/a" where it is not known.
func (r floodResult) within(s floodSide) string {
	if s.base < 0 || s.peak < 0 {
		return "n/a"
	}
	return yesNo(s.peak <= s.base+r.bound()+floodAllow)
}

// heldWithin reports whether what a side held at the end of the flood is
// inside bound + allowance.
func (r floodResult) heldWithin(s floodSide) string {
	if s.held < 0 {
		return "n/a"
	}
	return yesNo(s.held <= r.bound()+floodAllow)
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func floodCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stress flood")
	transports := fs.String("transports", "tcp", "comma-separated transports: tcp, ipc")
	sizes := fs.String("sizes", "16,4k,64k,1m", "comma-separated message sizes (k = KiB, m = MiB; at least 8 bytes)")
	hwms := fs.String("hwm", "1000", "comma-separated high-water marks, used for both WithSendHWM and WithRecvHWM")
	dur := fs.Duration("duration", 10*time.Second, "how long each flood lasts")
	pause := fs.Duration("pause", 10*time.Millisecond, "the PULL side's pause after each message during the flood")
	if help, err := parseBenchFlags(fs, args, stdout, floodUsage); help || err != nil {
		return err
	}
	cfg, err := newFloodConfig(*transports, *sizes, *hwms, *dur, *pause)
	if err != nil {
		return usageErr("flood: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("flood: cannot find this program to start its sides: %w", err)
	}
	res, err := runFlood(ctx, cfg, exe, stdout, stderr)
	if err != nil {
		return fmt.Errorf("flood: %w", err)
	}
	for _, r := range res {
		if !r.accounted() {
			return fmt.Errorf("flood: FAILED: %s %s hwm %d: sent %d, received %d (in order: %t), end said %d",
				r.transport, benchkit.SizeName(r.size), r.hwm, r.sent, r.received, r.inOrder, r.end)
		}
	}
	return nil
}

func newFloodConfig(transports, sizes, hwms string, dur, pause time.Duration) (floodConfig, error) {
	c := floodConfig{duration: dur, pause: pause}
	if dur <= 0 || pause < 0 {
		return c, fmt.Errorf("-duration must be positive and -pause not negative")
	}
	for _, t := range strings.Split(transports, ",") {
		switch t = strings.TrimSpace(t); t {
		case "tcp", "ipc":
			c.transports = append(c.transports, t)
		case "":
		default:
			return c, fmt.Errorf("-transports: unknown transport %q (want tcp, ipc)", t)
		}
	}
	for _, s := range strings.Split(sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := benchkit.ParseSize(s)
		if err != nil {
			return c, fmt.Errorf("-sizes: %v", err)
		}
		if n < 8 {
			return c, fmt.Errorf("-sizes: %d bytes: a message carries an 8-byte sequence number", n)
		}
		c.sizes = append(c.sizes, n)
	}
	for _, s := range strings.Split(hwms, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return c, fmt.Errorf("-hwm: %q is not a positive number", s)
		}
		c.hwms = append(c.hwms, n)
	}
	if len(c.transports) == 0 || len(c.sizes) == 0 || len(c.hwms) == 0 {
		return c, fmt.Errorf("nothing to measure: give at least one transport, size and HWM")
	}
	return c, nil
}

// runFlood runs every cell with exe as the program of both sides, printing
// the table as it goes.
func runFlood(ctx context.Context, cfg floodConfig, exe string, stdout, stderr io.Writer) ([]floodResult, error) {
	dir, err := os.MkdirTemp("", "azmq-flood")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(stdout, "flood: %v per cell, PULL pauses %v per message; %s; allowance %s\n",
		cfg.duration, cfg.pause, runtime.Version(), mib(floodAllow))
	fmt.Fprintln(stdout, floodHeader)
	var res []floodResult
	seq := 0
	for _, t := range cfg.transports {
		for _, hwm := range cfg.hwms {
			for _, size := range cfg.sizes {
				seq++
				ep := "tcp://127.0.0.1:*"
				if t == "ipc" {
					ep = "ipc://" + filepath.Join(dir, fmt.Sprintf("flood-%d.sock", seq))
					if runtime.GOOS == "windows" {
						ep = fmt.Sprintf("ipc://pipe:azmq-flood-%d-%d", os.Getpid(), seq)
					}
				}
				r, err := floodCell(ctx, cfg, exe, t, ep, size, hwm)
				if err != nil {
					return res, fmt.Errorf("%s %s hwm %d: %w", t, benchkit.SizeName(size), hwm, err)
				}
				fmt.Fprintln(stdout, r.row())
				res = append(res, r)
			}
		}
	}
	return res, nil
}

const floodHeader = "transport size      hwm       sent   received in_order      bound |" +
	" push: base     peak     held rss_ok held_ok |" +
	" pull: base     peak     held rss_ok held_ok"

func (r floodResult) row() string {
	m := func(n int64) string {
		if n < 0 {
			return "n/a"
		}
		return mib(uint64(n))
	}
	side := func(s floodSide) string {
		return fmt.Sprintf("%10s %8s %8s %-6s %-7s", m(s.base), m(s.peak), m(s.held), r.within(s), r.heldWithin(s))
	}
	row := fmt.Sprintf("%-9s %-8s %5d %10d %10d %-8t %10s | %s | %s",
		r.transport, benchkit.SizeName(r.size), r.hwm, r.sent, r.received, r.inOrder && r.end == r.sent,
		m(r.bound()), side(r.push), side(r.pull))
	return strings.TrimRight(row, " ")
}

// floodCell runs one PULL and one PUSH process to their end.
func floodCell(ctx context.Context, cfg floodConfig, exe, transport, ep string, size, hwm int) (r floodResult, err error) {
	r = floodResult{transport: transport, size: size, hwm: hwm}
	// Everything a cell does ends by then: the flood, the drain (bounded
	// by the children's linger) and the start of two processes.
	ctx, cancel := context.WithTimeout(ctx, cfg.duration+3*time.Minute)
	defer cancel()
	common := []string{"-size", strconv.Itoa(size), "-hwm", strconv.Itoa(hwm), "-duration", cfg.duration.String()}

	pull, err := startFloodProc(ctx, exe, append([]string{"flood_pull", "-pause", cfg.pause.String(), "-endpoint", ep}, common...))
	if err != nil {
		return r, err
	}
	defer func() {
		err = joinErr(err, pull.finish(err != nil))
	}()
	bound, err := pull.expect("endpoint=")
	if err != nil {
		return r, err
	}
	push, err := startFloodProc(ctx, exe, append([]string{"flood_push", "-endpoint", bound}, common...))
	if err != nil {
		return r, err
	}
	defer func() {
		err = joinErr(err, push.finish(err != nil))
	}()

	if r.push.base, err = baseline(push); err != nil {
		return r, err
	}
	if r.pull.base, err = baseline(pull); err != nil {
		return r, err
	}
	// Both floods start together: the PULL is slow while the PUSH sends.
	for _, p := range []*floodProc{pull, push} {
		if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
			return r, fmt.Errorf("%s: %w", p.name, err)
		}
	}

	pr, err := results(push)
	if err != nil {
		return r, err
	}
	lr, err := results(pull)
	if err != nil {
		return r, err
	}
	r.sent, r.received, r.end = pr.num("sent"), lr.num("received"), lr.num("end")
	r.inOrder = lr.m["in_order"] == "true"
	r.push = floodSide{r.push.base, pr.bytes("rss_peak"), pr.bytes("held")}
	r.pull = floodSide{r.pull.base, lr.bytes("rss_peak"), lr.bytes("held")}
	if pr.err != nil {
		return r, fmt.Errorf("%s: %w", push.name, pr.err)
	}
	if lr.err != nil {
		return r, fmt.Errorf("%s: %w", pull.name, lr.err)
	}
	return r, nil
}

func baseline(p *floodProc) (int64, error) {
	line, err := p.expect("baseline ")
	if err != nil {
		return 0, err
	}
	kv := parseKV(line)
	return kv.bytes("rss"), kv.err
}

func results(p *floodProc) (*kvLine, error) {
	line, err := p.expect("result ")
	if err != nil {
		return nil, err
	}
	return parseKV(line), nil
}

// kvLine is a child's "k=v k=v" line; err keeps the first bad value.
type kvLine struct {
	m   map[string]string
	err error
}

func (l *kvLine) num(key string) uint64 {
	n, err := strconv.ParseUint(l.m[key], 10, 64)
	if err != nil && l.err == nil {
		l.err = fmt.Errorf("%s=%q is not a number", key, l.m[key])
	}
	return n
}

// bytes parses a byte count, "n/a" being -1.
func (l *kvLine) bytes(key string) int64 {
	if l.m[key] == "n/a" {
		return -1
	}
	return int64(l.num(key))
}

func parseKV(line string) *kvLine {
	l := &kvLine{m: map[string]string{}}
	for f := range strings.FieldsSeq(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			l.m[k] = v
		}
	}
	return l
}

// floodProc is one side's process.
type floodProc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer // read only after Wait
	lines  chan string  // stdout, closed at its end
}

func startFloodProc(ctx context.Context, exe string, args []string) (*floodProc, error) {
	p := &floodProc{name: args[1], lines: make(chan string, 16)}
	p.cmd = exec.CommandContext(ctx, exe, args...)
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	// The reader ends when the process's stdout does; finish waits for it
	// by draining lines.
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p, nil
}

// expect returns the rest of the next line that starts with prefix.
func (p *floodProc) expect(prefix string) (string, error) {
	for line := range p.lines {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			return rest, nil
		}
	}
	return "", fmt.Errorf("%s ended without a %q line", p.name, strings.TrimSpace(prefix))
}

// finish waits for the process to end (killing it first if kill), and
// returns its failure with what it said on stderr.
func (p *floodProc) finish(kill bool) error {
	p.stdin.Close()
	if kill {
		p.cmd.Process.Kill()
	}
	for range p.lines { // stdout must be read to its end before Wait
	}
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err == nil || kill && errors.As(err, &ee) && ee.ExitCode() == -1 {
		return nil // done, or ended by the signal sent here
	}
	return fmt.Errorf("%s: %w: %s", p.name, err, strings.TrimSpace(p.stderr.String()))
}

// joinErr keeps the first error and adds the second to it.
func joinErr(first, second error) error {
	switch {
	case second == nil:
		return first
	case first == nil:
		return second
	}
	return fmt.Errorf("%w (then %v)", first, second)
}
