package cert

import (
	"os"
	"syscall"
)

// changeID is what tells a file's contents changed beyond its size and
// modification time, which a copy that keeps times (cp -p) sets back: the
// inode and the status change time, which no one can set.
func changeID(fi os.FileInfo) [2]int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return [2]int64{int64(st.Ino), st.Ctim.Nano()}
	}
	return [2]int64{}
}
