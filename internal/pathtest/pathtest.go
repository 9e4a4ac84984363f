// Package pathtest is for the tests of packages that pick a code path by
// the CPU's features (internal/salsa, internal/poly1305). The test legs of
// scripts/test.sh that switch the assembly off (-tags purego,
// GODEBUG=cpu.avx512f=off, ...) name the path they mean to test in
// AZMQ_EXPECT_PATH; Check fails unless the package takes that path or, on
// a CPU that lacks it, the best path below it that the CPU has. Without
// the variable it only checks that the best supported path is taken.
package pathtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const (
	// ExpectEnv names the path a test leg means to test.
	ExpectEnv = "AZMQ_EXPECT_PATH"
	// probeEnv makes Check, run in a child process, print the path the CPU
	// offers with the GODEBUG cpu settings taken away.
	probeEnv    = "AZMQ_PATH_PROBE"
	probePrefix = "azmq-path: "
)

// Paths describes a package's paths.
type Paths struct {
	// What is the function whose path is checked, for the messages.
	What string
	// Names are the paths, plainest first: each needs the features of the
	// ones before it.
	Names []string
	// Alias maps a path another package has to the one of this package
	// that the same setting leaves (salsa's avx512 is poly1305's avx2).
	Alias map[string]string
	// Picked is the path taken, Best the best the CPU and build support,
	// and Supported whether Picked can run here.
	Picked, Best string
	Supported    bool
	// Test is the name of the test that calls Check, which the probe runs
	// again in a child process.
	Test string
}

// Check checks p as the package comment says; call it from the test named
// p.Test.
func Check(t *testing.T, p Paths) {
	t.Helper()
	if os.Getenv(probeEnv) == "1" {
		fmt.Printf("%s%s\n", probePrefix, p.Best)
		return
	}
	t.Logf("%s takes the %s path", p.What, p.Picked)
	if p.Picked != p.Best || !p.Supported {
		t.Fatalf("the %s path is picked; the best supported one is %s", p.Picked, p.Best)
	}
	want := os.Getenv(ExpectEnv)
	if want == "" {
		return
	}
	if a, ok := p.Alias[want]; ok {
		want = a
	}
	ceiling := slices.Index(p.Names, want)
	if ceiling < 0 {
		t.Fatalf("%s=%q names no path of this package (%v)", ExpectEnv, want, p.Names)
	}
	cpuBest := slices.Index(p.Names, probe(t, p.Test))
	if cpuBest < 0 {
		t.Fatal("the probe names a path this package does not have")
	}
	// The best path the CPU has at or below the ceiling is the lower of
	// the two.
	expect := p.Names[min(ceiling, cpuBest)]
	if p.Picked != expect {
		t.Fatalf("%s=%s on a CPU whose best path is %s: want the %s path, %s takes %s",
			ExpectEnv, os.Getenv(ExpectEnv), p.Names[cpuBest], expect, p.What, p.Picked)
	}
}

// probe runs this test binary's test again without the cpu.* settings of
// GODEBUG and returns the path it would pick: the best the CPU and the
// build offer. golang.org/x/sys/cpu applies GODEBUG once, at start-up, so
// only a fresh process can tell what the CPU has underneath.
func probe(t *testing.T, test string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(withoutCPUDebug(os.Environ()), probeEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe of the CPU's best path: %v\n%s", err, out)
	}
	for line := range bytes.Lines(out) {
		if name, ok := strings.CutPrefix(strings.TrimSpace(string(line)), probePrefix); ok {
			return name
		}
	}
	t.Fatalf("probe printed no path:\n%s", out)
	return ""
}

// withoutCPUDebug returns env without AZMQ_EXPECT_PATH and with the cpu.*
// settings dropped from GODEBUG (the others stay).
func withoutCPUDebug(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, ExpectEnv+"=") {
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
