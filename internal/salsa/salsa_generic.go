//go:build !amd64 || purego

package salsa

import "golang.org/x/crypto/salsa20/salsa"

func bestImpl() implKind { return implGeneric }

// supported reports whether this build and CPU can run path k.
func supported(k implKind) bool { return k == implGeneric }

func xorKeyStream(out, in []byte, counter *[16]byte, key *[32]byte) {
	salsa.XORKeyStream(out, in, counter, key)
}
