//go:build !windows

package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

// releaseMsgs are messages of sizes on and between azmq's buffer
// classes, each with its own bytes, some with small frames around them.
var releaseMsgs = func() [][][]byte {
	sizes := []int{1500, 32 << 10, 4096, 100000, 64<<10 + 1, 300000}
	var msgs [][][]byte
	for i := range 16 {
		body := pattern(sizes[i%len(sizes)], byte(i))
		if i%3 == 0 {
			msgs = append(msgs, cat(fmt.Sprintf("head-%d", i), body, pattern(40000, byte(i+100))))
		} else {
			msgs = append(msgs, [][]byte{body})
		}
	}
	return msgs
}()

// TestRelease: an azmq PULL that gives every message from a libzmq PUSH
// back with azmq.Release receives each of them intact, later ones in the
// memory of earlier ones.
func TestRelease(t *testing.T) {
	runCases(t, topologies, []pairCase{{
		name: "PULL-PUSH", azmq: azmq.PULL,
		lib: spec{Type: "PUSH", Steps: sendSteps(releaseMsgs)},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			for i, m := range releaseMsgs {
				got := recv(t, ctx, s)
				checkMsg(t, fmt.Sprintf("message %d as azmq PULL received it", i), got, m)
				azmq.Release(got)
			}
			p.wait()
		},
	}})
}

// reuseMsgs are many messages, mostly small, of one to three frames of
// sizes around azmq's thresholds (a chunk's largest body, 1 KiB), each
// with its own bytes: enough of them that the chunks small messages are
// cut from are used again several times over.
var reuseMsgs = func() [][][]byte {
	sizes := []int{0, 1, 16, 255, 256, 257, 1500, 16, 3000, 3}
	msgs := make([][][]byte, 1500)
	for i := range msgs {
		m := make([][]byte, 1+i%3)
		for j := range m {
			m[j] = pattern(sizes[(i+j*4)%len(sizes)], byte(i+j))
		}
		msgs[i] = m
	}
	return msgs
}()

// TestRecvIntoAndSendReuse: azmq's reuse of the memory of small messages
// against libzmq. An azmq PULL receiving with RecvInto into one Msg gets
// every message from a libzmq PUSH intact; a libzmq PULL gets every
// message an azmq PUSH sent with Send intact, though the memory of Send's
// copies carries later messages once written.
func TestRecvIntoAndSendReuse(t *testing.T) {
	runCases(t, topologies, []pairCase{
		{
			name: "PULL-PUSH", azmq: azmq.PULL,
			lib: spec{Type: "PUSH", Steps: sendSteps(reuseMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				var m azmq.Msg
				for i, want := range reuseMsgs {
					if err := s.RecvInto(ctx, &m); err != nil {
						t.Fatalf("RecvInto, message %d: %v", i, err)
					}
					checkMsg(t, fmt.Sprintf("message %d as azmq PULL received it into one Msg", i), m.Frames, want)
				}
				p.wait()
			},
		},
		{
			name: "PUSH-PULL", azmq: azmq.PUSH,
			lib: spec{Type: "PULL", Steps: recvSteps(len(reuseMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				buf := make([][]byte, 3)
				for i, m := range reuseMsgs {
					// One set of buffers refilled for every message, as
					// Send allows.
					parts := buf[:len(m)]
					for j, f := range m {
						parts[j] = append(parts[j][:0], f...)
					}
					if err := s.Send(ctx, parts...); err != nil {
						t.Fatalf("Send, message %d: %v", i, err)
					}
				}
				for i, m := range reuseMsgs {
					checkMsg(t, fmt.Sprintf("message %d as libzmq PULL received it", i), p.recvMsg(), m)
				}
				p.wait()
			},
		},
	})
}
