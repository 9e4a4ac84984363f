//go:build unix

package engine

import "syscall"

// canWriteNow: Go's sockets are non-blocking here, so one write(2) on the
// descriptor returns at once.
const canWriteNow = true

// write is RawConn.Write's callback: one attempt, never a wait.
func (d *direct) write(fd uintptr) bool {
	n, err := syscall.Write(int(fd), d.b)
	if n > 0 {
		d.n = n
	}
	d.err = err
	return true
}

// rawRead is ReadNow's one read(2).
func rawRead(fd uintptr, b []byte) (int, error) { return syscall.Read(int(fd), b) }
