package benchkit

import (
	"testing"

	"github.com/azmq/azmq/internal/cmdtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// lockedBuf is an io.Writer whose content may be read while a side runs.
type lockedBuf = cmdtest.LockedBuf
