//go:build !linux

// Not Linux: no abstract namespace, so "ipc://@name" must be refused.

package transport

import (
	"errors"
	"testing"
)

// Only Linux has the abstract namespace; elsewhere "@name" must be refused,
// by Parse (so that a Connect fails at once) and by Listen and Dial.
func TestIPCAbstractUnsupported(t *testing.T) {
	if ep, err := Parse("ipc://@azmq-test"); err == nil {
		t.Fatalf("Parse of an abstract name = %+v", ep)
	} else if !errors.Is(err, ErrUnsupportedTransport) {
		t.Fatalf("Parse error %v, want ErrUnsupportedTransport", err)
	}
	ep := Endpoint{"ipc", "@azmq-test"}
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
