//go:build !amd64 || purego

package poly1305

import "golang.org/x/crypto/poly1305"

func bestImpl() implKind { return implGeneric }

// supported reports whether this build and CPU can run path k.
func supported(k implKind) bool { return k == implGeneric }

func sum(k implKind, out *[16]byte, msg []byte, key *[32]byte) {
	poly1305.Sum(out, msg, key)
}

// sumPath is sum without the short-message cut-over, for the tests.
func sumPath(k implKind, out *[16]byte, msg []byte, key *[32]byte) {
	poly1305.Sum(out, msg, key)
}
