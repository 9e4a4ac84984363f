package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestAppendGreetingVector(t *testing.T) {
	got := AppendGreeting(nil, Greeting{Major: 3, Minor: 1, Mechanism: "NULL"})
	if !bytes.Equal(got, vecGreetingNull) {
		t.Fatalf("AppendGreeting =\n% x\nwant\n% x", got, vecGreetingNull)
	}
	prefix := []byte("xy")
	got = AppendGreeting(prefix, Greeting{Major: 3, Minor: 1, Mechanism: "NULL"})
	if !bytes.Equal(got[:2], prefix) || !bytes.Equal(got[2:], vecGreetingNull) {
		t.Fatalf("AppendGreeting with prefix = % x", got)
	}
}

func TestAppendGreetingCurveServer(t *testing.T) {
	got := AppendGreeting(nil, Greeting{Major: 3, Minor: 1, Mechanism: "CURVE", AsServer: true})
	want := append([]byte(nil), vecGreetingNull...)
	copy(want[12:32], "CURVE\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	want[32] = 1
	if !bytes.Equal(got, want) {
		t.Fatalf("got\n% x\nwant\n% x", got, want)
	}
	if len(got) != GreetingSize {
		t.Fatalf("len = %d", len(got))
	}
}

func TestAppendGreetingPanicsOnLongMechanism(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	AppendGreeting(nil, Greeting{Major: 3, Minor: 1, Mechanism: "ABCDEFGHIJKLMNOPQRSTU"})
}

// greetingWith returns the §7.1 greeting modified by f.
func greetingWith(f func(g []byte)) []byte {
	g := append([]byte(nil), vecGreetingNull...)
	f(g)
	return g
}

func TestParseGreeting(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Greeting
		wantErr error
	}{
		{"libzmq NULL", vecGreetingNull, Greeting{3, 1, "NULL", false}, nil},
		{"RFC zero padding", greetingWith(func(g []byte) { g[8] = 0 }), Greeting{3, 1, "NULL", false}, nil},
		{"padding ignored", greetingWith(func(g []byte) { copy(g[1:9], "\xde\xad\xbe\xef\x01\x02\x03\x04") }), Greeting{3, 1, "NULL", false}, nil},
		{"byte 9 any odd", greetingWith(func(g []byte) { g[9] = 0x01 }), Greeting{3, 1, "NULL", false}, nil},
		{"ZMTP 3.0", greetingWith(func(g []byte) { g[11] = 0 }), Greeting{3, 0, "NULL", false}, nil},
		{"major 4 accepted", greetingWith(func(g []byte) { g[10] = 4; g[11] = 7 }), Greeting{4, 7, "NULL", false}, nil},
		{"CURVE as server", greetingWith(func(g []byte) { copy(g[12:], "CURVE"); g[32] = 1 }), Greeting{3, 1, "CURVE", true}, nil},
		{"as-server non-zero", greetingWith(func(g []byte) { g[32] = 0x80 }), Greeting{3, 1, "NULL", true}, nil},
		{"filler ignored", greetingWith(func(g []byte) {
			for i := 33; i < 64; i++ {
				g[i] = 0xaa
			}
		}), Greeting{3, 1, "NULL", false}, nil},
		{"20-byte mechanism", greetingWith(func(g []byte) { copy(g[12:32], "ABCDEFGHIJKLMNOPQRST") }), Greeting{3, 1, "ABCDEFGHIJKLMNOPQRST", false}, nil},
		{"extra bytes after greeting", append(append([]byte(nil), vecGreetingNull...), vecReadySub...), Greeting{3, 1, "NULL", false}, nil},

		{"bad byte 0", greetingWith(func(g []byte) { g[0] = 0xfe }), Greeting{}, ErrSignature},
		{"ZMTP 1.0 byte 9", greetingWith(func(g []byte) { g[9] = 0x7e }), Greeting{}, ErrSignature},
		{"major 0", greetingWith(func(g []byte) { g[10] = 0 }), Greeting{}, ErrVersion},
		{"major 1", greetingWith(func(g []byte) { g[10] = 1 }), Greeting{}, ErrVersion},
		{"major 2", greetingWith(func(g []byte) { g[10] = 2 }), Greeting{}, ErrVersion},
		{"empty mechanism", greetingWith(func(g []byte) { copy(g[12:16], "\x00\x00\x00\x00") }), Greeting{}, ErrMalformed},
		{"byte after NUL", greetingWith(func(g []byte) { g[20] = 'X' }), Greeting{}, ErrMalformed},
		{"byte in last slot after NUL", greetingWith(func(g []byte) { g[31] = 'X' }), Greeting{}, ErrMalformed},
		{"non-printable", greetingWith(func(g []byte) { g[13] = 0x01 }), Greeting{}, ErrMalformed},
		{"high byte", greetingWith(func(g []byte) { g[13] = 0xc3 }), Greeting{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGreeting(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != (Greeting{}) {
					t.Fatalf("got %+v with error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseGreetingShortAtEveryLength(t *testing.T) {
	for n := 0; n < GreetingSize; n++ {
		if _, err := ParseGreeting(vecGreetingNull[:n]); err != ErrShort {
			t.Errorf("len %d: err = %v, want ErrShort", n, err)
		}
	}
}

func TestCheckSignature(t *testing.T) {
	for n := 0; n < SignatureSize; n++ {
		if err := CheckSignature(vecGreetingNull[:n]); err != ErrShort {
			t.Errorf("valid prefix len %d: err = %v, want ErrShort", n, err)
		}
	}
	for n := SignatureSize; n <= GreetingSize; n++ {
		if err := CheckSignature(vecGreetingNull[:n]); err != nil {
			t.Errorf("len %d: err = %v, want nil", n, err)
		}
	}
	bad0 := greetingWith(func(g []byte) { g[0] = 0x00 })
	for n := 1; n <= GreetingSize; n++ {
		if err := CheckSignature(bad0[:n]); err != ErrSignature {
			t.Errorf("bad b[0], len %d: err = %v, want ErrSignature", n, err)
		}
	}
	bad9 := greetingWith(func(g []byte) { g[9] = 0x00 })
	for n := 0; n <= GreetingSize; n++ {
		want := ErrShort
		if n >= SignatureSize {
			want = ErrSignature
		}
		if err := CheckSignature(bad9[:n]); err != want {
			t.Errorf("bad b[9], len %d: err = %v, want %v", n, err, want)
		}
	}
	// A ZMTP 1.0 peer: length byte then flags; b[0] is the length.
	if err := CheckSignature([]byte{0x06, 0x00}); err != ErrSignature {
		t.Errorf("ZMTP 1.0 frame: err = %v", err)
	}
}
