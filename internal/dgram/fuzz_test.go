package dgram

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{1})
	f.Add([]byte{3, 'a', 'b'})
	f.Add([]byte("\x05hellobody"))
	f.Add(append([]byte{255}, bytes.Repeat([]byte{'g'}, 255)...))
	f.Add(append([]byte{255}, bytes.Repeat([]byte{'g'}, 254)...))
	// Large: the largest datagram, one byte more, and far more.
	f.Add(append([]byte{4, 'g', 'r', 'p', '1'}, make([]byte, MaxDatagram-5)...))
	f.Add(append([]byte{4, 'g', 'r', 'p', '1'}, make([]byte, MaxDatagram-4)...))
	f.Add(append([]byte{0}, make([]byte, 65506)...))
	f.Fuzz(func(t *testing.T, d []byte) {
		g, b, err := Decode(d)
		if err != nil {
			tooLarge, malformed := errors.Is(err, ErrTooLarge), errors.Is(err, ErrMalformed)
			if tooLarge == malformed {
				t.Fatalf("error %v: too large %v, malformed %v", err, tooLarge, malformed)
			}
			if tooLarge != (len(d) > MaxDatagram) {
				t.Fatalf("ErrTooLarge for %d bytes", len(d))
			}
			if malformed && len(d) > 0 && 1+int(d[0]) <= len(d) {
				t.Fatalf("ErrMalformed for a length byte %d within %d bytes", d[0], len(d))
			}
			return
		}
		if len(g) > MaxGroup || len(d) > MaxDatagram {
			t.Fatalf("accepted a group of %d in %d bytes", len(g), len(d))
		}
		// What decodes encodes back to the same datagram.
		e, err := Encode(nil, g, b)
		if err != nil {
			t.Fatalf("Encode of what Decode gave: %v", err)
		}
		if !bytes.Equal(e, d) {
			t.Fatalf("round trip differs: % x vs % x", e, d)
		}
	})
}
