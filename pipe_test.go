//go:build !windows

// Not Windows: named-pipe endpoints must be refused by Bind and Connect (socket_windows_test.go tests them on Windows).

package azmq

import (
	"strings"
	"testing"
)

func TestNamedPipesWindowsOnly(t *testing.T) {
	z := NewContext()
	defer z.Close()
	s := newSock(t, z, PULL)
	for _, ep := range []string{`ipc://\\.\pipe\azmq-test`, "ipc://pipe:azmq-test"} {
		for name, call := range map[string]func(string) error{"Bind": s.Bind, "Connect": s.Connect} {
			err := call(ep)
			if err == nil {
				t.Fatalf("%s(%q) succeeded off Windows", name, ep)
			}
			if !strings.Contains(err.Error(), "named pipes") || !strings.Contains(err.Error(), "Windows-only") {
				t.Fatalf("%s(%q) = %v, want an error saying named pipes are Windows-only", name, ep, err)
			}
		}
	}
}
