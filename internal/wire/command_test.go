package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var dealerABC = Metadata{{PropSocketType, []byte("DEALER")}, {PropIdentity, []byte("abc")}}

func TestAppendCommandVectors(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"READY DEALER abc", AppendReady(nil, dealerABC), vecReadyDealerABC},
		{"READY DEALER empty id", AppendReady(nil, Metadata{{PropSocketType, []byte("DEALER")}, {PropIdentity, nil}}), vecReadyDealerEmpty},
		{"READY DEALER X-", AppendReady(nil, Metadata{
			{PropSocketType, []byte("DEALER")}, {PropIdentity, []byte("abc")},
			{"X-App", []byte("v1")}, {"X-Zed", []byte("1")},
		}), vecReadyDealerX},
		{"READY ROUTER", AppendReady(nil, Metadata{{PropSocketType, []byte("ROUTER")}, {PropIdentity, []byte{}}}), vecReadyRouter},
		{"READY SUB", AppendReady(nil, Metadata{{PropSocketType, []byte("SUB")}}), vecReadySub},
		{"READY via AppendCommand", AppendCommand(nil, CmdReady, AppendMetadata(nil, dealerABC)), vecReadyDealerABC},
		{"SUBSCRIBE AB", AppendSubscribe(nil, []byte("AB")), vecSubscribe},
		{"CANCEL AB", AppendCancel(nil, []byte("AB")), vecCancel},
		{"PING ttl 2500ms", AppendPing(nil, 2500/100, nil), vecPingTTL2500},
		{"PONG empty", AppendPong(nil, nil), vecPongEmpty},
		{"PONG ctx-123", AppendPong(nil, []byte("ctx-123")), vecPongCtx},
		{"ERROR 400", AppendError(nil, "400"), vecError400},
		{"PLAIN HELLO", AppendCommand(nil, CmdHello, []byte("\x05admin"), []byte("\x06secret")), vecPlainHello},
		{"PLAIN WELCOME", AppendCommand(nil, CmdWelcome), vecPlainWelcome},
		{"PLAIN INITIATE", AppendCommand(nil, CmdInitiate, AppendMetadata(nil, Metadata{{PropSocketType, []byte("DEALER")}, {PropIdentity, nil}})),
			append(hx(`04 2c 08 49 4e 49 54 49 41 54 45`), vecReadyDealerEmpty[8:]...)},
		{"CURVE HELLO header", AppendCommand(nil, CmdHello, make([]byte, 194))[:8], hx(`04 c8 05 48 45 4c 4c 4f`)},
		{"CURVE INITIATE long", AppendCommand(nil, CmdInitiate, make([]byte, 248+19))[:9], hx(`06 00 00 00 00 00 00 01 14`)},
		{"appends to dst", AppendPong([]byte{0xee}, nil), append([]byte{0xee}, vecPongEmpty...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Fatalf("got\n% x\nwant\n% x", tt.got, tt.want)
			}
		})
	}
}

func TestAppendTruncation(t *testing.T) {
	long := strings.Repeat("r", 300)
	e := AppendError(nil, long)
	h, n, err := ParseFrameHeader(e)
	if err != nil || h.Size != 1+5+1+255 || n != 9 || len(e) != n+int(h.Size) {
		t.Fatalf("ERROR frame header %+v n=%d err=%v len=%d", h, n, err, len(e))
	}
	_, data, _ := ParseCommand(e[n:])
	if r, err := ParseError(data); err != nil || r != long[:255] {
		t.Fatalf("reason len %d err %v", len(r), err)
	}

	ctx := []byte("0123456789abcdefXYZ")
	p := AppendPing(nil, 7, ctx)
	_, data, err = ParseCommand(p[2:])
	if err != nil {
		t.Fatal(err)
	}
	ttl, c, err := ParsePing(data)
	if err != nil || ttl != 7 || string(c) != "0123456789abcdef" || len(data) != 18 {
		t.Fatalf("PING ttl=%d ctx=%q err=%v data=%d", ttl, c, err, len(data))
	}
	q := AppendPong(nil, ctx)
	if want := append(hx(`04 15 04 50 4f 4e 47`), "0123456789abcdef"...); !bytes.Equal(q, want) {
		t.Fatalf("PONG % x", q)
	}
}

