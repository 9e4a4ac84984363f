package pattern

import (
	"fmt"
	"testing"

	"github.com/azmq/azmq/internal/pipe"
)

// BenchmarkFairQueueSparse: a ROUTER's fair queue over many peers of
// which one talks, as a broker with many idle clients has it.
func BenchmarkFairQueueSparse(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var f fq
			var talker *pipe.Pipe
			for i := 0; i < n; i++ {
				p := pipe.New(0, 0, nil, nil, nil, nil)
				f.add(p)
				talker = p
			}
			m := pipe.Msg{Frames: [][]byte{[]byte("x")}}
			b.ReportAllocs()
			for b.Loop() {
				talker.In.TryPush(m)
				if _, _, ok := f.pop(); !ok {
					b.Fatal("no message")
				}
			}
		})
	}
}
