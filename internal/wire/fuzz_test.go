package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// checkSentinel fails t unless err wraps exactly one of the package's sentinels.
func checkSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range []error{ErrShort, ErrSignature, ErrVersion, ErrMalformed} {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %v wraps %d sentinels", err, n)
	}
}

func FuzzGreeting(f *testing.F) {
	f.Add(vecGreetingNull)
	f.Add(AppendGreeting(nil, Greeting{Major: 3, Minor: 0, Mechanism: "PLAIN"}))
	f.Add(AppendGreeting(nil, Greeting{Major: 3, Minor: 1, Mechanism: "CURVE", AsServer: true}))
	f.Add(vecGreetingNull[:10])
	f.Add(vecGreetingNull[:11])
	f.Add(greetingWith(func(g []byte) { g[10] = 2 }))
	f.Add(greetingWith(func(g []byte) { g[20] = 'X' }))
	f.Fuzz(func(t *testing.T, b []byte) {
		sigErr := CheckSignature(b)
		g, err := ParseGreeting(b)
		if err != nil {
			checkSentinel(t, err)
			if g != (Greeting{}) {
				t.Fatalf("non-zero greeting %+v with error", g)
			}
			if len(b) >= GreetingSize && sigErr != nil && !errors.Is(err, sigErr) {
				t.Fatalf("CheckSignature %v but ParseGreeting %v", sigErr, err)
			}
			return
		}
		if sigErr != nil {
			t.Fatalf("ParseGreeting ok but CheckSignature %v", sigErr)
		}
		if g.Major < 3 || len(g.Mechanism) == 0 || len(g.Mechanism) > MechanismSize {
			t.Fatalf("bad parse %+v", g)
		}
		out := AppendGreeting(nil, g)
		if len(out) != GreetingSize {
			t.Fatalf("len %d", len(out))
		}
		// The version and mechanism fields are reproduced byte for byte.
		if !bytes.Equal(out[10:32], b[10:32]) {
			t.Fatalf("fields differ: % x vs % x", out[10:32], b[10:32])
		}
		g2, err := ParseGreeting(out)
		if err != nil || g2 != g {
			t.Fatalf("round trip %+v -> %+v, %v", g, g2, err)
		}
	})
}

func FuzzFrameHeader(f *testing.F) {
	for _, v := range [][]byte{vecReqHello, vecTwoPartAB, vecLong300, vecReadySub, vecPingTTL2500,
		hx(`02 00 00 00 00 00 00 00 05`), hx(`02 80 00 00 00 00 00 00 00`), hx(`06 7f ff ff ff ff ff ff ff`), hx(`ff ff`), {0x02}} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseFrameHeader(b)
		if err != nil {
			checkSentinel(t, err)
			if errors.Is(err, ErrShort) != (len(b) < 2 || b[0]&FlagLong != 0 && len(b) < 9) {
				t.Fatalf("ErrShort mismatch for % x: %v", b, err)
			}
			return
		}
		if h.Flags&^flagMask != 0 || h.Flags != b[0]&flagMask {
			t.Fatalf("flags %#x from %#x", h.Flags, b[0])
		}
		if wantN := map[bool]int{false: 2, true: 9}[h.Flags&FlagLong != 0]; n != wantN {
			t.Fatalf("n = %d, want %d", n, wantN)
		}
		if h.Size > math.MaxInt64 {
			t.Fatalf("size %d accepted", h.Size)
		}
		if h.Size > math.MaxInt {
			return // cannot be passed as int on this platform
		}
		out := AppendFrameHeader(nil, h.Flags, int(h.Size))
		h2, n2, err := ParseFrameHeader(out)
		if err != nil || n2 != len(out) {
			t.Fatalf("re-parse % x: n=%d err=%v", out, n2, err)
		}
		if h2.Flags&^FlagLong != h.Flags&^FlagLong || h2.Size != h.Size {
			t.Fatalf("round trip %+v -> %+v", h, h2)
		}
		if (h2.Flags&FlagLong != 0) != (h.Size > MaxShortSize) {
			t.Fatalf("non-canonical encoding % x", out)
		}
		// A canonical header with no reserved bits re-encodes byte for byte.
		canonical := b[0]&^flagMask == 0 && (h.Flags&FlagLong != 0) == (h.Size > MaxShortSize)
		if canonical && !bytes.Equal(out, b[:n]) {
			t.Fatalf("canonical % x re-encoded as % x", b[:n], out)
		}
	})
}

func FuzzCommand(f *testing.F) {
	for _, body := range commandBodies() {
		f.Add(body)
	}
	f.Add(vecError400Plain[2:])
	f.Add([]byte("\x00"))
	f.Add([]byte("\x08INITIATE\x0bSocket-Type\x00\x00\x00\x03SUB"))
	f.Fuzz(func(t *testing.T, body []byte) {
		name, data, err := ParseCommand(body)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if len(name) == 0 || len(name)+1+len(data) != len(body) {
			t.Fatalf("split %q/%d of %d bytes", name, len(data), len(body))
		}
		// Exercise the data parsers; they must not panic.
		switch string(name) {
		case CmdReady, CmdInitiate:
			if _, err := ParseMetadata(data); err != nil {
				checkSentinel(t, err)
			}
		case CmdError:
			if _, err := ParseError(data); err != nil {
				checkSentinel(t, err)
			}
		case CmdPing:
			if _, _, err := ParsePing(data); err != nil {
				checkSentinel(t, err)
			}
		}
		frame := AppendCommand(nil, string(name), data)
		h, n, err := ParseFrameHeader(frame)
		if err != nil || !h.Command() || h.More() || h.Size != uint64(len(body)) || n+len(body) != len(frame) {
			t.Fatalf("header %+v n=%d err=%v for body of %d", h, n, err, len(body))
		}
		if !bytes.Equal(frame[n:], body) {
			t.Fatalf("body % x re-encoded as % x", body, frame[n:])
		}
		name2, data2, err := ParseCommand(frame[n:])
		if err != nil || !bytes.Equal(name2, name) || !bytes.Equal(data2, data) {
			t.Fatalf("round trip %q % x -> %q % x, %v", name, data, name2, data2, err)
		}
	})
}

