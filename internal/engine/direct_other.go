//go:build !unix

package engine

import "syscall"

// canWriteNow: Windows sockets are overlapped and a write(2) of their own
// would block; every message goes through the writer goroutine.
const canWriteNow = false

func (d *direct) write(uintptr) bool { return true }

// rawRead is never called here: the connection has no descriptor to read
// (direct.rc is nil).
func rawRead(uintptr, []byte) (int, error) { return 0, syscall.EINVAL }
