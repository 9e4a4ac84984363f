package engine

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// FuzzEngineStream feeds a NULL engine, past a valid greeting and READY,
// whatever bytes a peer may send: frames, commands, truncated or huge
// declared sizes. The engine must end with an error or EOF, never panic or
// hang, and deliver only whole messages within the size limit.
func FuzzEngineStream(f *testing.F) {
	f.Add(encode([]byte("hello")))
	f.Add(append(encode([]byte("a"), []byte("b")), 0x01, 0x03, 'x'))
	f.Add(longHeader(0, 1<<40))
	f.Add(append([]byte{0x04, 0x05, 4}, "PING"...))
	f.Add(append([]byte{0x04, 0x0b, 5}, "ERROR\x03bad"...))
	f.Add(append([]byte{0x04, 0x0a, 9}, "SUBSCRIBE"...))
	f.Add(append(encode([]byte("x")), 0x00, 0xff))
	const limit = 64 << 10
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
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
			_, _ = b.Write(greeting(3, 1, "NULL"))
			_, _ = b.Write(ready("Socket-Type", "DEALER"))
			_, _ = b.Write(data)
			b.Close()
		}()
		if _, err := e.Handshake(context.Background()); err != nil {
			t.Fatalf("handshake with a valid greeting and READY: %v", err)
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
				}
			case <-deadline:
				t.Fatal("Run did not end after the peer closed")
			default:
			}
			if m, ok, _ := p.In.TryPop(); ok {
				checkWhole(t, m)
			} else {
				time.Sleep(time.Millisecond)
			}
		}
	})
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
