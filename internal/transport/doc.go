// Package transport parses ZeroMQ endpoint strings and opens the stream
// connections that carry ZMTP: it listens on and dials tcp://, ipc://,
// ws:// and wss:// endpoints and hands out plain net.Conn and net.Listener
// values, so the layers above never tell one transport from another (a
// ws connection translates ZWS 2.0 to the ZMTP byte stream: zws.go).
//
// inproc:// endpoints are only parsed here; the socket layer joins inproc
// peers itself, so Listen and Dial reject them.
//
// # ipc endpoints
//
// An ipc endpoint takes one of three forms. What Resolved reports (the
// socket's LastEndpoint), what closing a listener (Unbind) does, what a
// crashed process leaves behind and who may connect differ between them.
// Parse refuses a form the platform cannot serve, with an error wrapping
// ErrUnsupportedTransport, so that a Connect fails at once rather than
// retrying for ever.
//
// ipc://PATH is a Unix domain socket (AF_UNIX) at PATH, as libzmq makes it:
// on Linux, macOS and the other Unixes, and on Windows 10 1803 and later,
// where libzmq uses AF_UNIX too.
//   - Resolved: ipc://PATH as given. "ipc://*" binds a fresh path under
//     os.TempDir() and resolves to it.
//   - Stale files: Listen removes a socket file no process listens on any
//     more (it dials it to find out, as libzmq does). A live one fails with
//     an error wrapping syscall.EADDRINUSE; a file that is not a socket is
//     never removed (also EADDRINUSE).
//   - Closing the listener removes its socket file.
//   - Permissions: the socket file is made with the process's umask on Unix
//     and inherits the ACL of its directory on Windows; connecting needs
//     write access to it. A directory only the intended users can enter
//     restricts who connects.
//   - Where the system has no AF_UNIX (Windows before 10 1803, Wine),
//     Parse refuses ipc paths with an error that names the named-pipe form.
//
// ipc://@NAME (Linux only) is a socket in the abstract namespace. There is
// no file, so nothing can be stale: the name is freed when the listener
// closes, also when its process dies. No file permissions apply: any process
// in the same network namespace may connect.
//
// ipc://\\.\pipe\NAME, or in short ipc://pipe:NAME (Windows only), is a
// named pipe on this machine; clients from other machines are refused. The
// prefixes are case-insensitive, as Windows treats pipe names, and "/" may
// stand for "\" in the long one. The short form has a colon because a Windows
// path cannot (past its drive letter), so it never hides an AF_UNIX path a
// libzmq peer might use; off Windows both forms fail Parse with "named pipes
// are Windows-only".
//   - Resolved: always ipc://\\.\pipe\NAME, whichever spelling was bound.
//     NAME "*" binds a fresh name, azmq-<random>, and resolves to it.
//   - Nothing stale: a pipe is no file; Windows removes it when the last
//     handle to its server side closes, also when its process dies.
//   - A name in use, by a listener of this process or another, fails with
//     an error wrapping syscall.EADDRINUSE. The name stays taken while the
//     listener or any connection it accepted is open: closing the listener
//     frees it once those connections are closed too (the socket layer's
//     Unbind and Close close them).
//   - Permissions: the pipe gets Windows's default security descriptor,
//     which gives full control to the user that made it, LocalSystem and
//     the Administrators, and read access only to everyone else (Everyone,
//     anonymous): they can open it for reading but never write to it, so
//     they cannot complete a ZMTP handshake. Clients connect with
//     SECURITY_IDENTIFICATION, so the server may learn who they are but
//     cannot act as them.
//   - Dial of a pipe nobody listens on fails at once, wrapping
//     fs.ErrNotExist; while every instance of the pipe is busy (the
//     listener is between two accepts) Dial waits for one until its ctx
//     ends.
//
// # Platform differences
//
// Each platform-specific file names its difference in a comment next to its
// build tag (or file-name suffix); in short:
// named pipes are Windows-only, the abstract namespace and SO_BINDTODEVICE
// (Net.BindToDevice) Linux-only, AF_UNIX
// on Windows needs 10 1803 or later, Winsock errors are mapped so that
// errors.Is(err, syscall.EADDRINUSE) holds everywhere, and Go, not this
// package, sets SO_REUSEADDR on Unix listeners and not on Windows ones.
package transport
