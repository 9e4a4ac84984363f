package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// The command is built once, for the tests that start it as processes.
var (
	toolOnce sync.Once
	toolDir  string
	toolExe  string
	toolErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	if toolDir != "" {
		os.RemoveAll(toolDir)
	}
	os.Exit(code)
}

var errNoGo = errors.New("no go command on PATH")

// tool returns the path of the stress binary, building it the first time.
func tool(t *testing.T) string {
	t.Helper()
	toolOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			toolErr = errNoGo
			return
		}
		if toolDir, toolErr = os.MkdirTemp("", "azmq-stress-test"); toolErr != nil {
			return
		}
		toolExe = filepath.Join(toolDir, "stress")
		if runtime.GOOS == "windows" {
			toolExe += ".exe"
		}
		if out, err := exec.Command(gobin, "build", "-o", toolExe, ".").CombinedOutput(); err != nil {
			toolErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if errors.Is(toolErr, errNoGo) {
		// The Windows leg runs test binaries without a Go toolchain.
		t.Skip("no go command on PATH: the command cannot be built here")
	}
	if toolErr != nil {
		t.Fatalf("cannot build the command: %v", toolErr)
	}
	return toolExe
}

// lockedBuf is an io.Writer whose content may be read while a side runs.
type lockedBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The command line: help, and each mistake an exit status 2 naming it.
func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		out  string // in stdout (code 0) or stderr
	}{
		{[]string{"--help"}, 0, "stress soak"},
		{[]string{"conns_server", "--help"}, 0, "conns_client"},
		{nil, 2, "Usage:"},
		{[]string{"nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"conns_server", "tcp://127.0.0.1:*"}, 2, "want ENDPOINT N"},
		{[]string{"conns_client", "tcp://127.0.0.1:1", "0"}, 2, "not a positive number"},
		{[]string{"soak", "extra"}, 2, `unexpected argument "extra"`},
	} {
		var out, errb bytes.Buffer
		code := run(tt.args, &out, &errb)
		got := errb.String()
		if tt.code == 0 {
			got = out.String()
		}
		if code != tt.code || !strings.Contains(got, tt.out) {
			t.Errorf("%q: exit %d, want %d; output %q lacks %q", tt.args, code, tt.code, got, tt.out)
		}
	}
}
