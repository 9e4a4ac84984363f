package security

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/azmq/azmq/internal/wire"
)

// plainSeeds are command bodies both PLAIN fuzz targets start from.
func plainSeeds() [][]byte {
	return [][]byte{
		vecPlainHello[2:],
		vecPlainWelcome[2:],
		vecPlainInit[2:],
		vecPlainReadyRouter[2:],
		vecError400[2:],
		vecPlainError400[2:],
		[]byte("\x05HELLO\x00\x00"),
		[]byte("\x05HELLO\x05admin\x06secretX"),
		[]byte("\x05HELLO\xff"),
		[]byte("\x07WELCOMEx"),
		[]byte("\x08INITIATE"),
		[]byte("\x05READY"),
		[]byte("\x5eRROR"),
		[]byte("\x05ERROR"),
		{},
		{0},
		{0xff},
	}
}

// FuzzPlainServer feeds two arbitrary command bodies to a PLAIN server
// whose ZAP handler answers according to status. It must never panic, and
// it may only ever answer WELCOME, READY or the ERROR of a ZAP refusal.
func FuzzPlainServer(f *testing.F) {
	seeds := plainSeeds()
	for i, a := range seeds {
		f.Add(byte(i), a, seeds[(i+2)%len(seeds)])
	}
	f.Add(byte(0), vecPlainHello[2:], vecPlainInit[2:])
	f.Fuzz(func(t *testing.T, status byte, a, b []byte) {
		sess := Session{}
		switch status % 6 {
		case 0, 1:
			sess.ZAP = plainZAP200().ask
		case 2:
			sess.ZAP = (&plainFakeZAP{rep: ZAPReply{Status: "300"}}).ask
		case 3:
			sess.ZAP = (&plainFakeZAP{rep: ZAPReply{Status: "400"}}).ask
		case 4:
			sess.ZAP = (&plainFakeZAP{err: ErrNoZAPHandler}).ask
		}
		h := PlainServer{}.NewHandshake(plainRouterNoID(), sess)
		failed, finished := false, false
		for i, body := range [][]byte{a, b} {
			out, done, err := h.Command(context.Background(), body)
			if done && err != nil {
				t.Fatalf("command %d: done with %v", i, err)
			}
			if failed && (err == nil || out != nil) {
				t.Fatalf("command %d after failure: % x, %v", i, out, err)
			}
			if finished && err == nil {
				t.Fatalf("command %d accepted after done", i)
			}
			var ze *ZAPError
			switch {
			case err != nil && errors.As(err, &ze):
				if ze.Status == "300" && out != nil || ze.Status != "300" && !bytes.Equal(out, wire.AppendError(nil, ze.Status)) {
					t.Fatalf("ZAP %s: answered % x", ze.Status, out)
				}
			case err != nil:
				if out != nil {
					t.Fatalf("command %d: % x with %v", i, out, err)
				}
			case done:
				if !bytes.Equal(out, vecPlainReadyRouter) {
					t.Fatalf("done with % x", out)
				}
				for _, p := range h.PeerMetadata() {
					if !wire.ValidPropertyName(p.Name) {
						t.Fatalf("invalid name %q accepted", p.Name)
					}
				}
			default:
				if !bytes.Equal(out, vecPlainWelcome) {
					t.Fatalf("command %d answered % x", i, out)
				}
				if id, _ := h.Auth(); id != "admin" {
					t.Fatalf("WELCOME with Auth %q", id)
				}
			}
			failed = failed || err != nil
			finished = finished || done
		}
	})
}

// FuzzPlainClient feeds two arbitrary command bodies to a started PLAIN
// client. It must never panic, answer only INITIATE, and finish only on a
// READY that follows a WELCOME.
func FuzzPlainClient(f *testing.F) {
	seeds := plainSeeds()
	for i, a := range seeds {
		f.Add(a, seeds[(i+3)%len(seeds)])
	}
	f.Add(vecPlainWelcome[2:], vecPlainReadyRouter[2:])
	f.Fuzz(func(t *testing.T, a, b []byte) {
		h := newPlainClient()
		if _, err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		failed, welcomed, finished := false, false, false
		for i, body := range [][]byte{a, b} {
			out, done, err := h.Command(context.Background(), body)
			if err != nil {
				if out != nil || done {
					t.Fatalf("command %d: % x, %v with %v", i, out, done, err)
				}
				var pe *PeerError
				if !errors.As(err, &pe) && !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, ErrUnexpected) && !failed {
					t.Fatalf("command %d: unexpected kind of error %v", i, err)
				}
				failed = true
				continue
			}
			if failed || finished {
				t.Fatalf("command %d accepted after failure or done", i)
			}
			switch {
			case done:
				if !welcomed || out != nil {
					t.Fatalf("done (welcomed %v) with % x", welcomed, out)
				}
				finished = true
			case !welcomed && bytes.Equal(out, vecPlainInit):
				welcomed = true
			default:
				t.Fatalf("command %d answered % x", i, out)
			}
		}
	})
}
