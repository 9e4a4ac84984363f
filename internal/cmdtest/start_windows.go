package cmdtest

import (
	"errors"

	"github.com/azmq/azmq/internal/wine"
	"golang.org/x/sys/windows"
)

// startFlake reports whether err is Wine failing now and then to create a
// process ("Internal error.", ERROR_INTERNAL_ERROR): nothing was started.
func startFlake(err error) bool {
	return errors.Is(err, windows.ERROR_INTERNAL_ERROR) && wine.Running()
}
