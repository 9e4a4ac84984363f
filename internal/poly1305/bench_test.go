package poly1305

import (
	"strconv"
	"testing"

	"golang.org/x/crypto/poly1305"
)

var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"256B", 256}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// BenchmarkSum runs x/crypto and each path this CPU supports through Sum
// (so short sizes show the cut-over), side by side.
func BenchmarkSum(b *testing.B) {
	var key [32]byte
	var tag [16]byte
	b.Run("xcrypto", func(b *testing.B) {
		for _, s := range benchSizes {
			b.Run(s.name, func(b *testing.B) {
				msg := make([]byte, s.n)
				b.SetBytes(int64(s.n))
				b.ReportAllocs()
				for b.Loop() {
					poly1305.Sum(&tag, msg, &key)
				}
			})
		}
	})
	for _, k := range allImpls {
		b.Run(k.String(), func(b *testing.B) {
			if !supported(k) {
				b.Skipf("%v not supported on this CPU or build", k)
			}
			defer setImpl(k)()
			for _, s := range benchSizes {
				b.Run(s.name, func(b *testing.B) {
					msg := make([]byte, s.n)
					b.SetBytes(int64(s.n))
					b.ReportAllocs()
					for b.Loop() {
						Sum(&tag, msg, &key)
					}
				})
			}
		})
	}
}

// BenchmarkPath runs each path without the cut-over, to place it.
func BenchmarkPath(b *testing.B) {
	var key [32]byte
	var tag [16]byte
	for _, k := range allImpls {
		b.Run(k.String(), func(b *testing.B) {
			if !supported(k) {
				b.Skipf("%v not supported on this CPU or build", k)
			}
			for _, n := range []int{64, 256, 512, 768, 1024, 1536, 2048} {
				b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
					msg := make([]byte, n)
					b.SetBytes(int64(n))
					b.ReportAllocs()
					for b.Loop() {
						sumPath(k, &tag, msg, &key)
					}
				})
			}
		})
	}
}
