//go:build !windows

// Not Windows: named-pipe endpoints must be refused with a clear error.

package transport

import (
	"errors"
	"strings"
	"testing"
)

func TestNamedPipeWindowsOnly(t *testing.T) {
	for _, addr := range []string{`\\.\pipe\azmq-test`, "//./pipe/azmq-test", "pipe:azmq-test", `\\.\pipe\*`} {
		t.Run(addr, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s of ipc://%s succeeded", what, addr)
				}
				if !errors.Is(err, ErrUnsupportedTransport) || !strings.Contains(err.Error(), "named pipes") || !strings.Contains(err.Error(), "Windows-only") {
					t.Fatalf("%s error %q, want ErrUnsupportedTransport saying named pipes are Windows-only", what, err)
				}
			}
			_, err := Parse("ipc://" + addr)
			check("Parse", err)
			ep := Endpoint{"ipc", addr}
			l, err := Listen(testCtx(t), ep)
			if err == nil {
				l.Close()
			}
			check("Listen", err)
			c, err := Dial(testCtx(t), ep)
			if err == nil {
				c.Close()
			}
			check("Dial", err)
		})
	}
}
