// Linux: SO_BINDTODEVICE exists.

package transport

import "golang.org/x/sys/unix"

// BindToDeviceSupported tells whether SO_BINDTODEVICE is available.
const BindToDeviceSupported = true

// bindToDevice sets SO_BINDTODEVICE: the socket sends and receives through
// that interface only. Unprivileged processes may set it since Linux 5.7.
func bindToDevice(fd uintptr, name string) error {
	return unix.BindToDevice(int(fd), name)
}
