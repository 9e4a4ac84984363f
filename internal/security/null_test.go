package security

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/azmq/azmq/internal/wire"
)

func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// PROTOCOL §7.2 and §7.6.
var (
	vecReadyDealerABC = hx(`
		04 2c 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d
		54 79 70 65 00 00 00 06 44 45 41 4c 45 52 08 49
		64 65 6e 74 69 74 79 00 00 00 03 61 62 63`)
	vecError400 = hx(`04 0a 05 45 52 52 4f 52 03 34 30 30`)
)

func dealerMD() wire.Metadata {
	return wire.Metadata{
		{Name: wire.PropSocketType, Value: []byte("DEALER")},
		{Name: wire.PropIdentity, Value: []byte("abc")},
	}
}

func TestNullMechanism(t *testing.T) {
	var m Mechanism = Null{}
	if m.Name() != "NULL" || m.AsServer() {
		t.Errorf("Name %q AsServer %v", m.Name(), m.AsServer())
	}
	h := m.NewHandshake(dealerMD(), Session{})
	out, err := h.Start(context.Background())
	if err != nil || !bytes.Equal(out, vecReadyDealerABC) {
		t.Errorf("Start = % x, %v; want % x", out, err, vecReadyDealerABC)
	}
	if h.Codec() != nil {
		t.Error("NULL has a codec")
	}
	if md := h.PeerMetadata(); md != nil {
		t.Errorf("peer metadata before READY: %v", md)
	}
}

func TestNullStartEmpty(t *testing.T) {
	out, err := Null{}.NewHandshake(nil, Session{}).Start(context.Background())
	if err != nil || !bytes.Equal(out, hx("04 06 05 52 45 41 44 59")) {
		t.Errorf("Start = % x, %v", out, err)
	}
}

func TestNullCommand(t *testing.T) {
	body := func(frame []byte) []byte { return frame[2:] }
	tests := []struct {
		name     string
		body     []byte
		done     bool
		wantMD   wire.Metadata
		want     error // errors.Is target
		peerErr  string
		isPeerEr bool
	}{
		{name: "ready-dealer", body: body(vecReadyDealerABC), done: true, wantMD: dealerMD()},
		{name: "ready-empty", body: []byte("\x05READY"), done: true},
		{name: "ready-lowercase-name", body: []byte("\x05ready"), want: ErrUnexpected},
		{name: "ready-bad-metadata", body: append([]byte("\x05READY"), 3, 'a', 'b', 'c', 0, 0, 0, 5, 'x'), want: wire.ErrMalformed},
		{name: "ready-truncated-length", body: append([]byte("\x05READY"), 1, 'a', 0, 0), want: wire.ErrMalformed},
		{name: "ready-empty-name", body: append([]byte("\x05READY"), 0, 0, 0, 0, 0), want: wire.ErrMalformed},
		{name: "error-400", body: body(vecError400), isPeerEr: true, peerErr: "400"},
		{name: "error-empty-reason", body: []byte("\x05ERROR\x00"), isPeerEr: true, peerErr: ""},
		{name: "error-no-length", body: []byte("\x05ERROR"), want: wire.ErrMalformed},
		{name: "error-short", body: []byte("\x05ERROR\x09abc"), want: wire.ErrMalformed},
		{name: "hello", body: []byte("\x05HELLO\x05admin\x06secret"), want: ErrUnexpected},
		{name: "initiate", body: []byte("\x08INITIATE"), want: ErrUnexpected},
		{name: "ping", body: []byte("\x04PING\x00\x00"), want: ErrUnexpected},
		{name: "plain-error-literal", body: []byte("\x5eRROR\x03400"), want: wire.ErrMalformed},
		{name: "empty-body", body: []byte{}, want: wire.ErrMalformed},
		{name: "zero-name", body: []byte{0}, want: wire.ErrMalformed},
		{name: "name-too-long", body: []byte{9, 'R'}, want: wire.ErrMalformed},
		{name: "name-not-letters", body: []byte("\x05READ1"), want: wire.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Null{}.NewHandshake(nil, Session{})
			out, done, err := h.Command(context.Background(), tt.body)
			if len(out) != 0 {
				t.Errorf("out = % x", out)
			}
			if done != tt.done {
				t.Errorf("done = %v", done)
			}
			switch {
			case tt.isPeerEr:
				var pe *PeerError
				if !errors.As(err, &pe) || pe.Reason != tt.peerErr {
					t.Fatalf("err = %v, want PeerError %q", err, tt.peerErr)
				}
				if !strings.Contains(pe.Error(), `"`+tt.peerErr+`"`) {
					t.Errorf("Error() = %q", pe.Error())
				}
			case tt.want != nil:
				if !errors.Is(err, tt.want) {
					t.Errorf("err = %v, want %v", err, tt.want)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			}
			if err != nil && done {
				t.Error("done with an error")
			}
			if tt.done {
				md := h.PeerMetadata()
				if len(md) != len(tt.wantMD) {
					t.Fatalf("metadata %v, want %v", md, tt.wantMD)
				}
				for i := range md {
					if md[i].Name != tt.wantMD[i].Name || !bytes.Equal(md[i].Value, tt.wantMD[i].Value) {
						t.Errorf("property %d = %s:%q, want %s:%q", i, md[i].Name, md[i].Value, tt.wantMD[i].Name, tt.wantMD[i].Value)
					}
				}
			}
		})
	}
}

// TestNullMetadataDoesNotAlias: the peer's metadata survives the reuse of
// the read buffer it came from.
func TestNullMetadataDoesNotAlias(t *testing.T) {
	buf := append([]byte{}, vecReadyDealerABC[2:]...)
	h := Null{}.NewHandshake(nil, Session{})
	if _, done, err := h.Command(context.Background(), buf); !done || err != nil {
		t.Fatal(done, err)
	}
	for i := range buf {
		buf[i] = 'X'
	}
	v, ok := h.PeerMetadata().Get("identity")
	if !ok || string(v) != "abc" {
		t.Errorf("Identity = %q, %v", v, ok)
	}
}

// TestNullStartIndependent: changing the local metadata after the
// handshake started does not change what Start returns.
func TestNullStartIndependent(t *testing.T) {
	md := dealerMD()
	h := Null{}.NewHandshake(md, Session{})
	a, _ := h.Start(context.Background())
	b, _ := h.Start(context.Background())
	if !bytes.Equal(a, b) {
		t.Error("Start is not repeatable")
	}
	a[3] = 'X'
	if c, _ := h.Start(context.Background()); !bytes.Equal(c, vecReadyDealerABC) {
		t.Error("Start returned shared memory")
	}
}
