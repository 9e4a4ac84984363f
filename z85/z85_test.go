package z85

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Vectors from RFC 32 and libzmq doc/zmq_curve.txt (PROTOCOL §7.9).
var vectors = []struct{ name, hex, z85 string }{
	{"empty", "", ""},
	{"rfc32", "864FD26FB559F75B", "HelloWorld"},
	{"zero", "00000000", "00000"},
	{"max", "FFFFFFFF", "%nSc0"},
	{"client-public", "BB88471D65E2659B30C55A5321CEBB5AAB2B70A398645C26DCA2B2FCB43FC518", "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"},
	{"client-secret", "7BB864B489AFA3671FBE69101F94B38972F24816DFB01B51656B3FEC8DFD0888", "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"},
	{"server-public", "54FCBA24E93249969316FB617C872BB0C1D1FF14800427C594CBFACF1BC2D652", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"},
	{"server-secret", "8E0BDD697628B91D8F245587EE95C5B04D48963F79259877B49CD9063AEAD3B7", "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			bin := unhex(t, v.hex)
			got, err := Encode(bin)
			if err != nil || got != v.z85 {
				t.Errorf("Encode = %q, %v; want %q", got, err, v.z85)
			}
			dec, err := Decode(v.z85)
			if err != nil || !bytes.Equal(dec, bin) {
				t.Errorf("Decode = %X, %v; want %s", dec, err, v.hex)
			}
			if EncodedLen(len(bin)) != len(v.z85) || DecodedLen(len(v.z85)) != len(bin) {
				t.Errorf("EncodedLen %d DecodedLen %d", EncodedLen(len(bin)), DecodedLen(len(v.z85)))
			}
		})
	}
}

func TestAlphabet(t *testing.T) {
	if len(alphabet) != 85 {
		t.Fatalf("alphabet has %d characters", len(alphabet))
	}
	valid := 0
	for c := 0; c < 256; c++ {
		d := decodeMap[c]
		if d == invalid {
			continue
		}
		valid++
		if alphabet[d] != byte(c) {
			t.Errorf("decodeMap[%q] = %d", rune(c), d)
		}
	}
	if valid != 85 {
		t.Errorf("%d valid characters", valid)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 31, 33} {
		s, err := Encode(make([]byte, n))
		if !errors.Is(err, ErrLength) || s != "" {
			t.Errorf("Encode(%d bytes) = %q, %v", n, s, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprint(n)) {
			t.Errorf("error %q does not name the length %d", err, n)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
		mention  string
	}{
		{"length-1", "H", ErrLength, "1"},
		{"length-4", "Hell", ErrLength, "4"},
		{"length-9", "HelloWorl", ErrLength, "9"},
		{"length-11", "HelloWorld!", ErrLength, "11"},
		{"space", "Hello World", ErrLength, "11"},
		{"space-in-group", "Hell World", ErrCharacter, "offset 4"},
		{"quote", "Hello\"orld", ErrCharacter, "offset 5"},
		{"comma", ",0000", ErrCharacter, "offset 0"},
		{"backslash", "0000\\", ErrCharacter, "offset 4"},
		{"tilde", "00000~0000", ErrCharacter, "offset 5"},
		{"nul", "0000\x00", ErrCharacter, "offset 4"},
		{"high-byte", "0000\xff", ErrCharacter, "offset 4"},
		{"utf8", "000é", ErrCharacter, "offset 3"},
		{"overflow-max", "#####", ErrOverflow, "offset 0"},
		{"overflow-just", "%nSc1", ErrOverflow, `"%nSc1" at offset 0`},
		{"overflow-second", "HelloWorld#####", ErrOverflow, "offset 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Decode(tt.in)
			if !errors.Is(err, tt.want) || b != nil {
				t.Fatalf("Decode(%q) = %X, %v; want %v", tt.in, b, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

// TestRoundTripSample: a spread sample of 32-bit values encodes and decodes back.
func TestRoundTripSample(t *testing.T) {
	src := make([]byte, 0, 4*4096)
	for i := uint64(0); i < 4096; i++ {
		v := uint32(i * 0x9E3779B97F4A7C15 >> 32)
		src = append(src, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	s, err := Encode(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(s)
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("round trip failed: %v", err)
	}
}

func ExampleEncode() {
	s, err := Encode([]byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B})
	fmt.Println(s, err)
	// Output: HelloWorld <nil>
}

func ExampleDecode() {
	b, err := Decode("HelloWorld")
	fmt.Printf("% X %v\n", b, err)
	_, err = Decode("#####")
	fmt.Println(err)
	// Output:
	// 86 4F D2 6F B5 59 F7 5B <nil>
	// z85: group overflows 32 bits: group "#####" at offset 0 exceeds 0xFFFFFFFF
}

func FuzzDecode(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.z85)
	}
	for _, s := range []string{"#####", "%nSc0", "%nSc1", "Hello World", "0000\xff", "H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Decode(s)
		if err != nil {
			if b != nil {
				t.Fatalf("data %X with error %v", b, err)
			}
			if !errors.Is(err, ErrLength) && !errors.Is(err, ErrCharacter) && !errors.Is(err, ErrOverflow) {
				t.Fatalf("unknown error %v", err)
			}
			return
		}
		if len(b) != DecodedLen(len(s)) {
			t.Fatalf("decoded %d bytes from %d characters", len(b), len(s))
		}
		e, err := Encode(b)
		if err != nil || e != s {
			t.Fatalf("Encode(Decode(%q)) = %q, %v", s, e, err)
		}
	})
}

func FuzzEncode(f *testing.F) {
	for _, v := range vectors {
		f.Add(unhex(f, v.hex))
	}
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Encode(b)
		if len(b)%4 != 0 {
			if !errors.Is(err, ErrLength) || s != "" {
				t.Fatalf("Encode(%d bytes) = %q, %v", len(b), s, err)
			}
			return
		}
		if err != nil || len(s) != EncodedLen(len(b)) {
			t.Fatalf("Encode = %q, %v", s, err)
		}
		d, err := Decode(s)
		if err != nil || !bytes.Equal(d, b) {
			t.Fatalf("Decode(Encode(%X)) = %X, %v", b, d, err)
		}
	})
}

func BenchmarkEncode32(b *testing.B) {
	key := make([]byte, 32)
	b.ReportAllocs()
	b.SetBytes(32)
	for b.Loop() {
		if _, err := Encode(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode40(b *testing.B) {
	const key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
	b.ReportAllocs()
	b.SetBytes(40)
	for b.Loop() {
		if _, err := Decode(key); err != nil {
			b.Fatal(err)
		}
	}
}
