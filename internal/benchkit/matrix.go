package benchkit

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azmq/azmq/internal/dgram"
)

// Matrix is "azmq bench" without a mode: throughput and latency for each
// transport and size, both sides in this process.
type Matrix struct {
	transports []string
	sizes      []int
	patterns   []*benchPattern
	quick      bool
	cpu        bool          // a column of CPU time per message
	cell       time.Duration // how long a calibrated measurement should take
}

// SetCPU adds a column to the table: the process's user+system CPU time
// per message over each throughput run (bench -cpu). Both sides run in
// this process, so it is their sum, the matrix's own bookkeeping and the
// sockets' set-up included; the perf modes measure each side alone.
func (m *Matrix) SetCPU(on bool) { m.cpu = on }

// NewMatrix reads the matrix's comma-separated lists (bench -transports,
// -sizes, -patterns); quick takes tiny fixed counts instead of calibrated
// ones.
func NewMatrix(transports, sizes, patterns string, quick bool) (*Matrix, error) {
	m := &Matrix{quick: quick, cell: 500 * time.Millisecond}
	for _, t := range strings.Split(transports, ",") {
		switch t = strings.TrimSpace(t); t {
		case "inproc", "ipc", "tcp", "udp", "ws", "wss":
			m.transports = append(m.transports, t)
		case "":
		default:
			return nil, fmt.Errorf("-transports: unknown transport %q (want inproc, ipc, tcp, udp, ws, wss)", t)
		}
	}
	for _, s := range strings.Split(sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := ParseSize(s)
		if err != nil {
			return nil, fmt.Errorf("-sizes: %v", err)
		}
		m.sizes = append(m.sizes, n)
	}
	var err error
	if m.patterns, err = parsePatterns(patterns); err != nil {
		return nil, err
	}
	if len(m.transports) == 0 || len(m.sizes) == 0 || len(m.patterns) == 0 {
		return nil, fmt.Errorf("nothing to measure: give at least one transport, one size and one pattern")
	}
	if slices.Contains(m.transports, "udp") && !slices.ContainsFunc(m.patterns, func(p *benchPattern) bool { return p.udp }) {
		return nil, fmt.Errorf("-transports udp: only RADIO/DISH goes over udp: add radiodish to -patterns")
	}
	return m, nil
}

// ParseSize reads a message size: 16, 4k, 4K, 4KiB, 1m, 1MiB.
func ParseSize(s string) (int, error) {
	mult := 1
	num := strings.TrimSuffix(strings.ToLower(s), "ib")
	switch {
	case strings.HasSuffix(num, "k"):
		mult, num = 1<<10, strings.TrimSuffix(num, "k")
	case strings.HasSuffix(num, "m"):
		mult, num = 1<<20, strings.TrimSuffix(num, "m")
	case strings.HasSuffix(num, "b"):
		num = strings.TrimSuffix(num, "b")
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 1<<30/mult {
		return 0, fmt.Errorf("bad size %q (want bytes, like 16, 4k or 1MiB)", s)
	}
	return n * mult, nil
}

// SizeName writes a size as the tables show it: 16 B, 4 KiB, 1 MiB.
func SizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

type result struct {
	pattern   *benchPattern
	transport string
	size      int
	thrCount  int
	thr       time.Duration // first to last of thrCount messages
	thrSent   int           // messages sent for those thrCount (more when some were lost)
	thrCPU    time.Duration // the process's CPU time over that run; -1: unknown
	latCount  int           // 0: no latency measured
	lat       time.Duration // latCount round trips
}

func (r result) msgsPerSec() float64 {
	if r.thrCount < 2 || r.thr <= 0 {
		return 0
	}
	return float64(r.thrCount-1) / r.thr.Seconds()
}

func (r result) latencyMicros() float64 {
	return r.lat.Seconds() * 1e6 / float64(r.latCount) / 2
}

// progress writes a line on stderr that rewrites itself on a terminal and
// is silent elsewhere (a log has no use for it).
type progress struct {
	w    io.Writer
	live bool
	last int
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.live = true
		}
	}
	return p
}

func (p *progress) show(format string, args ...any) {
	if !p.live {
		return
	}
	s := fmt.Sprintf(format, args...)
	pad := ""
	if n := p.last - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.last = len(s)
	fmt.Fprintf(p.w, "\r%s%s", s, pad)
}

