// Command compare runs ZeroMQ implementations side by side, each through
// a program that takes the command line of libzmq's perf tools:
//
//	PROGRAM local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT
//	PROGRAM inproc_thr|inproc_lat SIZE COUNT
//
// local_thr and inproc_thr print "msgs_per_s=N mb_per_s=N"; remote_lat and
// inproc_lat print "rtt_us=N latency_us=N"; local_thr may add, and
// remote_thr may print, "cpu_ns_per_msg=N", the process's CPU time per
// message (user+system, getrusage), which goes to runs.tsv and to the CPU
// table of results.md ("-" where a program prints none); exit status 2
// with a usage message means the mode is not offered. thr is PUSH->PULL (the PULL side,
// local_thr, binds); lat is REQ->REP (the REP side, local_lat, binds). Over
// tcp the binding side gets tcp://127.0.0.1:* and must print the endpoint
// it bound as "endpoint=..." on stderr; over ipc it gets a fresh path, and
// the other side starts once that path listens.
//
// Per cell (kind, transport, size) compare calibrates a COUNT for each
// implementation, so that one run lasts about TARGET_S, then runs the
// implementations in turn, REPS times, and reports the median of each. It
// writes, under OUT:
//
//	results.md      the table (also printed as the cells finish), the CPU
//	                time per message of the receivers and the senders (thr
//	                over tcp and ipc), the cross runs and the peak RSS of
//	                the receivers
//	runs.tsv        every run, calibration probes included; its columns:
//	                phase remote local kind transport size count value
//	                seconds max_rss_kb output cpu_ns_recv cpu_ns_send
//	err/errors.log  what the processes of each failed run said on stderr
//
// A cell whose runs failed says how: "fail" (non-zero exit or no result
// line), "hang" (killed after TIMEOUT), "panic" (a Go panic on stderr),
// "n/a" (the mode is not offered); "(k/n: why)" when only k of n runs
// worked. Settings, from the environment:
//
//	IMPLS       implementations, in the order they run ("libzmq pebbe gozeromq")
//	CMD_<impl>  the command of <impl>, split at spaces ("build/azmq bench");
//	            by default the program named <impl> beside this one
//	TRANSPORTS  "tcp ipc inproc"
//	THR_SIZES   "16 256 4096 65536 1048576"
//	LAT_SIZES   "16 4096"
//	REPS        repetitions per cell (3)
//	TARGET_S    seconds a calibrated run should last (1.5)
//	TIMEOUT     seconds a process may take before it is killed (60)
//	CROSS       REMOTE:LOCAL pairs of implementations run against each
//	            other, 16 B over tcp ("libzmq:gozeromq gozeromq:libzmq")
//	RSS         1: report the receivers' peak RSS at thr tcp 16 B (1)
//	OUT         the output directory (results)
//
// An empty TRANSPORTS, THR_SIZES, LAT_SIZES or CROSS means none.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type config struct {
	impls      []string
	cmds       map[string][]string
	transports []string
	thrSizes   []int
	latSizes   []int
	reps       int
	target     float64 // seconds
	timeout    time.Duration
	cross      [][2]string // remote, local
	rss        bool
	out        string
}

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "compare takes no arguments: its settings come from the environment (go doc ./compare)")
		os.Exit(2)
	}
	cfg, err := configure(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	if err := compare(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// configure reads the settings; lookup is os.LookupEnv.
func configure(lookup func(string) (string, bool)) (*config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok {
			return v
		}
		return def
	}
	ints := func(name, def string) ([]int, error) {
		var out []int
		for _, w := range strings.Fields(get(name, def)) {
			n, err := strconv.Atoi(w)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s: %q is not a size in bytes", name, w)
			}
			out = append(out, n)
		}
		return out, nil
	}
	cfg := &config{cmds: map[string][]string{}}
	var err error
	cfg.impls = strings.Fields(get("IMPLS", "libzmq pebbe gozeromq"))
	if len(cfg.impls) == 0 {
		return nil, fmt.Errorf("IMPLS names no implementation")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for _, impl := range cfg.impls {
		if cmd := strings.Fields(get("CMD_"+impl, "")); len(cmd) > 0 {
			cfg.cmds[impl] = cmd
		} else {
			cfg.cmds[impl] = []string{filepath.Join(filepath.Dir(self), impl)}
		}
		if _, err := exec.LookPath(cfg.cmds[impl][0]); err != nil {
			return nil, fmt.Errorf("%s: no program %s (set CMD_%s)", impl, cfg.cmds[impl][0], impl)
		}
	}
	cfg.transports = strings.Fields(get("TRANSPORTS", "tcp ipc inproc"))
	for _, tr := range cfg.transports {
		if tr != "tcp" && tr != "ipc" && tr != "inproc" {
			return nil, fmt.Errorf("TRANSPORTS: unknown transport %q", tr)
		}
	}
	if cfg.thrSizes, err = ints("THR_SIZES", "16 256 4096 65536 1048576"); err != nil {
		return nil, err
	}
	if cfg.latSizes, err = ints("LAT_SIZES", "16 4096"); err != nil {
		return nil, err
	}
	if cfg.reps, err = strconv.Atoi(get("REPS", "3")); err != nil || cfg.reps < 1 {
		return nil, fmt.Errorf("REPS: %q is not a positive number", get("REPS", ""))
	}
	if cfg.target, err = strconv.ParseFloat(get("TARGET_S", "1.5"), 64); err != nil || cfg.target <= 0 {
		return nil, fmt.Errorf("TARGET_S: %q is not a positive number of seconds", get("TARGET_S", ""))
	}
	timeout, err := strconv.ParseFloat(get("TIMEOUT", "60"), 64)
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("TIMEOUT: %q is not a positive number of seconds", get("TIMEOUT", ""))
	}
	cfg.timeout = time.Duration(timeout * float64(time.Second))
	for _, pair := range strings.Fields(get("CROSS", "libzmq:gozeromq gozeromq:libzmq")) {
		remote, local, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("CROSS: %q is not REMOTE:LOCAL", pair)
		}
		if cfg.cmds[remote] == nil || cfg.cmds[local] == nil {
			continue // a pair of implementations not in IMPLS
		}
		cfg.cross = append(cfg.cross, [2]string{remote, local})
	}
	cfg.rss = get("RSS", "1") == "1"
	cfg.out = get("OUT", "results")
	return cfg, nil
}

