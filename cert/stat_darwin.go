package cert

import (
	"os"
	"syscall"
)

// changeID: see stat_linux.go.
func changeID(fi os.FileInfo) [2]int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return [2]int64{int64(st.Ino), st.Ctimespec.Nano()}
	}
	return [2]int64{}
}
