package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestAppendFrameVectors(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"REQ hello", AppendFrame(AppendFrame(nil, FlagMore, nil), 0, []byte("hello")), vecReqHello},
		{"two-part [a,b]", AppendFrame(AppendFrame(nil, FlagMore, []byte("a")), 0, []byte("b")), vecTwoPartAB},
		{"300-byte header", AppendFrameHeader(nil, 0, 300), vecLong300},
		{"300-byte frame prefix", AppendFrame(nil, 0, make([]byte, 300))[:9], vecLong300},
		{"legacy subscribe", AppendFrame(nil, 0, []byte("\x01AB")), vecLegacySubscribe},
		{"legacy cancel", AppendFrame(nil, 0, []byte("\x00AB")), vecLegacyCancel},
		{"255 is short", AppendFrameHeader(nil, FlagMore, 255), hx(`01 ff`)},
		{"256 is long", AppendFrameHeader(nil, FlagMore, 256), hx(`03 00 00 00 00 00 00 01 00`)},
		{"empty", AppendFrameHeader(nil, 0, 0), hx(`00 00`)},
		{"command short", AppendFrameHeader(nil, FlagCommand, 200), hx(`04 c8`)},
		{"command long", AppendFrameHeader(nil, FlagCommand, 276), hx(`06 00 00 00 00 00 00 01 14`)},
		{"FlagLong in flags ignored for short", AppendFrameHeader(nil, FlagLong|FlagMore, 5), hx(`01 05`)},
		{"reserved bits dropped", AppendFrameHeader(nil, 0xf8|FlagMore, 5), hx(`01 05`)},
		{"appends to dst", AppendFrameHeader([]byte{0xaa}, 0, 1), hx(`aa 00 01`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Fatalf("got % x, want % x", tt.got, tt.want)
			}
		})
	}
	if got := AppendFrame(nil, 0, make([]byte, 300)); len(got) != 309 {
		t.Fatalf("300-byte frame length = %d", len(got))
	}
}

func TestAppendFrameHeaderPanicsOnNegative(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	AppendFrameHeader(nil, 0, -1)
}

func TestFrameHeaderLen(t *testing.T) {
	for _, size := range []int{0, 1, 255, 256, 300, 1 << 20} {
		if got, want := FrameHeaderLen(size), len(AppendFrameHeader(nil, 0, size)); got != want {
			t.Errorf("FrameHeaderLen(%d) = %d, want %d", size, got, want)
		}
	}
}

func TestParseFrameHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    FrameHeader
		wantN   int
		wantErr error
	}{
		{"last empty", hx(`00 00`), FrameHeader{0, 0}, 2, nil},
		{"more", hx(`01 05 68 65 6c 6c 6f`), FrameHeader{FlagMore, 5}, 2, nil},
		{"REQ delimiter", vecReqHello, FrameHeader{FlagMore, 0}, 2, nil},
		{"command", vecReadySub, FrameHeader{FlagCommand, 0x19}, 2, nil},
		{"long 300", vecLong300, FrameHeader{FlagLong, 300}, 9, nil},
		{"long more", hx(`03 00 00 00 00 00 00 01 00`), FrameHeader{FlagMore | FlagLong, 256}, 9, nil},
		{"long command", hx(`06 00 00 00 00 00 00 01 14`), FrameHeader{FlagCommand | FlagLong, 276}, 9, nil},
		{"long form small size", hx(`02 00 00 00 00 00 00 00 05`), FrameHeader{FlagLong, 5}, 9, nil},
		{"long max", hx(`02 7f ff ff ff ff ff ff ff`), FrameHeader{FlagLong, 1<<63 - 1}, 9, nil},
		{"reserved bits masked", hx(`f9 07`), FrameHeader{FlagMore, 7}, 2, nil},
		{"short 255", hx(`00 ff`), FrameHeader{0, 255}, 2, nil},
		{"long top bit", hx(`02 80 00 00 00 00 00 00 00`), FrameHeader{}, 0, ErrMalformed},
		{"long all ones", hx(`02 ff ff ff ff ff ff ff ff`), FrameHeader{}, 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := ParseFrameHeader(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if h != tt.want || n != tt.wantN {
				t.Fatalf("got %+v n=%d, want %+v n=%d", h, n, tt.want, tt.wantN)
			}
		})
	}
}

func TestParseFrameHeaderShortAtEveryLength(t *testing.T) {
	for _, full := range [][]byte{hx(`01 05`), vecLong300, hx(`06 00 00 00 00 00 00 01 14`)} {
		for n := 0; n < len(full); n++ {
			if _, _, err := ParseFrameHeader(full[:n]); err != ErrShort {
				t.Errorf("% x: err = %v, want ErrShort", full[:n], err)
			}
		}
		if _, n, err := ParseFrameHeader(full); err != nil || n != len(full) {
			t.Errorf("% x: n=%d err=%v", full, n, err)
		}
	}
}

func TestFrameHeaderMethods(t *testing.T) {
	tests := []struct {
		flags         byte
		more, command bool
	}{
		{0, false, false},
		{FlagMore, true, false},
		{FlagLong, false, false},
		{FlagMore | FlagLong, true, false},
		{FlagCommand, false, true},
		{FlagCommand | FlagLong, false, true},
	}
	for _, tt := range tests {
		h := FrameHeader{Flags: tt.flags}
		if h.More() != tt.more || h.Command() != tt.command {
			t.Errorf("flags %#x: More=%v Command=%v", tt.flags, h.More(), h.Command())
		}
	}
}

func TestFrameHeaderZeroAlloc(t *testing.T) {
	buf := make([]byte, 0, 16)
	if n := testing.AllocsPerRun(100, func() {
		buf = AppendFrameHeader(buf[:0], FlagMore, 300)
		if _, _, err := ParseFrameHeader(buf); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ParseFrameHeader(buf[:3]); err != ErrShort {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("allocs = %v, want 0", n)
	}
}

func BenchmarkAppendFrameHeader(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 16)
	for b.Loop() {
		buf = AppendFrameHeader(buf[:0], FlagMore, 300)
	}
}

func BenchmarkParseFrameHeader(b *testing.B) {
	b.ReportAllocs()
	in := AppendFrameHeader(nil, FlagMore, 300)
	for b.Loop() {
		if _, _, err := ParseFrameHeader(in); err != nil {
			b.Fatal(err)
		}
	}
}
