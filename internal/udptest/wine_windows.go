package udptest

import (
	"errors"

	"golang.org/x/sys/windows"
)

// wineLacksUDP reports whether err is Wine refusing Go's UDP ioctls: the
// refusal (WSAEOPNOTSUPP), on a system whose ntdll is Wine's.
func wineLacksUDP(err error) bool {
	if !errors.Is(err, windows.WSAEOPNOTSUPP) {
		return false
	}
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
