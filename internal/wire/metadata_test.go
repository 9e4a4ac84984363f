package wire

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestParseMetadataVectors(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  Metadata
	}{
		{"DEALER abc", vecReadyDealerABC, dealerABC},
		{"DEALER empty id", vecReadyDealerEmpty, Metadata{{PropSocketType, []byte("DEALER")}, {PropIdentity, []byte{}}}},
		{"DEALER X-", vecReadyDealerX, Metadata{
			{PropSocketType, []byte("DEALER")}, {PropIdentity, []byte("abc")},
			{"X-App", []byte("v1")}, {"X-Zed", []byte("1")},
		}},
		{"ROUTER", vecReadyRouter, Metadata{{PropSocketType, []byte("ROUTER")}, {PropIdentity, []byte{}}}},
		{"SUB", vecReadySub, Metadata{{PropSocketType, []byte("SUB")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := ParseFrameHeader(tt.frame)
			if err != nil || int(h.Size) != len(tt.frame)-n || !h.Command() {
				t.Fatalf("header %+v n=%d err=%v", h, n, err)
			}
			name, data, err := ParseCommand(tt.frame[n:])
			if err != nil || string(name) != CmdReady {
				t.Fatalf("command %q %v", name, err)
			}
			md, err := ParseMetadata(data)
			if err != nil {
				t.Fatal(err)
			}
			if !equalMetadata(md, tt.want) {
				t.Fatalf("got %q, want %q", md, tt.want)
			}
			if got := AppendMetadata(nil, md); !bytes.Equal(got, data) {
				t.Fatalf("re-encoded % x, want % x", got, data)
			}
			if MetadataLen(md) != len(data) {
				t.Fatalf("MetadataLen = %d, want %d", MetadataLen(md), len(data))
			}
		})
	}
}

func equalMetadata(a, b Metadata) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func TestParseMetadataEmpty(t *testing.T) {
	md, err := ParseMetadata(nil)
	if err != nil || len(md) != 0 {
		t.Fatalf("%v %v", md, err)
	}
	if got := AppendReady(nil, nil); !bytes.Equal(got, hx(`04 06 05 52 45 41 44 59`)) {
		t.Fatalf("empty READY % x", got)
	}
}

