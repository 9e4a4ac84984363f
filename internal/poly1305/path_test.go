package poly1305

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The test legs of scripts/test.sh that switch the assembly off (-tags
// purego, GODEBUG=cpu.avx512f=off, ...) name the path they mean to test in
// AZMQ_EXPECT_PATH. TestPickedPath then fails unless Sum takes that path
// for long messages or, on a CPU that lacks it, the best path below it that
// the CPU has. Without the variable it only reports the path.
const (
	expectPathEnv = "AZMQ_EXPECT_PATH"
	// probeEnv makes TestPickedPath, run in a child process, print the
	// path the CPU offers with the GODEBUG cpu settings taken away.
	probeEnv    = "AZMQ_PATH_PROBE"
	probePrefix = "azmq-path: "
)

func TestPickedPath(t *testing.T) {
	if os.Getenv(probeEnv) == "1" {
		fmt.Printf("%s%v\n", probePrefix, bestImpl())
		return
	}
	t.Logf("Sum takes the %v path for long messages", impl)
	if impl != bestImpl() || !supported(impl) {
		t.Fatalf("the %v path is picked; the best supported one is %v", impl, bestImpl())
	}
	want := os.Getenv(expectPathEnv)
	if want == "" {
		return
	}
	ceiling, ok := parseImpl(want)
	if want == "avx512" {
		// The salsa package has such a path; this one's best below it is
		// AVX2, so one setting serves both.
		ceiling, ok = implAVX2, true
	}
	if !ok {
		t.Fatalf("%s=%q names no path of this package", expectPathEnv, want)
	}
	cpuBest := probeCPUBest(t)
	// Every path needs the features of the ones below it, so the best one
	// the CPU has at or below the ceiling is the lower of the two.
	expect := min(ceiling, cpuBest)
	if impl != expect {
		t.Fatalf("%s=%s on a CPU whose best path is %v: want the %v path, Sum takes %v",
			expectPathEnv, want, cpuBest, expect, impl)
	}
}

func parseImpl(s string) (implKind, bool) {
	for _, k := range allImpls {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// probeCPUBest runs this test binary again without the cpu.* settings of
// GODEBUG and returns the path it would pick: the best the CPU and the
// build offer. golang.org/x/sys/cpu applies GODEBUG once, at start-up, so
// only a fresh process can tell what the CPU has underneath.
func probeCPUBest(t *testing.T) implKind {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPickedPath$", "-test.count=1")
	cmd.Env = append(withoutCPUDebug(os.Environ()), probeEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe of the CPU's best path: %v\n%s", err, out)
	}
	for line := range bytes.Lines(out) {
		name, ok := strings.CutPrefix(strings.TrimSpace(string(line)), probePrefix)
		if !ok {
			continue
		}
		k, ok := parseImpl(name)
		if !ok {
			t.Fatalf("probe names an unknown path %q", name)
		}
		return k
	}
	t.Fatalf("probe printed no path:\n%s", out)
	return 0
}

// withoutCPUDebug returns env without AZMQ_EXPECT_PATH and with the cpu.*
// settings dropped from GODEBUG (the others stay).
func withoutCPUDebug(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, expectPathEnv+"=") {
			continue
		}
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			var keep []string
			for s := range strings.SplitSeq(v, ",") {
				if s != "" && !strings.HasPrefix(s, "cpu.") {
					keep = append(keep, s)
				}
			}
			kv = "GODEBUG=" + strings.Join(keep, ",")
		}
		out = append(out, kv)
	}
	return out
}
