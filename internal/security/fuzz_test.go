package security

import (
	"context"
	"errors"
	"testing"

	"github.com/azmq/azmq/internal/wire"
)

// FuzzNullCommand feeds arbitrary command bodies to the NULL handshake: it
// must never panic, never answer, and be done exactly on a valid READY.
func FuzzNullCommand(f *testing.F) {
	for _, seed := range [][]byte{
		vecReadyDealerABC[2:],
		vecError400[2:],
		[]byte("\x05READY"),
		[]byte("\x05READY\x0bSocket-Type\x00\x00\x00\x06ROUTER\x08Identity\x00\x00\x00\x00"),
		[]byte("\x05READY\x0bSocket-Type\xff\xff\xff\xffROUTER"),
		[]byte("\x05READY\x00"),
		[]byte("\x05ERROR"),
		[]byte("\x05ERROR\xff"),
		[]byte("\x05HELLO"),
		[]byte("\x04PING\x00\x19"),
		{},
		{0},
		{0xff},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := Null{}.NewHandshake(nil, Session{})
		out, done, err := h.Command(context.Background(), body)
		if len(out) != 0 {
			t.Fatalf("answered % x", out)
		}
		if done == (err != nil) {
			t.Fatalf("done %v with err %v", done, err)
		}
		name, data, perr := wire.ParseCommand(body)
		if perr != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("malformed body gave %v", err)
			}
			return
		}
		switch string(name) {
		case wire.CmdReady:
			_, merr := wire.ParseMetadata(data)
			if (merr == nil) != done {
				t.Fatalf("READY: done %v, metadata error %v", done, merr)
			}
			if done {
				md := h.PeerMetadata()
				for _, p := range md {
					if !wire.ValidPropertyName(p.Name) {
						t.Fatalf("invalid name %q accepted", p.Name)
					}
				}
				// What we accepted re-encodes to the same bytes.
				if got := wire.AppendMetadata(nil, md); string(got) != string(data) {
					t.Fatalf("metadata round trip: % x != % x", got, data)
				}
			}
		case wire.CmdError:
			var pe *PeerError
			if errors.As(err, &pe) {
				_ = pe.Error()
			} else if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("ERROR gave %v", err)
			}
		default:
			if !errors.Is(err, ErrUnexpected) {
				t.Fatalf("%q gave %v", name, err)
			}
		}
	})
}
