package dgram

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/azmq/azmq/internal/transport"
)

func TestParseGood(t *testing.T) {
	tests := []struct {
		addr        string
		bind        bool
		iface, host string
		port        uint16
		mcast       bool
	}{
		{"127.0.0.1:5555", true, "", "127.0.0.1", 5555, false},
		{"127.0.0.1:5555", false, "", "127.0.0.1", 5555, false},
		{"*:5555", true, "", "*", 5555, false},
		{"*:*", true, "", "*", 0, false},
		{"*:0", true, "", "*", 0, false},
		{"127.0.0.1:*", true, "", "127.0.0.1", 0, false},
		{"[::1]:5555", true, "", "::1", 5555, false},
		{"[::1]:5555", false, "", "::1", 5555, false},
		{"[fe80::1%eth0]:5555", false, "", "fe80::1%eth0", 5555, false},
		{"localhost:5555", false, "", "localhost", 5555, false},
		{"eth0:5555", true, "", "eth0", 5555, false},
		{"239.1.2.3:5555", true, "", "239.1.2.3", 5555, true},
		{"239.1.2.3:5555", false, "", "239.1.2.3", 5555, true},
		{"eth0;239.1.2.3:5555", true, "eth0", "239.1.2.3", 5555, true},
		{"eth0;239.1.2.3:5555", false, "eth0", "239.1.2.3", 5555, true},
		{"*;239.1.2.3:5555", true, "*", "239.1.2.3", 5555, true},
		{"127.0.0.1;239.1.2.3:5555", false, "127.0.0.1", "239.1.2.3", 5555, true},
		{"lo;[ff02::1]:5555", true, "lo", "ff02::1", 5555, true},
		{"*;[ff02::1]:5555", false, "*", "ff02::1", 5555, true},
		{"a;b;239.1.2.3:5555", false, "a;b", "239.1.2.3", 5555, true}, // the last ";" ends the interface, as libzmq reads it
	}
	for _, tc := range tests {
		e, err := Parse(tc.addr, tc.bind)
		if err != nil {
			t.Errorf("Parse(%q, bind %v): %v", tc.addr, tc.bind, err)
			continue
		}
		if e.Iface != tc.iface || e.Host != tc.host || e.Port != tc.port || e.Multicast() != tc.mcast {
			t.Errorf("Parse(%q, bind %v) = iface %q host %q port %d mcast %v", tc.addr, tc.bind, e.Iface, e.Host, e.Port, e.Multicast())
		}
	}
	if e, _ := Parse("eth0;[ff02::1]:5555", true); e.String() != "udp://eth0;[ff02::1]:5555" {
		t.Errorf("String = %q", e.String())
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		addr string
		bind bool
		want string // in the message
	}{
		{"", true, "missing port"},
		{"127.0.0.1", true, "missing port"},
		{"127.0.0.1:", true, "missing port"},
		{":5555", true, "missing host"},
		{"127.0.0.1:abc", true, "invalid port"},
		{"127.0.0.1:-1", true, "invalid port"},
		{"127.0.0.1:70000", true, "out of range"},
		{"::1:5555", true, "brackets"},
		{"[::1:5555", true, `missing "]"`},
		{"[::1]5555", true, "missing port"},
		{"[::1]:", true, "missing port"},
		{"[127.0.0.1]:5555", true, "invalid IPv6"},
		{"bad host!:5555", false, "invalid host"},
		{";239.1.2.3:5555", true, "empty interface"},
		{"eth0;127.0.0.1:5555", true, "needs a multicast group"},
		{"eth0;127.0.0.1:5555", false, "needs a multicast group"},
		{"*;*:5555", true, "needs a multicast group"},
		{"239.9.9.9;239.1.2.3:5555", true, "is a multicast address"},
		{"127.0.0.1;[ff02::1]:5555", true, "different IP versions"},
		{"[::1];239.1.2.3:5555", true, "different IP versions"},
		{"::1;[ff02::1]:5555", true, "IPv6 group"},
		{"e\x00;239.1.2.3:5555", true, "NUL"},
		// A RADIO needs somewhere to send.
		{"*:5555", false, `host "*" is for bind`},
		{"127.0.0.1:*", false, "any free port is for bind"},
		{"127.0.0.1:0", false, "any free port is for bind"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.addr, tc.bind)
		if err == nil {
			t.Errorf("Parse(%q, bind %v) succeeded", tc.addr, tc.bind)
			continue
		}
		if !errors.Is(err, transport.ErrEndpoint) {
			t.Errorf("Parse(%q): %v does not wrap ErrEndpoint", tc.addr, err)
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.addr) {
			t.Errorf("Parse(%q, bind %v): %q, want it to name the endpoint and say %q", tc.addr, tc.bind, err, tc.want)
		}
	}
}

func TestParsedForTheOtherSide(t *testing.T) {
	e, err := Parse("127.0.0.1:5555", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(context.Background(), e); !errors.Is(err, transport.ErrEndpoint) {
		t.Fatalf("Dial of a bind endpoint: %v", err)
	}
	e, err = Parse("127.0.0.1:5555", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(context.Background(), e); !errors.Is(err, transport.ErrEndpoint) {
		t.Fatalf("Listen of a connect endpoint: %v", err)
	}
}

func TestNoSuchInterface(t *testing.T) {
	for _, bind := range []bool{true, false} {
		e, err := Parse("azmq-no-such-if0;239.1.2.3:5555", bind)
		if err != nil {
			t.Fatal(err)
		}
		if bind {
			_, err = Listen(context.Background(), e)
		} else {
			_, err = Dial(context.Background(), e)
		}
		if !errors.Is(err, ErrNoInterface) {
			t.Fatalf("bind %v: %v, want ErrNoInterface", bind, err)
		}
	}
	// An address no interface has.
	e, _ := Parse("192.0.2.254;239.1.2.3:5555", true)
	if _, err := Listen(context.Background(), e); !errors.Is(err, ErrNoInterface) {
		t.Fatalf("Listen on an address no interface has: %v", err)
	}
}