// cell is one line of the table.
type cell struct {
	kind      string // thr or lat
	transport string
	size      int
}

func (c cell) String() string { return fmt.Sprintf("%s %s %dB", c.kind, c.transport, c.size) }

func compare(cfg *config) error {
	if err := os.MkdirAll(filepath.Join(cfg.out, "err"), 0o755); err != nil {
		return err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return err
	}
	defer r.close()
	mdFile, err := os.Create(filepath.Join(cfg.out, "results.md"))
	if err != nil {
		return err
	}
	defer mdFile.Close()
	md := io.MultiWriter(os.Stdout, mdFile)

	fmt.Fprintf(md, "# %d cores, %s, libzmq %s, %s, %s UTC\n", runtime.NumCPU(), cpuModel(), libzmqVersion(),
		runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04"))
	fmt.Fprintf(md, "# medians of %d runs, the implementations in turn; COUNT (n=) calibrated per implementation and cell for about %gs a run\n", cfg.reps, cfg.target)
	fmt.Fprintf(md, "# thr: PUSH->PULL msgs/s from the first message received to the last; lat: REQ/REP latency = half the round trip; Nx: against libzmq in this run\n\n")
	fmt.Fprintf(md, "| cell | %s |\n|---|%s\n", strings.Join(cfg.impls, " | "), strings.Repeat("---|", len(cfg.impls)))

	var cells []cell
	for _, tr := range cfg.transports {
		for _, s := range cfg.thrSizes {
			cells = append(cells, cell{"thr", tr, s})
		}
		for _, s := range cfg.latSizes {
			cells = append(cells, cell{"lat", tr, s})
		}
	}
	type rssRow struct {
		count int
		rates []float64
		kb    int64
	}
	rss := map[string]*rssRow{}
	var cpuRows []cpuRow
	for _, c := range cells {
		counts := map[string]int{}
		outcomes := map[string][]result{}
		for _, impl := range cfg.impls {
			n, failed := r.calibrate(impl, c)
			counts[impl] = n
			if failed != nil {
				outcomes[impl] = []result{*failed}
			}
		}
		for range cfg.reps {
			for _, impl := range cfg.impls {
				if counts[impl] == 0 {
					continue
				}
				res := r.run("rep", impl, impl, c, counts[impl])
				outcomes[impl] = append(outcomes[impl], res)
				if c == (cell{"thr", "tcp", 16}) && res.ok {
					row := rss[impl]
					if row == nil {
						row = &rssRow{count: counts[impl]}
						rss[impl] = row
					}
					row.rates = append(row.rates, res.figure)
					row.kb = max(row.kb, res.maxRSS)
				}
			}
		}
		if c.kind == "thr" && c.transport != "inproc" {
			cpuRows = append(cpuRows, cpuRow{c, outcomes})
		}
		base, haveBase := median(figures(outcomes["libzmq"]))
		fmt.Fprintf(md, "| %v |", c)
		for _, impl := range cfg.impls {
			fmt.Fprintf(md, " %s |", cellText(c, outcomes[impl], counts[impl], base, haveBase && impl != "libzmq"))
		}
		fmt.Fprintln(md)
	}

	if len(cpuRows) > 0 {
		fmt.Fprintf(md, "\n## CPU time per message, thr: receiver, sender (ns, medians of %d runs)\n\n", cfg.reps)
		fmt.Fprintf(md, "user+system CPU time of each process (getrusage RUSAGE_SELF, every thread) from before its socket is made to the end of its side, over COUNT, as each program prints it; Nx: against libzmq, receiver and sender\n\n")
		fmt.Fprintf(md, "| cell | %s |\n|---|%s\n", strings.Join(cfg.impls, " | "), strings.Repeat("---|", len(cfg.impls)))
		for _, row := range cpuRows {
			fmt.Fprintf(md, "| %v |", row.c)
			baseRecv, baseSend := cpuMedians(row.outcomes["libzmq"])
			for _, impl := range cfg.impls {
				fmt.Fprintf(md, " %s |", cpuText(row.outcomes[impl], baseRecv, baseSend, impl != "libzmq"))
			}
			fmt.Fprintln(md)
		}
	}

	if len(cfg.cross) > 0 {
		fmt.Fprintf(md, "\n## Cross runs: REMOTE -> LOCAL, 16 B over tcp, medians of %d (thr: PUSH->PULL msgs/s, %d msgs; lat: REQ->REP latency, %d round trips)\n\n", cfg.reps, crossThr, crossLat)
		fmt.Fprintf(md, "| remote -> local | thr | lat |\n|---|---|---|\n")
		for _, p := range cfg.cross {
			var thr, lat []result
			for range cfg.reps {
				thr = append(thr, r.run("cross", p[0], p[1], cell{"thr", "tcp", 16}, crossThr))
				lat = append(lat, r.run("cross", p[0], p[1], cell{"lat", "tcp", 16}, crossLat))
			}
			fmt.Fprintf(md, "| %s -> %s | %s | %s |\n", p[0], p[1],
				cellText(cell{"thr", "tcp", 16}, thr, 0, 0, false), cellText(cell{"lat", "tcp", 16}, lat, 0, 0, false))
		}
	}

	if cfg.rss && len(rss) > 0 {
		fmt.Fprintf(md, "\n## Peak RSS of the receiving process (local_thr), thr tcp 16 B, the largest of its runs\n\n")
		fmt.Fprintf(md, "| impl | count | msgs/s (median) | max RSS |\n|---|---|---|---|\n")
		for _, impl := range cfg.impls {
			if row := rss[impl]; row != nil {
				m, _ := median(row.rates)
				fmt.Fprintf(md, "| %s | %d | %.0f | %.1f MB |\n", impl, row.count, m, float64(row.kb)/1024)
			}
		}
	}
	fmt.Fprintf(md, "\nraw runs: %s; failures: %s\n", r.runsPath, r.errPath)
	return nil
}

// The counts of the cross runs: fixed, since they pair implementations
// whose speeds differ by up to 100x.
const (
	crossThr = 100000
	crossLat = 5000
)

// calibrate finds the COUNT of a run of about the target duration. It
// returns the failed probe's result when the implementation could not run
// the cell at all.
func (r *runner) calibrate(impl string, c cell) (int, *result) {
	n := 1000 // round trips
	if c.kind == "thr" {
		switch {
		case c.size <= 4096:
			n = 20000
		case c.size <= 65536:
			n = 2000
		default:
			n = 200
		}
	}
	var perSecond float64
	for probe := 1; ; probe++ {
		res := r.run("probe", impl, impl, c, n)
		if !res.ok {
			return 0, &res
		}
		perSecond = res.figure // messages a second
		if c.kind == "lat" {
			perSecond = 1e6 / (2 * res.figure) // round trips a second
		}
		// A probe shorter than a quarter of a second says little about
		// the rate: run a longer one, up to three probes.
		if float64(n)/perSecond >= 0.25 || probe == 3 {
			break
		}
		n = max(2*n, int(perSecond*0.5))
	}
	return min(max(int(perSecond*r.cfg.target), 100), 50_000_000), nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func libzmqVersion() string {
	out, err := exec.Command("pkg-config", "--modversion", "libzmq").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
