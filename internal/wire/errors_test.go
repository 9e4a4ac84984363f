package wire

import (
	"errors"
	"testing"
)

func TestSentinelsDistinct(t *testing.T) {
	all := []error{ErrShort, ErrSignature, ErrVersion, ErrMalformed}
	for i, a := range all {
		for j, b := range all {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = %v", a, b, errors.Is(a, b))
			}
		}
	}
}

func TestErrorsWrapSentinels(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"greeting version", func() error {
			g := append([]byte(nil), vecGreetingNull...)
			g[10] = 2
			_, err := ParseGreeting(g)
			return err
		}(), ErrVersion},
		{"greeting mechanism", func() error {
			g := append([]byte(nil), vecGreetingNull...)
			g[12] = 0
			_, err := ParseGreeting(g)
			return err
		}(), ErrMalformed},
		{"long size", func() error {
			_, _, err := ParseFrameHeader(hx(`02 80 00 00 00 00 00 00 00`))
			return err
		}(), ErrMalformed},
		{"command", func() error { _, _, err := ParseCommand([]byte{0}); return err }(), ErrMalformed},
		{"metadata", func() error { _, err := ParseMetadata([]byte{0}); return err }(), ErrMalformed},
		{"error", func() error { _, err := ParseError(nil); return err }(), ErrMalformed},
		{"ping", func() error { _, _, err := ParsePing([]byte{1}); return err }(), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) {
				t.Fatalf("err = %v, want wrapping %v", tt.err, tt.want)
			}
			for _, other := range []error{ErrShort, ErrSignature, ErrVersion, ErrMalformed} {
				if other != tt.want && errors.Is(tt.err, other) {
					t.Errorf("err %v also wraps %v", tt.err, other)
				}
			}
		})
	}
}
