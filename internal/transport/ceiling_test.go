package transport

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
)

// BenchmarkLoopbackCeiling measures what plain Go moves over tcp loopback
// and a unix socket with no protocol and no allocation: the sender writes
// the same buffer of size bytes b.N times, the receiver reads into one
// reused 64 KiB (or larger) buffer. A message-passing library that batches
// small messages into large writes is bounded by the 64 KiB figure, and
// none can beat the largest one on this machine; they put the throughput
// figures of docs/PERFORMANCE.md in proportion.
func BenchmarkLoopbackCeiling(b *testing.B) {
	for _, network := range []string{"tcp", "unix"} {
		for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%dB", network, size), func(b *testing.B) {
				loopbackCeiling(b, network, size)
			})
		}
	}
}

func loopbackCeiling(b *testing.B, network string, size int) {
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(b.TempDir(), "ceiling.sock")
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	out, err := net.Dial(network, l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	in, ok := <-accepted
	if !ok {
		b.Fatal("accept failed")
	}
	defer in.Close()

	total := int64(b.N) * int64(size)
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, max(size, 64<<10))
		for got := int64(0); got < total; {
			n, err := in.Read(buf[:min(int64(len(buf)), total-got)])
			got += int64(n)
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	msg := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := out.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