func (p *progress) done() {
	if p.live && p.last > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.last))
	}
}

// Run measures every cell and prints the table on stdout; a progress line
// goes to stderr when it is a terminal.
func (m *Matrix) Run(ctx context.Context, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "azmq-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	seq := 0
	endpoint := func(transport string) string {
		seq++
		switch transport {
		case "inproc":
			return fmt.Sprintf("inproc://bench-%d", seq)
		case "ipc":
			return "ipc://" + filepath.Join(dir, fmt.Sprintf("%d.sock", seq))
		case "udp":
			return "udp://127.0.0.1:*"
		case "ws":
			return "ws://127.0.0.1:*/bench"
		case "wss":
			return "wss://127.0.0.1:*/bench"
		}
		return "tcp://127.0.0.1:*"
	}

	prog := newProgress(stderr)
	defer prog.done()
	cells := 0
	for _, tr := range m.transports {
		for _, size := range m.sizes {
			for _, p := range m.patterns {
				if p.runs(tr, size) {
					cells++
					if p.lat != nil {
						cells++
					}
				}
			}
		}
	}
	cell := 0
	start := time.Now()
	var results []result
	tooLarge := false // a size left out of udp
	for _, tr := range m.transports {
		for _, size := range m.sizes {
			for _, p := range m.patterns {
				if !p.runs(tr, size) {
					tooLarge = tooLarge || (tr == "udp" && p.udp)
					continue
				}
				// What a pattern's name adds to the progress line and to
				// an error; nothing for PUSH/PULL alone, as before.
				what := ""
				if !m.pushPullOnly() {
					what = " " + p.title
				}
				r := result{pattern: p, transport: tr, size: size}
				cell++
				prog.show("bench [%d/%d]%s %s %s throughput...", cell, cells, what, tr, SizeName(size))
				var last thrRun
				floor := quickFloor
				if m.cpu {
					floor = quickCPUFloor
				}
				r.thrCount, r.thr, err = m.measure(ctx, m.thrCount(size), floor, func(n int) (time.Duration, error) {
					var err error
					cpu := startCPU()
					last, err = p.thr(ctx, endpoint(tr), size, n)
					if d, ok := cpu.since(); ok {
						r.thrCPU = d
					} else {
						r.thrCPU = -1
					}
					return last.d, err
				})
				if err != nil {
					return fmt.Errorf("bench%s %s %s throughput: %w", what, tr, SizeName(size), err)
				}
				r.thrCount, r.thrSent = last.got, last.sent
				if p.lat != nil {
					cell++
					prog.show("bench [%d/%d]%s %s %s latency...", cell, cells, what, tr, SizeName(size))
					r.latCount, r.lat, err = m.measure(ctx, m.latCount(size), quickFloor, func(n int) (time.Duration, error) {
						return p.lat(ctx, endpoint(tr), size, n)
					})
					if err != nil {
						return fmt.Errorf("bench%s %s %s latency: %w", what, tr, SizeName(size), err)
					}
				}
				results = append(results, r)
			}
		}
	}
	prog.done()

	fmt.Fprintf(stdout, "azmq bench: %d CPUs, %s %s/%s, %.1fs\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Since(start).Seconds())
	if !m.pushPullOnly() {
		m.printPatterns(stdout, results)
		if tooLarge {
			fmt.Fprintf(stdout, "udp: sizes over %d B left out: a message is one datagram of at most %d bytes, group included\n", maxUDPSize, dgram.MaxDatagram)
		}
		return nil
	}
	const row = "%-9s  %7s  %11s  %9s  %10s%s\n"
	fmt.Fprintf(stdout, row, "transport", "size", "msgs/s", "MB/s", "latency µs", m.cpuColumn(nil))
	for _, r := range results {
		mps := r.msgsPerSec()
		fmt.Fprintf(stdout, row, r.transport, SizeName(r.size),
			fmt.Sprintf("%.0f", mps), fmt.Sprintf("%.1f", mps*float64(r.size)/1e6), fmt.Sprintf("%.2f", r.latencyMicros()), m.cpuColumn(&r))
	}
	fmt.Fprintln(stdout, "msgs/s, MB/s: PUSH->PULL, first message to last; latency: half a REQ/REP round trip")
	m.cpuNote(stdout)
	return nil
}

// cpuColumn is the CPU column of a row (of the header for nil): nothing
// without -cpu.
func (m *Matrix) cpuColumn(r *result) string {
	switch {
	case !m.cpu:
		return ""
	case r == nil:
		return fmt.Sprintf("  %10s", "CPU ns/msg")
	case r.thrCPU < 0 || r.thrSent < 1:
		return fmt.Sprintf("  %10s", "n/a")
	}
	return fmt.Sprintf("  %10.0f", float64(r.thrCPU)/float64(r.thrSent))
}

func (m *Matrix) cpuNote(stdout io.Writer) {
	if m.cpu {
		fmt.Fprintln(stdout, "CPU ns/msg: user+system CPU time of this process over a throughput run, per message sent: both sides, and the sockets' set-up")
	}
}

// pushPullOnly tells whether the matrix is the one bench has always
// printed: PUSH/PULL alone, in the table without a pattern column.
func (m *Matrix) pushPullOnly() bool {
	return len(m.patterns) == 1 && m.patterns[0].name == "pushpull"
}

// printPatterns prints the table of several patterns: a pattern column,
// "-" where a pattern has no latency, and the share of messages lost
// where a pattern may lose some.
func (m *Matrix) printPatterns(stdout io.Writer, results []result) {
	const row = "%-13s  %-9s  %7s  %11s  %9s  %10s  %6s%s\n"
	fmt.Fprintf(stdout, row, "pattern", "transport", "size", "msgs/s", "MB/s", "latency µs", "lost", m.cpuColumn(nil))
	for _, r := range results {
		mps := r.msgsPerSec()
		lat, lost := "-", "-"
		if r.latCount > 0 {
			lat = fmt.Sprintf("%.2f", r.latencyMicros())
		}
		if r.pattern.lossy && r.thrSent > 0 {
			lost = fmt.Sprintf("%.1f%%", 100*float64(r.thrSent-r.thrCount)/float64(r.thrSent))
		}
		fmt.Fprintf(stdout, row, r.pattern.title, r.transport, SizeName(r.size),
			fmt.Sprintf("%.0f", mps), fmt.Sprintf("%.1f", mps*float64(r.size)/1e6), lat, lost, m.cpuColumn(&r))
	}
	fmt.Fprintln(stdout, "msgs/s, MB/s: first message received to last")
	m.cpuNote(stdout)
	for _, p := range m.patterns {
		fmt.Fprintln(stdout, p.note)
	}
}

// Counts: the first trial, or all there is with -quick.
func (m *Matrix) thrCount(size int) int {
	switch {
	case m.quick && size > 4<<10:
		return 200
	case m.quick:
		return 2000
	case size > 4<<10:
		return 2000
	}
	return 20000
}

func (m *Matrix) latCount(int) int {
	if m.quick {
		return 100
	}
	return 500
}

// Below these a -quick run is too short for the clocks some systems give:
// Windows's monotonic clock, under Wine, did not move over a run of
// 2,000 messages in process, and its CPU times come in ticks of 10 ms or
// more.
const (
	quickFloor    = 20 * time.Millisecond
	quickCPUFloor = 150 * time.Millisecond
)

// measure runs f with trial counts until a run lasts long enough to
// trust, then once more with the count that should take m.cell. With
// -quick it runs f with n, and again with up to ten times as many
// messages while a run lasts less than floor.
func (m *Matrix) measure(ctx context.Context, n int, floor time.Duration, f func(n int) (time.Duration, error)) (int, time.Duration, error) {
	const (
		minCount = 100
		maxCount = 20_000_000
	)
	d, err := f(n)
	if m.quick {
		for range 4 {
			if err != nil || d >= floor {
				break
			}
			n = min(10*n, scale(n, 2*floor, d, minCount, maxCount))
			d, err = f(n)
		}
		return n, d, err
	}
	if err != nil {
		return n, d, err
	}
	for range 3 {
		if d >= m.cell/5 {
			break
		}
		n = scale(n, m.cell/4, d, minCount, maxCount)
		if d, err = f(n); err != nil {
			return n, d, err
		}
	}
	n = scale(n, m.cell, d, minCount, maxCount)
	d, err = f(n)
	return n, d, err
}

// scale returns the count that should take want, given that n took d.
func scale(n int, want, d time.Duration, lo, hi int) int {
	if d <= 0 {
		d = time.Microsecond
	}
	x := float64(n) * want.Seconds() / d.Seconds()
	return int(max(float64(lo), min(float64(hi), x)))
}
