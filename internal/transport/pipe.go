package transport

import (
	"strings"
)

// Windows named pipes are ipc endpoints in one of two spellings:
//
//	ipc://\\.\pipe\NAME   the Win32 name itself ("/" may stand for "\" in the prefix)
//	ipc://pipe:NAME       the short form, for \\.\pipe\NAME
//
// Both prefixes are case-insensitive, as Windows treats pipe names. The short
// form uses a colon because a Windows file name cannot hold one, so it can
// never be an AF_UNIX path that libzmq would bind (unlike "pipe/NAME").
const (
	pipePrefix      = `\\.\pipe\`
	pipeShortPrefix = "pipe:"

	// maxPipeName is the longest pipe name Windows takes, prefix included.
	maxPipeName = 256
)

// pipeName reports whether an ipc address names a Windows named pipe and
// returns its Win32 name (\\.\pipe\NAME). NAME is kept as given; it may be
// empty or "*" (a fresh unique name on bind): checkPipe judges it.
func pipeName(addr string) (string, bool) {
	if len(addr) >= len(pipePrefix) && strings.EqualFold(strings.ReplaceAll(addr[:len(pipePrefix)], "/", `\`), pipePrefix) {
		return pipePrefix + addr[len(pipePrefix):], true
	}
	if len(addr) >= len(pipeShortPrefix) && strings.EqualFold(addr[:len(pipeShortPrefix)], pipeShortPrefix) {
		return pipePrefix + addr[len(pipeShortPrefix):], true
	}
	return "", false
}

// checkPipe validates a pipe's Win32 name, as returned by pipeName.
func checkPipe(name string) error {
	switch n := name[len(pipePrefix):]; {
	case n == "":
		return bad("empty pipe name")
	case len(name) > maxPipeName:
		return bad("pipe name longer than 256 characters")
	}
	return nil
}

// pipeAddr is the address of a named-pipe listener or connection: its Win32
// name, \\.\pipe\NAME. Both ends of a connection report the pipe's name.
type pipeAddr string

// Network returns "pipe".
func (pipeAddr) Network() string { return "pipe" }

// String returns the pipe's Win32 name.
func (a pipeAddr) String() string { return string(a) }
