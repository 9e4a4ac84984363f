// Package cmdtest is for the tests of this module's commands that run them
// as processes (cmd/azmq, bench/stress): it builds the command once per
// test binary, and collects a process's output while it runs.
package cmdtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Binary is a command built on first use from the package directory the
// test runs in.
type Binary struct {
	name string
	once sync.Once
	dir  string
	exe  string
	err  error
}

// New returns the command named name (the executable's base name), not
// yet built.
func New(name string) *Binary { return &Binary{name: name} }

var errNoGo = errors.New("no go command on PATH")

// Path returns the executable, building it the first time; a failed
// build fails the test. Where test binaries run with no toolchain (the
// Windows leg, under Wine), AZMQ_CMD_DIR names a directory holding the
// commands built beforehand (NAME, or NAME.exe on Windows); with neither
// that nor a go command the test is skipped.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		if dir := os.Getenv("AZMQ_CMD_DIR"); dir != "" {
			b.exe = filepath.Join(dir, b.name)
			if runtime.GOOS == "windows" {
				b.exe += ".exe"
			}
			if _, err := os.Stat(b.exe); err != nil {
				b.err = fmt.Errorf("AZMQ_CMD_DIR: %w", err)
			}
			return
		}
		gobin, err := exec.LookPath("go")
		if err != nil {
			b.err = errNoGo
			return
		}
		if b.dir, b.err = os.MkdirTemp("", "azmq-"+b.name+"-test"); b.err != nil {
			return
		}
		b.exe = filepath.Join(b.dir, b.name)
		if runtime.GOOS == "windows" {
			b.exe += ".exe"
		}
		if out, err := exec.Command(gobin, "build", "-o", b.exe, ".").CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if errors.Is(b.err, errNoGo) {
		t.Skipf("no go command on PATH: %s cannot be built here", b.name)
	}
	if b.err != nil {
		t.Fatalf("cannot build %s: %v", b.name, b.err)
	}
	return b.exe
}

// Remove deletes what Path built (from TestMain, once the tests ran).
func (b *Binary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// startTries bounds how often Start tries a command.
const startTries = 5

// Start starts the command mk makes. Under Wine, creating a process now
// and then fails while nothing has started; Start then starts a new
// command from mk, a few times, before it gives the error. Elsewhere it
// tries once.
func Start(mk func() *exec.Cmd) (*exec.Cmd, error) {
	for try := 1; ; try++ {
		cmd := mk()
		err := cmd.Start()
		if err == nil || try == startTries || !startFlake(err) {
			return cmd, err
		}
		time.Sleep(time.Duration(try) * 20 * time.Millisecond)
	}
}

// LockedBuf is an io.Writer whose content may be read while a process
// writes to it.
type LockedBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is what was written so far.
func (b *LockedBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
