package poly1305

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/poly1305"
)

var allImpls = []implKind{implGeneric, implAVX2}

// forEachImpl runs f as a subtest for each path, skipping the ones this CPU
// or build cannot run.
func forEachImpl(t *testing.T, f func(t *testing.T, k implKind)) {
	for _, k := range allImpls {
		t.Run(k.String(), func(t *testing.T) {
			if !supported(k) {
				// Only a path this machine never takes may go untested.
				if bestImpl() == k {
					t.Fatalf("the %v path is picked, yet reported unsupported", k)
				}
				t.Skipf("this CPU or build cannot run the %v path; Sum takes %v here", k, bestImpl())
			}
			f(t, k)
		})
	}
}

// setImpl forces path k and returns a function restoring the previous one.
func setImpl(k implKind) func() {
	old := impl
	impl = k
	return func() { impl = old }
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// edgeKeys: all clamped bits of r set, s all ones (the final addition
// wraps), zero r and s, and random keys.
func edgeKeys(r *rand.Rand) [][32]byte {
	var allOnes, zero, rMax, sMax [32]byte
	for i := range allOnes {
		allOnes[i] = 0xff
	}
	copy(rMax[:16], allOnes[:16])
	copy(sMax[16:], allOnes[16:])
	keys := [][32]byte{allOnes, zero, rMax, sMax}
	for i := 0; i < 3; i++ {
		var k [32]byte
		copy(k[:], randBytes(r, 32))
		keys = append(keys, k)
	}
	return keys
}

// check compares path k (without the short-message cut-over) and Sum with
// x/crypto for msg and key.
func check(t *testing.T, k implKind, msg []byte, key *[32]byte) {
	t.Helper()
	var want, got [16]byte
	poly1305.Sum(&want, msg, key)
	sumPath(k, &got, msg, key)
	if got != want {
		t.Fatalf("%v: len %d key %x: got %x, want %x", k, len(msg), key[:], got, want)
	}
	defer setImpl(k)()
	Sum(&got, msg, key)
	if got != want {
		t.Fatalf("Sum with %v: len %d key %x: got %x, want %x", k, len(msg), key[:], got, want)
	}
}

// message returns n bytes at a random offset 1..63 into a larger buffer,
// either random or all 0xff (which keeps h near 2^130-5).
func message(r *rand.Rand, n int, ff bool) []byte {
	off := 1 + r.IntN(63)
	b := randBytes(r, off+n)[off:]
	if ff {
		for i := range b {
			b[i] = 0xff
		}
	}
	return b
}

func TestEveryLength(t *testing.T) {
	forEachImpl(t, func(t *testing.T, k implKind) {
		r := rand.New(rand.NewPCG(1, uint64(k)))
		keys := edgeKeys(r)
		for n := 0; n <= 1100; n++ {
			key := keys[n%len(keys)]
			check(t, k, message(r, n, false), &key)
			check(t, k, message(r, n, true), &key)
		}
	})
}

func TestLargeLengths(t *testing.T) {
	forEachImpl(t, func(t *testing.T, k implKind) {
		r := rand.New(rand.NewPCG(2, uint64(k)))
		for _, n := range []int{4095, 4096, 4097, 65535, 65536, 65536 + 17, 1 << 20} {
			for _, key := range edgeKeys(r) {
				check(t, k, message(r, n, false), &key)
				check(t, k, message(r, n, true), &key)
			}
		}
	})
}

// TestKnownAnswers pins tags independently of x/crypto: RFC 8439 section
// 2.5.2, and a long message whose tag was recorded once.
func TestKnownAnswers(t *testing.T) {
	longKey := [32]byte{}
	for i := range longKey {
		longKey[i] = byte(0x80 + 3*i)
	}
	long := make([]byte, 65536+17)
	for i := range long {
		long[i] = byte(i*7 + i>>8)
	}
	tests := []struct {
		name string
		key  string
		msg  []byte
		tag  string
	}{
		{
			"rfc8439",
			"85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
			[]byte("Cryptographic Forum Research Group"),
			"a8061dc1305136c6c22b8baf0c0127a9",
		},
		{"long", hex.EncodeToString(longKey[:]), long, longTag},
	}
	forEachImpl(t, func(t *testing.T, k implKind) {
		for _, tc := range tests {
			var key [32]byte
			hex.Decode(key[:], []byte(tc.key))
			var got [16]byte
			sumPath(k, &got, tc.msg, &key)
			if hex.EncodeToString(got[:]) != tc.tag {
				t.Errorf("%s: got %x, want %s", tc.name, got, tc.tag)
			}
		}
	})
}

// longTag was computed with x/crypto v0.59.0.
const longTag = "ae05e8e524fedd20f6227c22478d7c26"

func TestVerify(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 0))
	for _, n := range []int{0, 15, 16, 300, 4096 + 5} {
		msg := randBytes(r, n)
		var key [32]byte
		copy(key[:], randBytes(r, 32))
		var tag [16]byte
		poly1305.Sum(&tag, msg, &key)
		if !Verify(&tag, msg, &key) {
			t.Fatalf("len %d: right tag rejected", n)
		}
		for bit := 0; bit < 128; bit++ {
			bad := tag
			bad[bit/8] ^= 1 << (bit % 8)
			if Verify(&bad, msg, &key) {
				t.Fatalf("len %d: tag with bit %d flipped accepted", n, bit)
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	msg := make([]byte, 4096+33)
	var key [32]byte
	var tag [16]byte
	forEachImpl(t, func(t *testing.T, k implKind) {
		defer setImpl(k)()
		if a := testing.AllocsPerRun(10, func() { Sum(&tag, msg, &key) }); a != 0 {
			t.Errorf("%v allocs per Sum", a)
		}
	})
}
