//go:build !linux

package transport

import (
	"errors"
	"testing"
)

// Only Linux has the abstract namespace; elsewhere "@name" must be refused.
func TestIPCAbstractUnsupported(t *testing.T) {
	ep := mustParse(t, "ipc://@azmq-test")
	if l, err := Listen(testCtx(t), ep); err == nil {
		l.Close()
		t.Fatal("Listen on an abstract name succeeded")
	} else if !errors.Is(err, ErrUnsupportedTransport) {
		t.Fatalf("Listen error %v, want ErrUnsupportedTransport", err)
	}
	if c, err := Dial(testCtx(t), ep); err == nil {
		c.Close()
		t.Fatal("Dial to an abstract name succeeded")
	} else if !errors.Is(err, ErrUnsupportedTransport) {
		t.Fatalf("Dial error %v, want ErrUnsupportedTransport", err)
	}
}
