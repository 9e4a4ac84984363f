package dgram

import (
	"bytes"
	"errors"
	"testing"
)

func TestEncodeFormat(t *testing.T) {
	// libzmq's udp_engine: the group's length in one byte, the group, the
	// body to the end.
	got, err := Encode([]byte("prefix"), []byte("ab"), []byte("xyz"))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("prefix\x02abxyz")
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode = %q, want %q", got, want)
	}
}

func TestCodec(t *testing.T) {
	g255 := bytes.Repeat([]byte{'g'}, MaxGroup)
	tests := []struct {
		name        string
		group, body []byte
		err         error
	}{
		{"empty group and body", nil, nil, nil},
		{"empty group", nil, []byte("body"), nil},
		{"empty body", []byte("g"), nil, nil},
		{"group of 255", g255, []byte("b"), nil},
		{"exactly the maximum", []byte("grp"), make([]byte, MaxDatagram-1-3), nil},
		{"one byte over", []byte("grp"), make([]byte, MaxDatagram-3), ErrTooLarge},
		{"group of 256", append(g255, 'x'), nil, ErrGroupTooLong},
		{"body over with no group", nil, make([]byte, MaxDatagram), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			d, err := Encode(dst, tc.group, tc.body)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Encode error %v, want %v", err, tc.err)
				}
				if !bytes.Equal(d, []byte("keep")) {
					t.Fatalf("a failed Encode appended: %q", d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d)-4 != Size(tc.group, tc.body) {
				t.Fatalf("size %d, Size says %d", len(d)-4, Size(tc.group, tc.body))
			}
			g, b, err := Decode(d[4:])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g, tc.group) || !bytes.Equal(b, tc.body) {
				t.Fatalf("round trip: group %q body of %d", g, len(b))
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name string
		d    []byte
		err  error
	}{
		{"empty", []byte{}, ErrMalformed},
		{"length past the end", []byte{5, 'a', 'b'}, ErrMalformed},
		{"length byte alone", []byte{1}, ErrMalformed},
		{"255 with less", append([]byte{255}, make([]byte, 254)...), ErrMalformed},
		{"over the maximum", append([]byte{0}, make([]byte, MaxDatagram)...), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, b, err := Decode(tc.d)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Decode error %v, want %v", err, tc.err)
			}
			if g != nil || b != nil {
				t.Fatalf("Decode returned data with an error")
			}
		})
	}
	// The edges that are well formed.
	if g, b, err := Decode([]byte{0}); err != nil || len(g) != 0 || len(b) != 0 {
		t.Fatalf("Decode({0}) = %q %q %v", g, b, err)
	}
	if g, b, err := Decode([]byte{2, 'a', 'b'}); err != nil || string(g) != "ab" || len(b) != 0 {
		t.Fatalf("Decode(group only) = %q %q %v", g, b, err)
	}
}

func TestDecodeGroupCannotOverwriteBody(t *testing.T) {
	d := []byte{1, 'g', 'b', 'o', 'd', 'y'}
	g, b, err := Decode(d)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(g, 'X', 'X')
	if string(b) != "body" {
		t.Fatalf("append to the group changed the body: %q", b)
	}
}
