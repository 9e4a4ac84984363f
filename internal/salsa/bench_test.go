package salsa

import (
	"testing"

	"golang.org/x/crypto/salsa20/salsa"
)

var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// BenchmarkXORKeyStream runs x/crypto and each path this CPU supports, in
// place, so the paths can be compared side by side.
func BenchmarkXORKeyStream(b *testing.B) {
	var key [32]byte
	var counter [16]byte
	b.Run("xcrypto", func(b *testing.B) {
		for _, s := range benchSizes {
			b.Run(s.name, func(b *testing.B) {
				buf := make([]byte, s.n)
				b.SetBytes(int64(s.n))
				b.ReportAllocs()
				for b.Loop() {
					salsa.XORKeyStream(buf, buf, &counter, &key)
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
					buf := make([]byte, s.n)
					b.SetBytes(int64(s.n))
					b.ReportAllocs()
					for b.Loop() {
						XORKeyStream(buf, buf, &counter, &key)
					}
				})
			}
		})
	}
}
