package poly1305

import (
	"testing"

	"github.com/azmq/azmq/internal/pathtest"
)

// TestPickedPath: Sum takes the best path the CPU supports for long
// messages, or the one a test leg of scripts/test.sh asks for (pathtest).
func TestPickedPath(t *testing.T) {
	var names []string
	for _, k := range allImpls {
		names = append(names, k.String())
	}
	pathtest.Check(t, pathtest.Paths{
		What: "Sum", Names: names, Test: "TestPickedPath",
		// The salsa package has an avx512 path; the same setting leaves
		// this one on AVX2.
		Alias:  map[string]string{"avx512": implAVX2.String()},
		Picked: impl.String(), Best: bestImpl().String(), Supported: supported(impl),
	})
}
