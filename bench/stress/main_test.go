package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/azmq/azmq/internal/cmdtest"
	"go.uber.org/goleak"
)

// The command is built once, for the tests that start it as processes.
var stressCmd = cmdtest.New("stress")

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	stressCmd.Remove()
	os.Exit(code)
}

// tool returns the path of the stress binary, building it the first time.
func tool(t *testing.T) string { return stressCmd.Path(t) }

type lockedBuf = cmdtest.LockedBuf

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
