//go:build !linux && !windows

// Neither Linux nor Windows: no SO_BINDTODEVICE (Windows has its own file).

package transport

import "errors"

// BindToDeviceSupported tells whether SO_BINDTODEVICE is available.
const BindToDeviceSupported = false

func bindToDevice(uintptr, string) error {
	return errors.ErrUnsupported
}
