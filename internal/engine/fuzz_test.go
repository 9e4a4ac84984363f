package engine

import (
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// FuzzEngineStream feeds a NULL engine, past a valid greeting and READY,
// whatever bytes a peer may send: frames, commands, truncated or huge
// declared sizes. The engine must end with an error or EOF, never panic or
// hang, and deliver only whole messages within the size limit. Over a
// pipe it reads through conn.Read (decodePull).
func FuzzEngineStream(f *testing.F) {
	addStreamSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		defer a.Close()
		fuzzStream(t, a, b, v3Hello, data, false, nil)
	})
}

// FuzzEngineStreamPoll is FuzzEngineStream over loopback TCP: the reader
// reads in the poller's callback, and the receiver asks for the
// connection and reads it itself (ReadNow) whenever its queue is empty.
func FuzzEngineStreamPoll(f *testing.F) {
	if !canWriteNow {
		f.Skip("no descriptor to poll on this platform: FuzzEngineStream covers the reader")
	}
	addStreamSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := tcpPair(t)
		fuzzStream(t, a, b, v3Hello, data, true, nil)
	})
}

func addStreamSeeds(f *testing.F) {
	f.Add(encode([]byte("hello")))
	f.Add(append(encode([]byte("a"), []byte("b")), 0x01, 0x03, 'x'))
	f.Add(longHeader(0, 1<<40))
	f.Add(append([]byte{0x04, 0x05, 4}, "PING"...))
	f.Add(append([]byte{0x04, 0x0b, 5}, "ERROR\x03bad"...))
	f.Add(append([]byte{0x04, 0x0a, 9}, "SUBSCRIBE"...))
	f.Add(append(encode([]byte("x")), 0x00, 0xff))
	f.Add(append(encode(pattern(100<<10)), encode([]byte("after"))...))
}

// v3Hello is a valid 3.1 greeting and READY from a DEALER.
var v3Hello = append(greeting(3, 1, "NULL"), ready("Socket-Type", "DEALER")...)

// fuzzStream runs an engine on a, with b as the peer sending data after
// hello (a valid handshake), and checks what is delivered until Run
// ends: whole messages, and what check says (nil: nothing more); readNow
// has the receiver read the connection itself when it can.
func fuzzStream(t *testing.T, a, b net.Conn, hello, data []byte, readNow bool, check func(pipe.Msg)) {
	if check == nil {
		check = func(pipe.Msg) {}
	}
	const limit = 64 << 10
	defer b.Close()
	cfg := dealerCfg()
	cfg.MaxMsgSize = limit
	cfg.Handshake = time.Second
	e := New(a, cfg)
	defer e.Close()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, b) // what the engine sends
	}()
	defer func() { b.Close(); <-drained }()
	go func() {
		_, _ = b.Write(hello)
		_, _ = b.Write(data)
		if c, ok := b.(interface{ CloseWrite() error }); ok {
			c.CloseWrite() // the engine's bytes still drain
		} else {
			b.Close()
		}
	}()
	if _, err := e.Handshake(context.Background()); err != nil {
		t.Fatalf("handshake with a valid peer: %v", err)
	}
	p := pipe.New(16, 16, nil, nil, nil, nil)
	done := make(chan error, 1)
	go func() { done <- e.Run(p) }()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-done:
			for {
				m, ok, _ := p.In.TryPop()
				if !ok {
					return
				}
				checkWhole(t, m)
				check(m)
			}
		case <-deadline:
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("Run did not end after the peer closed\n%s", buf)
		default:
		}
		if m, ok, _ := p.In.TryPop(); ok {
			checkWhole(t, m)
			check(m)
			continue
		}
		if readNow {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			if e.ReadNow(ctx, p.In, 16) {
				cancel()
				continue
			}
			cancel()
		}
		time.Sleep(time.Millisecond)
	}
}

func checkWhole(t testing.TB, m pipe.Msg) {
	t.Helper()
	if m.Flags() != 0 {
		return // a subscription command, passed up as such
	}
	if len(m.Frames) == 0 {
		t.Fatal("a message with no frame")
	}
	total := 0
	for _, fr := range m.Frames {
		total += len(fr)
	}
	if total > 64<<10 {
		t.Fatalf("a %d-byte message past the 64 KiB limit", total)
	}
}