func TestAppendCommandPanicsOnBadName(t *testing.T) {
	for _, name := range []string{"", strings.Repeat("A", 256)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("name len %d: no panic", len(name))
				}
			}()
			AppendCommand(nil, name)
		}()
	}
	// 255 is fine.
	f := AppendCommand(nil, strings.Repeat("A", 255))
	if h, _, _ := ParseFrameHeader(f); h.Size != 256 || h.Flags != FlagCommand|FlagLong {
		t.Fatalf("header %+v", h)
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		wantName string
		wantData []byte
		wantErr  error
	}{
		{"READY", vecReadySub[2:], "READY", vecReadySub[8:], nil},
		{"SUBSCRIBE", vecSubscribe[2:], "SUBSCRIBE", []byte("AB"), nil},
		{"PONG empty", vecPongEmpty[2:], "PONG", []byte{}, nil},
		{"WELCOME", vecPlainWelcome[2:], "WELCOME", []byte{}, nil},
		{"lower case", []byte("\x04pingxx"), "ping", []byte("xx"), nil},
		{"255-letter name", append([]byte{255}, strings.Repeat("Z", 255)...), strings.Repeat("Z", 255), []byte{}, nil},
		{"empty body", []byte{}, "", nil, ErrMalformed},
		{"nil body", nil, "", nil, ErrMalformed},
		{"zero name length", []byte("\x00READY"), "", nil, ErrMalformed},
		{"name too long", []byte("\x06READY"), "", nil, ErrMalformed},
		{"libzmq PLAIN ^RROR", vecError400Plain[2:], "", nil, ErrMalformed},
		{"digit in name", []byte("\x05READ1"), "", nil, ErrMalformed},
		{"dash in name", []byte("\x05X-ABC"), "", nil, ErrMalformed},
		{"NUL in name", []byte("\x05REA\x00Y"), "", nil, ErrMalformed},
		{"high byte in name", []byte("\x05REA\xc1Y"), "", nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, data, err := ParseCommand(tt.body)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if string(name) != tt.wantName || !bytes.Equal(data, tt.wantData) {
				t.Fatalf("got %q % x, want %q % x", name, data, tt.wantName, tt.wantData)
			}
		})
	}
}

func TestParseCommandAliases(t *testing.T) {
	body := append([]byte(nil), vecSubscribe[2:]...)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := ParseCommand(body); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
	name, data, _ := ParseCommand(body)
	body[1], body[len(body)-1] = 's', 'b'
	if string(name) != "sUBSCRIBE" || string(data) != "Ab" {
		t.Fatalf("not aliased: %q %q", name, data)
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr error
	}{
		{"400", vecError400[8:], "400", nil},
		{"empty reason", []byte{0}, "", nil},
		{"trailing ignored", []byte("\x03400zzz"), "400", nil},
		{"no length", nil, "", ErrMalformed},
		{"length exceeds", []byte("\x04400"), "", ErrMalformed},
		{"length 255 of 3", []byte("\xff400"), "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseError(tt.data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParsePing(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		ttl     uint16
		ctx     []byte
		wantErr error
	}{
		{"libzmq ttl 25", vecPingTTL2500[7:], 25, []byte{}, nil},
		{"ttl 0", []byte{0, 0}, 0, []byte{}, nil},
		{"max ttl ctx", []byte("\xff\xfectx-123"), 0xfffe, []byte("ctx-123"), nil},
		{"16-byte ctx", []byte("\x00\x010123456789abcdef"), 1, []byte("0123456789abcdef"), nil},
		{"17-byte ctx cut", []byte("\x00\x010123456789abcdefg"), 1, []byte("0123456789abcdef"), nil},
		{"empty", nil, 0, nil, ErrMalformed},
		{"one byte", []byte{0}, 0, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ttl, ctx, err := ParsePing(tt.data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || ttl != tt.ttl || !bytes.Equal(ctx, tt.ctx) {
				t.Fatalf("got %d %q %v; want %d %q", ttl, ctx, err, tt.ttl, tt.ctx)
			}
		})
	}
}

// TestPingPongEcho checks the engine's use: answer a PING with a PONG that
// echoes its context.
func TestPingPongEcho(t *testing.T) {
	ping := AppendPing(nil, 0, []byte("ctx-123"))
	h, n, err := ParseFrameHeader(ping)
	if err != nil || !h.Command() || h.More() {
		t.Fatalf("%+v %v", h, err)
	}
	name, data, err := ParseCommand(ping[n : n+int(h.Size)])
	if err != nil || string(name) != CmdPing {
		t.Fatalf("%q %v", name, err)
	}
	_, ctx, err := ParsePing(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendPong(nil, ctx); !bytes.Equal(got, vecPongCtx) {
		t.Fatalf("PONG % x", got)
	}
}
