package transport

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/coder/websocket"

	"github.com/azmq/azmq/internal/wire"
)

// FuzzZWSRead feeds the read side of the adapter arbitrary message
// sequences: it must never panic, never hold more than one message of at
// most the limit, and turn every binary message it accepts into exactly
// the ZMTP frame it stands for.
func FuzzZWSRead(f *testing.F) {
	f.Add([]byte{2, 0, 2, 0x01, 'a', 2, 0, 1, 0x00})
	f.Add([]byte{1, 0, 3, 0x00, 'h', 'i'})
	f.Add([]byte{2, 0, 0})
	f.Add([]byte{2, 0xff, 0xff, 0x02})
	f.Add([]byte{2, 0, 2, 0x80, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 300
		// Each message: a type byte (1 text, else binary), a u16 length,
		// then up to that many bytes.
		var in []fakeMsg
		for len(data) >= 3 && len(in) < 64 {
			typ := websocket.MessageBinary
			if data[0] == 1 {
				typ = websocket.MessageText
			}
			n := min(int(binary.BigEndian.Uint16(data[1:3])), len(data)-3)
			in = append(in, fakeMsg{typ, data[3 : 3+n]})
			data = data[3+n:]
		}
		// Plain "ZWS2.0" reads the first message as a routing id: it
		// must not panic or grow either.
		bare := newZWSConn(&fakeWS{in: append([]fakeMsg(nil), in...)}, "NULL", false, limit, nil, nil)
		bare.bare = true
		if _, err := io.Copy(io.Discard, io.LimitReader(bare, 1<<24)); err == nil && len(in) > 0 && len(in[0].data) > 0 && in[0].data[0] != 0 {
			t.Fatalf("a routing id message with flags %#x was taken", in[0].data[0])
		}
		if cap(bare.rbuf) > limit+1 {
			t.Fatalf("buffer of %d bytes for a limit of %d", cap(bare.rbuf), limit)
		}

		ws := &fakeWS{in: append([]fakeMsg(nil), in...)}
		c := newZWSConn(ws, "NULL", false, limit, nil, nil)
		var out []byte
		buf := make([]byte, 64)
		var err error
		for range 100000 {
			var n int
			n, err = c.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
		}
		if err == nil {
			t.Fatal("Read never ended")
		}
		if cap(c.rbuf) > limit+1 {
			t.Fatalf("buffer of %d bytes for a limit of %d", cap(c.rbuf), limit)
		}
		if _, gerr := wire.ParseGreeting(out); gerr != nil {
			t.Fatalf("greeting: %v", gerr)
		}
		out = out[wire.GreetingSize:]
		for i, m := range in {
			if len(out) == 0 {
				// Reading stopped at this message: it must be a bad one.
				bad := m.typ != websocket.MessageBinary || len(m.data) == 0 || len(m.data) > limit || m.data[0]&^3 != 0
				if !bad || errors.Is(err, io.EOF) {
					t.Fatalf("message %d (%q) not delivered: %v", i, m.data, err)
				}
				return
			}
			h, hn, herr := wire.ParseFrameHeader(out)
			if herr != nil {
				t.Fatalf("frame %d: %v", i, herr)
			}
			body := out[hn:]
			if uint64(len(body)) < h.Size || h.Size != uint64(len(m.data)-1) || string(body[:h.Size]) != string(m.data[1:]) {
				t.Fatalf("frame %d does not match message %q", i, m.data)
			}
			if h.More() != (m.data[0]&1 != 0) || h.Command() != (m.data[0]&2 != 0) {
				t.Fatalf("frame %d flags %#x for %#x", i, h.Flags, m.data[0])
			}
			out = body[h.Size:]
		}
		if len(out) != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("%d bytes left, error %v", len(out), err)
		}
	})
}
