//go:build !unix

package engine

// canWriteNow: Windows sockets are overlapped and a write(2) of their own
// would block; every message goes through the writer goroutine.
const canWriteNow = false

func (d *direct) write(uintptr) bool { return true }
