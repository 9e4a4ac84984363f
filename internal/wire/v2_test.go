package wire

import (
	"bytes"
	"errors"
	"testing"
)

// v2Greet is a ZMTP 2.0 greeting of socket type typ, as libzmq 3.2 sends it.
func v2Greet(typ byte) []byte {
	return append(append([]byte(nil), vecGreetingNull[:SignatureSize]...), RevisionZMTP2, typ)
}

func TestV2SocketTypes(t *testing.T) {
	// libzmq's ZMQ_PAIR..ZMQ_XSUB (zmq.h).
	want := []string{"PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB"}
	for n, name := range want {
		got, err := V2SocketType(byte(n))
		if err != nil || got != name {
			t.Errorf("V2SocketType(%d) = %q, %v; want %q", n, got, err, name)
		}
		if num, ok := V2SocketTypeNumber(name); !ok || num != byte(n) {
			t.Errorf("V2SocketTypeNumber(%q) = %d, %v; want %d", name, num, ok, n)
		}
	}
	for _, n := range []byte{11, 12, 16, 255} {
		if _, err := V2SocketType(n); !errors.Is(err, ErrMalformed) {
			t.Errorf("V2SocketType(%d): %v, want ErrMalformed", n, err)
		}
	}
	for _, name := range []string{"STREAM", "CLIENT", "SERVER", "RADIO", "DISH", "GATHER", "SCATTER", "CHANNEL", "PEER", "", "pull"} {
		if _, ok := V2SocketTypeNumber(name); ok {
			t.Errorf("V2SocketTypeNumber(%q) found a number", name)
		}
	}
}

func TestParseV2Greeting(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		typ  string
		want error
	}{
		{"dealer", v2Greet(5), "DEALER", nil},
		{"with-identity-after", append(v2Greet(8), 0, 2, 'i', 'd'), "PUSH", nil},
		{"short", v2Greet(5)[:11], "", ErrShort},
		{"empty", nil, "", ErrShort},
		{"bad-signature", append([]byte{0xfe}, v2Greet(5)[1:]...), "", ErrSignature},
		{"revision0", append(v2Greet(5)[:10:10], 0, 5), "", ErrVersion},
		{"revision3", append(v2Greet(5)[:10:10], 3, 1), "", ErrVersion},
		{"type-11", v2Greet(11), "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, err := ParseV2Greeting(tt.b)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) || typ != tt.typ {
				t.Fatalf("ParseV2Greeting = %q, %v; want %q, %v", typ, err, tt.typ, tt.want)
			}
		})
	}
}

func TestParseV2FrameHeader(t *testing.T) {
	tests := []struct {
		b     []byte
		flags byte
		size  uint64
		n     int
	}{
		{[]byte{0x00, 5}, 0, 5, 2},
		{[]byte{0x01, 0}, FlagMore, 0, 2},
		{[]byte{0x04, 3}, 0, 3, 2}, // bit 2 is reserved in 2.0
		{[]byte{0xfd, 3}, FlagMore, 3, 2},
		{hx(`03 00 00 00 00 00 00 01 2c`), FlagMore | FlagLong, 300, 9},
		{hx(`06 00 00 00 00 00 00 01 00`), FlagLong, 256, 9},
	}
	for _, tt := range tests {
		h, n, err := ParseV2FrameHeader(tt.b)
		if err != nil || h.Flags != tt.flags || h.Size != tt.size || n != tt.n || h.Command() {
			t.Errorf("ParseV2FrameHeader(% x) = %+v, %d, %v; want flags %#x size %d n %d", tt.b, h, n, err, tt.flags, tt.size, tt.n)
		}
	}
	if _, _, err := ParseV2FrameHeader(hx(`02 80 00 00 00 00 00 00 00`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("size 2^63: %v, want ErrMalformed", err)
	}
	if _, _, err := ParseV2FrameHeader([]byte{0x02, 0}); !errors.Is(err, ErrShort) {
		t.Errorf("cut long header: %v, want ErrShort", err)
	}
}

// FuzzV2Greeting: any bytes give a 2.0 socket type or a sentinel error,
// never a panic; a type comes back only from a valid greeting, and names
// a number that maps back to it.
func FuzzV2Greeting(f *testing.F) {
	f.Add(v2Greet(0))
	f.Add(v2Greet(5))
	f.Add(v2Greet(10))
	f.Add(v2Greet(11))
	f.Add(v2Greet(5)[:11])
	f.Add(append(v2Greet(5)[:10:10], 0, 5))
	f.Add(vecGreetingNull)
	f.Add([]byte{0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, err := ParseV2Greeting(b)
		if err != nil {
			checkSentinel(t, err)
			if errors.Is(err, ErrShort) != (len(b) < V2GreetingSize) {
				t.Fatalf("ErrShort mismatch for % x: %v", b, err)
			}
			return
		}
		if b[0] != 0xff || b[9]&1 == 0 || b[10] != RevisionZMTP2 {
			t.Fatalf("greeting % x accepted", b[:V2GreetingSize])
		}
		if n, ok := V2SocketTypeNumber(typ); !ok || n != b[11] {
			t.Fatalf("type %q from byte %d maps back to %d, %v", typ, b[11], n, ok)
		}
	})
}

// FuzzV2FrameHeader: a 2.0 frame header decodes as a 3.x one with the
// command bit cleared, never a command, and re-encodes to the same
// header when canonical.
func FuzzV2FrameHeader(f *testing.F) {
	for _, v := range [][]byte{vecTwoPartAB, vecLong300, {0x04, 0x05}, {0xff, 0xff}, {0x02},
		hx(`02 00 00 00 00 00 00 00 05`), hx(`02 80 00 00 00 00 00 00 00`), hx(`06 7f ff ff ff ff ff ff ff`)} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseV2FrameHeader(b)
		h3, n3, err3 := ParseFrameHeader(b)
		if (err == nil) != (err3 == nil) || n != n3 {
			t.Fatalf("v2 %v n=%d, v3 %v n=%d for % x", err, n, err3, n3, b)
		}
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if h.Command() || h.Flags != h3.Flags&^FlagCommand || h.Size != h3.Size {
			t.Fatalf("v2 %+v, v3 %+v for % x", h, h3, b)
		}
		if h.Size > 1<<40 { // an int on every platform below this
			return
		}
		out := AppendFrameHeader(nil, h.Flags, int(h.Size))
		canonical := b[0]&^(FlagMore|FlagLong) == 0 && (h.Flags&FlagLong != 0) == (h.Size > MaxShortSize)
		if canonical && !bytes.Equal(out, b[:n]) {
			t.Fatalf("canonical % x re-encoded as % x", b[:n], out)
		}
	})
}