func FuzzMetadata(f *testing.F) {
	for _, v := range [][]byte{vecReadyDealerABC, vecReadyDealerEmpty, vecReadyDealerX, vecReadyRouter, vecReadySub} {
		f.Add(v[8:])
	}
	f.Add([]byte{})
	f.Add(hx(`01 41 7f ff ff ff 00 00 00 00`))
	f.Add(hx(`00 00 00 00 00`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseMetadata(b)
		if err != nil {
			checkSentinel(t, err)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err %v is not ErrMalformed", err)
			}
			return
		}
		for _, p := range md {
			if !ValidPropertyName(p.Name) {
				t.Fatalf("invalid name %q accepted", p.Name)
			}
		}
		if MetadataLen(md) != len(b) {
			t.Fatalf("MetadataLen %d != %d", MetadataLen(md), len(b))
		}
		out := AppendMetadata(nil, md)
		if !bytes.Equal(out, b) {
			t.Fatalf("% x re-encoded as % x", b, out)
		}
		// The parse must not alias its input.
		saved := append([]byte(nil), b...)
		for i := range b {
			b[i] ^= 0xff
		}
		if out := AppendMetadata(nil, md); !bytes.Equal(out, saved) {
			t.Fatalf("result aliases input")
		}
		// And through a READY frame.
		frame := AppendReady(nil, md)
		h, n, err := ParseFrameHeader(frame)
		if err != nil || int(h.Size) != len(frame)-n {
			t.Fatalf("READY header %+v %v", h, err)
		}
		name, data, err := ParseCommand(frame[n:])
		if err != nil || string(name) != CmdReady || !bytes.Equal(data, saved) {
			t.Fatalf("READY body %q % x %v", name, data, err)
		}
		md2, err := ParseMetadata(data)
		if err != nil || !equalMetadata(md, md2) {
			t.Fatalf("round trip %q -> %q, %v", md, md2, err)
		}
	})
}

func FuzzPing(f *testing.F) {
	f.Add(vecPingTTL2500[7:])
	f.Add([]byte("\x00\x00ctx-123"))
	f.Add([]byte("\x12\x34" + "0123456789abcdefXYZ"))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ttl, ctx, err := ParsePing(data)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if len(ctx) > MaxPingContext {
			t.Fatalf("context of %d bytes", len(ctx))
		}
		frame := AppendPing(nil, ttl, ctx)
		h, n, err := ParseFrameHeader(frame)
		if err != nil || !h.Command() || int(h.Size) != len(frame)-n {
			t.Fatalf("header %+v %v", h, err)
		}
		name, data2, err := ParseCommand(frame[n:])
		if err != nil || string(name) != CmdPing {
			t.Fatalf("command %q %v", name, err)
		}
		ttl2, ctx2, err := ParsePing(data2)
		if err != nil || ttl2 != ttl || !bytes.Equal(ctx2, ctx) {
			t.Fatalf("round trip %d %q -> %d %q, %v", ttl, ctx, ttl2, ctx2, err)
		}
		pong := AppendPong(nil, ctx)
		_, n, _ = ParseFrameHeader(pong)
		name, echoed, err := ParseCommand(pong[n:])
		if err != nil || string(name) != CmdPong || !bytes.Equal(echoed, ctx) {
			t.Fatalf("PONG %q % x %v", name, echoed, err)
		}
	})
}

func FuzzError(f *testing.F) {
	f.Add(vecError400[8:])
	f.Add(vecError400Plain[7:])
	f.Add([]byte{0})
	f.Add([]byte("\x04400"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reason, err := ParseError(data)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if len(reason) > MaxErrorReason || len(data) < 1+len(reason) {
			t.Fatalf("reason of %d bytes from %d", len(reason), len(data))
		}
		frame := AppendError(nil, reason)
		h, n, err := ParseFrameHeader(frame)
		if err != nil || !h.Command() || int(h.Size) != len(frame)-n {
			t.Fatalf("header %+v %v", h, err)
		}
		name, data2, err := ParseCommand(frame[n:])
		if err != nil || string(name) != CmdError {
			t.Fatalf("command %q %v", name, err)
		}
		if !bytes.Equal(data2, data[:1+len(reason)]) {
			t.Fatalf("data % x re-encoded as % x", data[:1+len(reason)], data2)
		}
		reason2, err := ParseError(data2)
		if err != nil || reason2 != reason {
			t.Fatalf("round trip %q -> %q, %v", reason, reason2, err)
		}
	})
}
