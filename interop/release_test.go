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
