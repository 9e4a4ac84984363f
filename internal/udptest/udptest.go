// Package udptest is for the tests that need a UDP socket: Require fails
// a test on a system that cannot give one, except under Wine, whose
// Windows sockets lack an ioctl that Go's net package sets on every UDP
// socket there (SIO_UDP_NETRESET, since Go 1.23): on Wine 8 no Go program
// can open a UDP socket at all, so the test is skipped, saying why.
package udptest

import (
	"fmt"
	"net"
	"runtime"
	"testing"
)

// Require opens and closes a UDP socket on 127.0.0.1, and fails t when
// that does not work (skips it under Wine, see the package doc).
func Require(t testing.TB) {
	t.Helper()
	if err := probe(t); err != nil {
		t.Skipf("udp is not tested here: %v", err)
	}
}

// Available is Require for a test that has more to check than udp: under
// Wine it reports false, saying so in the log, and the test goes on
// without udp.
func Available(t testing.TB) bool {
	t.Helper()
	if err := probe(t); err != nil {
		t.Logf("udp left out: %v", err)
		return false
	}
	return true
}

// probe opens and closes a UDP socket on 127.0.0.1. It fails t when that
// does not work, except under Wine, where it returns why.
func probe(t testing.TB) error {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err == nil {
		c.Close()
		return nil
	}
	if !wineLacksUDP(err) {
		t.Fatalf("a UDP socket on 127.0.0.1: %v", err)
	}
	return fmt.Errorf("this is Wine, whose sockets lack an ioctl Go sets on every UDP socket (%w)", err)
}

// Loopback ends a test that needs multicast (or an interface) on the
// loopback interface and did not get it: Linux has both, and make test
// runs there, so it fails the test there; other systems may lack them,
// and the test is skipped, saying what failed.
func Loopback(t testing.TB, what string, err error) {
	t.Helper()
	if runtime.GOOS == "linux" {
		t.Fatalf("%s: %v", what, err)
	}
	t.Skipf("%s is not available on this system: %v", what, err)
}
