package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/cmdtest"
	"github.com/azmq/azmq/internal/udptest"
)

var (
	thrRe = regexp.MustCompile(`^msgs_per_s=([0-9]+) mb_per_s=([0-9.]+)$`)
	latRe = regexp.MustCompile(`^rtt_us=([0-9.]+) latency_us=([0-9.]+)$`)
	// The two-process throughput sides add the process's CPU time per
	// message: local_thr to its line, remote_thr as a line of its own.
	thrCPURe = regexp.MustCompile(`^msgs_per_s=([0-9]+) mb_per_s=([0-9.]+) cpu_ns_per_msg=([0-9]+)$`)
	cpuRe    = regexp.MustCompile(`^cpu_ns_per_msg=([0-9]+)$`)
)

type toolResult struct {
	code           int
	stdout, stderr string
}

func runTool(ctx context.Context, t *testing.T, exe string, args ...string) toolResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd, err := cmdtest.Start(func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		return cmd
	})
	if err == nil {
		err = cmd.Wait()
	}
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("azmq %s: %v", strings.Join(args, " "), err)
	}
	return toolResult{code, stdout.String(), stderr.String()}
}

// positive parses a number that must be above zero.
func positive(t *testing.T, what, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) {
		t.Errorf("%s: %q is not a positive number", what, s)
	}
	return f
}

