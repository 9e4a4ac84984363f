package udptest

import (
	"errors"

	"github.com/azmq/azmq/internal/wine"
	"golang.org/x/sys/windows"
)

// wineLacksUDP reports whether err is Wine refusing Go's UDP ioctls: the
// refusal (WSAEOPNOTSUPP), under Wine.
func wineLacksUDP(err error) bool {
	return errors.Is(err, windows.WSAEOPNOTSUPP) && wine.Running()
}
