package transport

import (
	"fmt"
	"io"
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
	in, out := loopbackPair(b, network)
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

// loopbackPair connects two ends over tcp loopback or a unix socket; both
// are closed when the benchmark ends.
func loopbackPair(b *testing.B, network string) (in, out net.Conn) {
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
	out, err = net.Dial(network, l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { out.Close() })
	in, ok := <-accepted
	if !ok {
		b.Fatal("accept failed")
	}
	b.Cleanup(func() { in.Close() })
	return in, out
}

// BenchmarkLoopbackRoundTrip measures the floor of a round trip of 16
// bytes in plain Go, in one process (ns/op is a whole round trip):
// "direct", each side's goroutine reads its connection itself; "handoff",
// a reader goroutine per side reads and passes each message over a
// channel to the goroutine that answers, as a connection's reader hands
// messages to a socket. The difference is what that handoff costs a round
// trip; azmq's REQ/REP latency sits on the handoff floor.
func BenchmarkLoopbackRoundTrip(b *testing.B) {
	for _, network := range []string{"tcp", "unix"} {
		for _, handoff := range []bool{false, true} {
			name := network + "/direct"
			if handoff {
				name = network + "/handoff"
			}
			b.Run(name, func(b *testing.B) {
				in, out := loopbackPair(b, network)
				const size = 16
				recv := func(c net.Conn) func([]byte) error {
					if !handoff {
						return func(buf []byte) error {
							_, err := io.ReadFull(c, buf)
							return err
						}
					}
					ch := make(chan []byte, 1)
					go func() {
						defer close(ch)
						for {
							buf := make([]byte, size)
							if _, err := io.ReadFull(c, buf); err != nil {
								return
							}
							ch <- buf
						}
					}()
					return func(buf []byte) error {
						m, ok := <-ch
						if !ok {
							return io.EOF
						}
						copy(buf, m)
						return nil
					}
				}
				echoed := make(chan error, 1)
				go func() {
					next := recv(in)
					buf := make([]byte, size)
					for range b.N {
						if err := next(buf); err != nil {
							echoed <- err
							return
						}
						if _, err := in.Write(buf); err != nil {
							echoed <- err
							return
						}
					}
					echoed <- nil
				}()
				next := recv(out)
				buf := make([]byte, size)
				b.ResetTimer()
				for range b.N {
					if _, err := out.Write(buf); err != nil {
						b.Fatal(err)
					}
					if err := next(buf); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if err := <-echoed; err != nil {
					b.Fatal(err)
				}
				// Closing ends the reader goroutines (their Read fails).
				in.Close()
				out.Close()
			})
		}
	}
}