func TestParseMetadataErrors(t *testing.T) {
	valid := vecReadySub[8:]
	tests := []struct {
		name string
		in   []byte
	}{
		{"zero name length", hx(`00 00 00 00 00`)},
		{"zero name length after valid", append(append([]byte(nil), valid...), 0x00)},
		{"name length exceeds", hx(`05 41 42 43`)},
		{"value length missing", hx(`01 41`)},
		{"value length 1 byte", hx(`01 41 00`)},
		{"value length 3 bytes", hx(`01 41 00 00 00`)},
		{"value length exceeds by one", hx(`01 41 00 00 00 03 61 62`)},
		{"value length 0x7fffffff in 10 bytes", hx(`01 41 7f ff ff ff 61 62 63 64`)},
		{"value length 0xffffffff", hx(`01 41 ff ff ff ff 61 62 63 64`)},
		{"trailing garbage byte", append(append([]byte(nil), valid...), 0x41)},
		{"trailing partial property", append(append([]byte(nil), valid...), 0x01, 'A', 0, 0)},
		{"name with NUL", hx(`02 41 00 00 00 00 00`)},
		{"name with control", hx(`02 41 0a 00 00 00 00`)},
		{"name with high byte", hx(`02 41 c3 00 00 00 00`)},
		{"name with DEL", hx(`02 41 7f 00 00 00 00`)},
		{"libzmq READY truncated by one", vecReadyDealerABC[8 : len(vecReadyDealerABC)-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := ParseMetadata(tt.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if md != nil {
				t.Fatalf("md = %v with error", md)
			}
		})
	}
}

// TestParseMetadataHugeValueLengthNoAlloc feeds a value length of 0x7fffffff
// in a 10-byte buffer: the parser must reject it before allocating anything
// of that size.
func TestParseMetadataHugeValueLengthNoAlloc(t *testing.T) {
	in := hx(`01 41 7f ff ff ff 00 00 00 00`)
	if len(in) != 10 {
		t.Fatal("bad test input")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const runs = 100
	for range runs {
		if _, err := ParseMetadata(in); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 1024 {
		t.Fatalf("allocated %d bytes per call", perRun)
	}
	// Only the error value may be allocated.
	if n := testing.AllocsPerRun(runs, func() { _, _ = ParseMetadata(in) }); n > 4 {
		t.Fatalf("%v allocs per call", n)
	}
}

func TestParseMetadataNames(t *testing.T) {
	for _, name := range []string{"A", "Socket-Type", "X-a_b.c+d", "x-lower", "0123456789", "has space", "!~", strings.Repeat("n", 255)} {
		in := AppendMetadata(nil, Metadata{{name, []byte("v")}})
		md, err := ParseMetadata(in)
		if err != nil || len(md) != 1 || md[0].Name != name || string(md[0].Value) != "v" {
			t.Errorf("%q: %q %v", name, md, err)
		}
		if !ValidPropertyName(name) {
			t.Errorf("ValidPropertyName(%q) = false", name)
		}
	}
	for _, name := range []string{"", strings.Repeat("n", 256), "a\x00", "tab\t", "é"} {
		if ValidPropertyName(name) {
			t.Errorf("ValidPropertyName(%q) = true", name)
		}
	}
}

func TestParseMetadataDoesNotAlias(t *testing.T) {
	in := AppendMetadata(nil, Metadata{{"A", []byte("one")}, {"B", []byte("two")}, {"C", nil}})
	md, err := ParseMetadata(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0xee
	}
	want := Metadata{{"A", []byte("one")}, {"B", []byte("two")}, {"C", []byte{}}}
	if !equalMetadata(md, want) {
		t.Fatalf("after clobbering input: %q", md)
	}
	// Appending to one value must not overwrite the next.
	_ = append(md[0].Value, 'X')
	if string(md[1].Value) != "two" {
		t.Fatalf("value 1 overwritten: %q", md[1].Value)
	}
}

// TestParseMetadataCaps: what a peer can make a connection keep is capped:
// the number of properties, a value's length (an Identity's most of all),
// and no name twice.
func TestParseMetadataCaps(t *testing.T) {
	props := func(n int) Metadata {
		md := make(Metadata, n)
		for i := range md {
			md[i] = Property{Name: fmt.Sprintf("X-%d", i), Value: []byte{}}
		}
		return md
	}
	tests := []struct {
		name string
		md   Metadata
		ok   bool
	}{
		{"max-properties", props(MaxProperties), true},
		{"too-many-properties", props(MaxProperties + 1), false},
		{"10900-empty-properties", props(10900), false},
		{"duplicate", Metadata{{"X-a", nil}, {"X-b", nil}, {"X-a", nil}}, false},
		{"duplicate-other-case", Metadata{{"Identity", []byte("1")}, {"identity", []byte("2")}}, false},
		{"same-length-names", Metadata{{"X-ab", nil}, {"X-ba", nil}, {"x-Ab", nil}}, false},
		{"value-at-cap", Metadata{{"X-v", make([]byte, MaxPropertyValue)}}, true},
		{"value-over-cap", Metadata{{"X-v", make([]byte, MaxPropertyValue+1)}}, false},
		{"identity-255", Metadata{{PropIdentity, make([]byte, MaxIdentity)}}, true},
		{"identity-256", Metadata{{PropIdentity, make([]byte, MaxIdentity+1)}}, false},
		{"identity-lower-case-256", Metadata{{"identity", make([]byte, MaxIdentity+1)}}, false},
		{"identity-65000", Metadata{{PropIdentity, make([]byte, 65000)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := ParseMetadata(AppendMetadata(nil, tt.md))
			if tt.ok {
				if err != nil || len(md) != len(tt.md) {
					t.Fatalf("%d properties, %v", len(md), err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || md != nil {
				t.Fatalf("%d properties, err %v; want ErrMalformed", len(md), err)
			}
		})
	}
}

func TestMetadataGet(t *testing.T) {
	md := Metadata{{PropSocketType, []byte("DEALER")}, {PropIdentity, []byte{}}, {"X-App", []byte("v1")}}
	tests := []struct {
		name string
		want string
		ok   bool
	}{
		{"Socket-Type", "DEALER", true},
		{"socket-type", "DEALER", true},
		{"SOCKET-TYPE", "DEALER", true},
		{"Identity", "", true},
		{"x-app", "v1", true},
		{"Resource", "", false},
		{"Socket-Typ", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		v, ok := md.Get(tt.name)
		if ok != tt.ok || string(v) != tt.want {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.name, v, ok, tt.want, tt.ok)
		}
	}
	if _, ok := Metadata(nil).Get("Identity"); ok {
		t.Error("nil metadata found a property")
	}
}

func TestAppendMetadataPanics(t *testing.T) {
	for _, md := range []Metadata{
		{{"", []byte("x")}},
		{{PropSocketType, []byte("SUB")}, {strings.Repeat("n", 256), nil}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%q: no panic", md)
				}
			}()
			AppendMetadata(nil, md)
		}()
	}
}

func TestAppendReadyLarge(t *testing.T) {
	// A READY whose metadata pushes the body over 255 bytes uses a long header.
	md := Metadata{{PropSocketType, []byte("DEALER")}, {PropIdentity, bytes.Repeat([]byte{'i'}, 255)}}
	f := AppendReady(nil, md)
	h, n, err := ParseFrameHeader(f)
	if err != nil || n != 9 || h.Flags != FlagCommand|FlagLong || int(h.Size) != len(f)-9 {
		t.Fatalf("%+v n=%d err=%v", h, n, err)
	}
	_, data, _ := ParseCommand(f[n:])
	got, err := ParseMetadata(data)
	if err != nil || !equalMetadata(got, md) {
		t.Fatalf("%q %v", got, err)
	}
}

func BenchmarkParseMetadata(b *testing.B) {
	b.ReportAllocs()
	data := vecReadyDealerX[8:]
	for b.Loop() {
		if _, err := ParseMetadata(data); err != nil {
			b.Fatal(err)
		}
	}
}