func TestTool(t *testing.T) {
	exe := tool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()

	t.Run("help", func(t *testing.T) {
		r := runTool(ctx, t, exe, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "azmq bench") {
			t.Errorf("--help: exit %d, stdout %q", r.code, r.stdout)
		}
		r = runTool(ctx, t, exe, "version")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "azmq ") {
			t.Errorf("version: exit %d, stdout %q", r.code, r.stdout)
		}
	})

	t.Run("exit codes", func(t *testing.T) {
		for _, c := range []struct {
			code int
			args []string
		}{
			{2, nil},
			{2, []string{"frobnicate"}},
			{2, []string{"bench", "-nosuchflag"}},
			{2, []string{"bench", "-transports", "carrier-pigeon"}},
			{2, []string{"bench", "-patterns", "pushpull,pubsub"}},
			{2, []string{"bench", "-transports", "udp", "-patterns", "pushpull,clientserver"}},
			{2, []string{"bench", "nosuchmode", "1", "1"}},
			{2, []string{"bench", "local_thr", "tcp://127.0.0.1:*", "16"}},
			{2, []string{"bench", "inproc_thr", "16", "zero"}},
			{1, []string{"bench", "local_thr", "nosuchtransport://x", "16", "1"}},
		} {
			r := runTool(ctx, t, exe, c.args...)
			if r.code != c.code {
				t.Errorf("azmq %s: exit %d, want %d; stderr %q", strings.Join(c.args, " "), r.code, c.code, r.stderr)
			}
			if c.args != nil && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("azmq %s: want a one-line error, got %q", strings.Join(c.args, " "), r.stderr)
			}
		}
	})

	// The stress drivers left the tool: asking for one names where it went.
	t.Run("moved modes", func(t *testing.T) {
		for _, mode := range []string{"soak", "flood", "flood_push", "conns_server", "conns_client"} {
			r := runTool(ctx, t, exe, "bench", mode, "tcp://127.0.0.1:1", "1")
			if r.code != 2 || !strings.Contains(r.stderr, "go run ./bench/stress "+mode) {
				t.Errorf("azmq bench %s: exit %d, stderr %q", mode, r.code, r.stderr)
			}
		}
	})

	t.Run("matrix", func(t *testing.T) {
		// 3 transports x 4 sizes; on Windows, where AF_UNIX is not
		// everywhere, 2 transports.
		args, want := []string{"bench", "-quick"}, 12
		if runtime.GOOS == "windows" {
			args, want = append(args, "-transports", "inproc,tcp"), 8
		}
		r := runTool(ctx, t, exe, args...)
		if r.code != 0 {
			t.Fatalf("bench -quick: exit %d, stderr %q", r.code, r.stderr)
		}
		rows := 0
		for _, line := range strings.Split(r.stdout, "\n") {
			f := strings.Fields(line)
			if len(f) != 6 || (f[0] != "inproc" && f[0] != "ipc" && f[0] != "tcp") {
				continue
			}
			rows++
			positive(t, line+": msgs/s", f[3])
			positive(t, line+": MB/s", f[4])
			positive(t, line+": latency", f[5])
		}
		if rows != want {
			t.Errorf("bench -quick: %d table rows, want %d:\n%s", rows, want, r.stdout)
		}
	})

	// -cpu adds a column of CPU time per message; the table is otherwise
	// the same.
	t.Run("matrix cpu", func(t *testing.T) {
		r := runTool(ctx, t, exe, "bench", "-quick", "-cpu", "-transports", "inproc,tcp", "-sizes", "16,4k")
		if r.code != 0 {
			t.Fatalf("bench -quick -cpu: exit %d, stderr %q", r.code, r.stderr)
		}
		rows := 0
		for _, line := range strings.Split(r.stdout, "\n") {
			f := strings.Fields(line)
			if len(f) != 7 || (f[0] != "inproc" && f[0] != "tcp") {
				continue
			}
			rows++
			positive(t, line+": msgs/s", f[3])
			positive(t, line+": CPU ns/msg", f[6])
		}
		if rows != 4 || !strings.Contains(r.stdout, "CPU ns/msg") {
			t.Errorf("bench -quick -cpu: %d table rows, want 4 and a CPU column:\n%s", rows, r.stdout)
		}
	})

	t.Run("patterns", func(t *testing.T) {
		transports, dishRows, notes := "inproc,tcp,udp", 8, []string{"REQ/REP round trip", "SendTo", "lost:", "udp: sizes over 8185 B left out"}
		if !udptest.Available(t) {
			transports, dishRows, notes = "inproc,tcp", 6, notes[:3]
		}
		r := runTool(ctx, t, exe, "bench", "-quick", "-transports", transports, "-sizes", "16,4k,64k", "-patterns", "pushpull,clientserver,radiodish")
		if r.code != 0 {
			t.Fatalf("bench -patterns: exit %d, stderr %q", r.code, r.stderr)
		}
		rows := map[string]int{}
		for _, line := range strings.Split(r.stdout, "\n") {
			// pattern, transport, size (2 fields), msgs/s, MB/s, latency, lost
			f := strings.Fields(line)
			if len(f) != 8 || (f[1] != "inproc" && f[1] != "tcp" && f[1] != "udp") {
				continue
			}
			rows[f[0]]++
			positive(t, line+": msgs/s", f[4])
			positive(t, line+": MB/s", f[5])
			if f[0] == "RADIO/DISH" {
				// One way, and it may lose messages.
				lost, err := strconv.ParseFloat(strings.TrimSuffix(f[7], "%"), 64)
				if f[6] != "-" || !strings.HasSuffix(f[7], "%") || err != nil || lost < 0 || lost >= 100 {
					t.Errorf("%s: want no latency and a share lost", line)
				}
				continue
			}
			positive(t, line+": latency", f[6])
			if f[7] != "-" {
				t.Errorf("%s: a pattern that loses nothing shows a loss", line)
			}
		}
		// Only RADIO/DISH goes over udp, and 64 KiB is too large for a
		// datagram.
		for p, want := range map[string]int{"PUSH/PULL": 6, "CLIENT/SERVER": 6, "RADIO/DISH": dishRows} {
			if rows[p] != want {
				t.Errorf("bench -patterns: %d %s rows, want %d:\n%s", rows[p], p, want, r.stdout)
			}
		}
		for _, note := range notes {
			if !strings.Contains(r.stdout, note) {
				t.Errorf("bench -patterns: no footnote with %q:\n%s", note, r.stdout)
			}
		}
	})

	t.Run("inproc", func(t *testing.T) {
		r := runTool(ctx, t, exe, "bench", "inproc_thr", "256", "20000")
		if m := thrRe.FindStringSubmatch(strings.TrimSpace(r.stdout)); r.code != 0 || m == nil {
			t.Errorf("inproc_thr: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		r = runTool(ctx, t, exe, "bench", "inproc_lat", "16", "1000")
		if m := latRe.FindStringSubmatch(strings.TrimSpace(r.stdout)); r.code != 0 || m == nil {
			t.Errorf("inproc_lat: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("tcp", func(t *testing.T) {
		const size, count = "64", "20000"
		local, remote := pair(ctx, t, exe, "local_thr", "remote_thr", size, count)
		m := thrCPURe.FindStringSubmatch(local)
		if m == nil {
			t.Fatalf("local_thr printed %q, want msgs_per_s=N mb_per_s=N cpu_ns_per_msg=N", local)
		}
		positive(t, "msgs_per_s", m[1])
		positive(t, "mb_per_s", m[2])
		// Receiving 20000 messages takes CPU time: a zero would be a
		// meter that reads nothing.
		positive(t, "local_thr cpu_ns_per_msg", m[3])
		if m := cpuRe.FindStringSubmatch(remote); m == nil {
			t.Errorf("remote_thr printed %q, want cpu_ns_per_msg=N", remote)
		} else {
			positive(t, "remote_thr cpu_ns_per_msg", m[1])
		}

		local, remote = pair(ctx, t, exe, "local_lat", "remote_lat", size, "500")
		m = latRe.FindStringSubmatch(remote)
		if m == nil {
			t.Fatalf("remote_lat printed %q, want rtt_us=N latency_us=N", remote)
		}
		if rtt, lat := positive(t, "rtt_us", m[1]), positive(t, "latency_us", m[2]); rtt < lat {
			t.Errorf("rtt_us %v < latency_us %v", rtt, lat)
		}
		if local != "" {
			t.Errorf("local_lat printed %q, want nothing", local)
		}
	})
}

// pair runs a local side on tcp://127.0.0.1:* and the remote side against
// the endpoint it reports, and returns what each printed.
func pair(ctx context.Context, t *testing.T, exe, localMode, remoteMode, size, count string) (local, remote string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var pipe io.ReadCloser
	lcmd, err := cmdtest.Start(func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, exe, "bench", localMode, "tcp://127.0.0.1:*", size, count)
		cmd.Stdout = &stdout
		var err error
		if pipe, err = cmd.StderrPipe(); err != nil {
			t.Fatal(err)
		}
		return cmd
	})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if ep, ok := strings.CutPrefix(sc.Text(), "endpoint="); ok {
				endpoint <- ep
			} else {
				stderr.WriteString(sc.Text() + "\n")
			}
		}
		close(endpoint)
		io.Copy(io.Discard, pipe)
	}()
	var ep string
	select {
	case ep = <-endpoint:
	case <-ctx.Done():
	}
	if ep == "" {
		lcmd.Process.Kill()
		<-drained
		lcmd.Wait()
		t.Fatalf("%s reported no endpoint; stderr %q", localMode, stderr.String())
	}
	r := runTool(ctx, t, exe, "bench", remoteMode, ep, size, count)
	if r.code != 0 {
		lcmd.Process.Kill()
	}
	<-drained
	lerr := lcmd.Wait()
	if r.code != 0 || lerr != nil {
		t.Fatalf("%s: exit %d, stderr %q; %s: %v, stderr %q", remoteMode, r.code, r.stderr, localMode, lerr, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), strings.TrimSpace(r.stdout)
}
