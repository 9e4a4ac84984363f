package azmq

import (
	"errors"
	"strings"
	"testing"
)

// TestOptionTypes: an option given to a type it does not apply to fails
// NewSocket with an error naming both; the same option on its own types
// is taken, and out-of-range values are refused on those too.
func TestOptionTypes(t *testing.T) {
	checkOptionTypes(t, []optionTypes{
		{"WithRouterMandatory", WithRouterMandatory(true), []SocketType{ROUTER}, []SocketType{DEALER, REQ, PUB, STREAM, SERVER}},
		{"WithMaxSubscriptionBytes", WithMaxSubscriptionBytes(1 << 20), []SocketType{PUB, XPUB, RADIO}, []SocketType{SUB, XSUB, DISH, PUSH}},
	})
	z := NewContext()
	defer z.Close()
	if _, err := z.NewSocket(PUB, WithMaxSubscriptionBytes(-1)); err == nil {
		t.Error("WithMaxSubscriptionBytes(-1) accepted")
	}
}

// optionTypes is an option, the types that take it and some that do not.
type optionTypes struct {
	name      string
	opt       SocketOption
	good, bad []SocketType
}

// checkOptionTypes checks that each option is taken by its good types and
// refused by the bad ones with ErrNotSupported and an error naming both.
func checkOptionTypes(t *testing.T, cases []optionTypes) {
	t.Helper()
	z := NewContext()
	defer z.Close()
	for _, c := range cases {
		for _, typ := range c.good {
			s, err := z.NewSocket(typ, c.opt)
			if err != nil {
				t.Errorf("%s on %s: %v", c.name, typ, err)
				continue
			}
			s.Close()
		}
		for _, typ := range c.bad {
			_, err := z.NewSocket(typ, c.opt)
			if err == nil {
				t.Errorf("%s on %s: accepted", c.name, typ)
				continue
			}
			if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), typ.String()) {
				t.Errorf("%s on %s: %v: want ErrNotSupported naming both", c.name, typ, err)
			}
		}
	}
}
