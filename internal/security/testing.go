package security

import "io"

// SetCurveServerRand makes s draw every random byte it needs (transient
// keys, cookie keys, nonces) from r instead of crypto/rand; nil restores
// crypto/rand. It exists for tests in other packages, which need a
// handshake whose bytes are the same on every run: a client stream
// recorded once then replays against a server given the same r. Never use
// it outside tests, and never while s has handshakes running: s reads r
// without a lock.
func SetCurveServerRand(s *CurveServer, r io.Reader) { s.rand = r }

// SetCurveClientRand is SetCurveServerRand for a client.
func SetCurveClientRand(c *CurveClient, r io.Reader) { c.rand = r }
