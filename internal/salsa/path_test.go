package salsa

import (
	"testing"

	"github.com/azmq/azmq/internal/pathtest"
)

// TestPickedPath: XORKeyStream takes the best path the CPU supports, or
// the one a test leg of scripts/test.sh asks for (pathtest).
func TestPickedPath(t *testing.T) {
	var names []string
	for _, k := range allImpls {
		names = append(names, k.String())
	}
	pathtest.Check(t, pathtest.Paths{
		What: "XORKeyStream", Names: names, Test: "TestPickedPath",
		Picked: impl.String(), Best: bestImpl().String(), Supported: supported(impl),
	})
}
