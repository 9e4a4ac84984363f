// Windows only: named pipes (ipc://\\.\pipe\NAME) on x/sys/windows, with I/O through Go's poller.

package transport

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// namedPipes tells whether this platform has Windows named pipes.
const namedPipes = true

const (
	// pipeBufSize is the size of each instance's in and out buffers (a hint
	// to the system, which grows them as needed).
	pipeBufSize = 64 << 10

	// pipeBusyWait bounds each WaitNamedPipe of a dial that found every
	// instance busy, so that the dial notices its ctx ending in time.
	pipeBusyWait = 50 * time.Millisecond
)

// WaitNamedPipeW is not in x/sys/windows. NewLazySystemDLL loads kernel32
// from the system directory only.
var procWaitNamedPipeW = windows.NewLazySystemDLL("kernel32.dll").NewProc("WaitNamedPipeW")

// waitNamedPipe waits up to ms milliseconds for an instance of the pipe to
// be free. It returns at once, with ERROR_FILE_NOT_FOUND, if the pipe has no
// instance at all.
func waitNamedPipe(name *uint16, ms uint32) error {
	r, _, err := procWaitNamedPipeW.Call(uintptr(unsafe.Pointer(name)), uintptr(ms))
	if r != 0 {
		return nil
	}
	return err
}

// pipeExists reports whether some instance of the named pipe exists, free or
// busy, without connecting to it. FILE_FLAG_FIRST_PIPE_INSTANCE makes the
// same check atomically on Windows, but Wine 8 ignores that flag.
func pipeExists(name *uint16) bool {
	switch waitNamedPipe(name, 1) {
	case nil, windows.ERROR_SEM_TIMEOUT, windows.ERROR_PIPE_BUSY:
		return true
	}
	return false
}

// createPipeInstance makes one server instance of a named pipe, in byte
// mode, for overlapped I/O, refusing clients from other machines, with the
// default security descriptor. With first set it fails if the pipe exists
// already (FILE_FLAG_FIRST_PIPE_INSTANCE), so a name has one owner.
func createPipeInstance(name *uint16, first bool) (windows.Handle, error) {
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	mode := uint32(windows.PIPE_TYPE_BYTE | windows.PIPE_READMODE_BYTE | windows.PIPE_WAIT | windows.PIPE_REJECT_REMOTE_CLIENTS)
	h, err := windows.CreateNamedPipe(name, flags, mode, windows.PIPE_UNLIMITED_INSTANCES, pipeBufSize, pipeBufSize, 0, nil)
	if err != nil {
		return windows.InvalidHandle, err
	}
	return h, nil
}

// listenPipe creates the first instance of the named pipe name (the Win32
// form, \\.\pipe\NAME; NAME "*" picks a fresh unique name).
func listenPipe(ctx context.Context, name string) (net.Listener, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if name != pipePrefix+wildcard {
		return newPipeListener(name)
	}
	var err error
	for range wildcardTries {
		var l net.Listener
		l, err = newPipeListener(pipePrefix + "azmq-" + strings.ToLower(rand.Text()))
		if !errors.Is(err, syscall.EADDRINUSE) {
			return l, err
		}
	}
	return nil, err
}

// errPipeTaken says a pipe to listen on exists already.
var errPipeTaken = fmt.Errorf("%w: another listener holds this pipe name", syscall.EADDRINUSE)

func newPipeListener(name string) (*pipeListener, error) {
	addr := pipeAddr(name)
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "pipe", Addr: addr, Err: err}
	}
	if pipeExists(name16) {
		return nil, &net.OpError{Op: "listen", Net: "pipe", Addr: addr, Err: errPipeTaken}
	}
	h, err := createPipeInstance(name16, true)
	if err != nil {
		if err == windows.ERROR_ACCESS_DENIED || err == windows.ERROR_PIPE_BUSY {
			// The pipe exists: it has another owner, here or elsewhere.
			err = fmt.Errorf("%w (%w)", errPipeTaken, err)
		} else {
			err = os.NewSyscallError("CreateNamedPipe", err)
		}
		return nil, &net.OpError{Op: "listen", Net: "pipe", Addr: addr, Err: err}
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		windows.CloseHandle(h)
		return nil, &net.OpError{Op: "listen", Net: "pipe", Addr: addr, Err: os.NewSyscallError("CreateEvent", err)}
	}
	return &pipeListener{
		addr:    addr,
		name16:  name16,
		pending: h,
		ev:      ev,
		ov:      new(windows.Overlapped),
	}, nil
}

// pipeListener is a net.Listener on a named pipe. It always holds one free
// instance of the pipe, pending, that the next client connects to (so the
// name stays its own between accepts): Accept waits for a client on it with
// an overlapped ConnectNamedPipe, makes the next instance, and hands the
// connected one over as a net.Conn.
type pipeListener struct {
	addr   pipeAddr
	name16 *uint16

	// acceptMu lets one Accept run at a time (they share ov); Close takes
	// it to wait for a running Accept to leave.
	acceptMu sync.Mutex

	mu      sync.Mutex
	pending windows.Handle      // the free instance; InvalidHandle if making it failed
	ev      windows.Handle      // manual-reset event of ov
	ov      *windows.Overlapped // of the ConnectNamedPipe on pending; on the heap, it never moves
	waiting bool                // a ConnectNamedPipe on ov is in progress
	closed  bool
}

// Accept waits for a client and returns its connection. After Close it
// returns an error wrapping net.ErrClosed.
func (l *pipeListener) Accept() (net.Conn, error) {
	l.acceptMu.Lock()
	defer l.acceptMu.Unlock()
	for {
		h, err := l.connectClient()
		if err == windows.ERROR_NO_DATA {
			continue // a client came and went before we looked: wait for the next
		}
		if err != nil {
			return nil, &net.OpError{Op: "accept", Net: "pipe", Addr: l.addr, Err: err}
		}
		return newPipeConn(h, l.addr), nil
	}
}

// connectClient waits on the free instance for a client and returns that
// instance, connected.
func (l *pipeListener) connectClient() (windows.Handle, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return windows.InvalidHandle, net.ErrClosed
	}
	if l.pending == windows.InvalidHandle {
		h, err := createPipeInstance(l.name16, false)
		if err != nil {
			return windows.InvalidHandle, os.NewSyscallError("CreateNamedPipe", err)
		}
		l.pending = h
	}
	h := l.pending
	// Started under mu, so Close either sees waiting and cancels it, or
	// comes before and is seen above.
	*l.ov = windows.Overlapped{HEvent: l.ev}
	windows.ResetEvent(l.ev)
	err := windows.ConnectNamedPipe(h, l.ov)
	if err == windows.ERROR_IO_PENDING {
		l.waiting = true
		l.mu.Unlock()
		var n uint32
		err = windows.GetOverlappedResult(h, l.ov, &n, true)
		l.mu.Lock()
		l.waiting = false
	}
	switch {
	case l.closed:
		// Close cancelled the wait (or a client came just then: it finds
		// the pipe closed). Close closes the instance.
		return windows.InvalidHandle, net.ErrClosed
	case err == nil || err == windows.ERROR_PIPE_CONNECTED:
		// Make the next instance before this one leaves, so that the name
		// never lapses and the next client finds a free instance. If it
		// fails, the next Accept tries again.
		l.pending = windows.InvalidHandle
		if next, err := createPipeInstance(l.name16, false); err == nil {
			l.pending = next
		}
		return h, nil
	case err == windows.ERROR_NO_DATA:
		windows.DisconnectNamedPipe(h) // ready the instance for the next client
		return windows.InvalidHandle, err
	default:
		// The instance is in a state we do not know: replace it (the new
		// one first, so that the name stays ours).
		if next, cerr := createPipeInstance(l.name16, false); cerr == nil {
			windows.CloseHandle(h)
			l.pending = next
		}
		return windows.InvalidHandle, os.NewSyscallError("ConnectNamedPipe", err)
	}
}

// Close stops listening: a blocked Accept returns, and the free instance is
// closed before Close returns, so the name is free again once the
// connections accepted on it are closed too. A second Close returns an error
// wrapping net.ErrClosed.
func (l *pipeListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return &net.OpError{Op: "close", Net: "pipe", Addr: l.addr, Err: net.ErrClosed}
	}
	l.closed = true
	if l.waiting {
		windows.CancelIoEx(l.pending, l.ov)
	}
	l.mu.Unlock()

	// Wait until no Accept uses the instance, the event or ov.
	l.acceptMu.Lock()
	defer l.acceptMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending != windows.InvalidHandle {
		windows.CloseHandle(l.pending)
		l.pending = windows.InvalidHandle
	}
	windows.CloseHandle(l.ev)
	return nil
}

// Addr returns the pipe's name.
func (l *pipeListener) Addr() net.Addr { return l.addr }

// dialPipe connects to the named pipe name (\\.\pipe\NAME). While every
// instance is busy (the listener is between two accepts) it waits for a free
// one, until ctx ends. A pipe nobody listens on fails at once.
func dialPipe(ctx context.Context, name string) (net.Conn, error) {
	addr := pipeAddr(name)
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: addr, Err: err}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: addr, Err: err}
		}
		// SECURITY_IDENTIFICATION: the server may learn who we are, but
		// not act as us.
		h, err := windows.CreateFile(name16, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
			windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		switch err {
		case nil:
			return newPipeConn(h, addr), nil
		case windows.ERROR_PIPE_BUSY:
			wait := pipeBusyWait
			if dl, ok := ctx.Deadline(); ok {
				wait = min(wait, time.Until(dl))
			}
			// Its result only says when to try again.
			waitNamedPipe(name16, uint32(max(wait, time.Millisecond)/time.Millisecond))
		case windows.ERROR_FILE_NOT_FOUND, windows.ERROR_PATH_NOT_FOUND:
			return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: addr,
				Err: fmt.Errorf("no such pipe: nothing is bound to it (%w)", err)}
		default:
			return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: addr, Err: os.NewSyscallError("CreateFile", err)}
		}
	}
}

// pipeConn is one end of a named-pipe connection. Its handle is overlapped,
// so the *os.File does its I/O through Go's poller, deadlines included; the
// wrapper reports errors as package net does (*net.OpError, net.ErrClosed
// after Close, io.EOF when the other end closed).
type pipeConn struct {
	f    *os.File
	addr pipeAddr
}

func newPipeConn(h windows.Handle, addr pipeAddr) *pipeConn {
	return &pipeConn{f: os.NewFile(uintptr(h), string(addr)), addr: addr}
}

func (c *pipeConn) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	return n, c.opErr("read", err)
}

func (c *pipeConn) Write(b []byte) (int, error) {
	n, err := c.f.Write(b)
	return n, c.opErr("write", err)
}

func (c *pipeConn) Close() error { return c.opErr("close", c.f.Close()) }

func (c *pipeConn) LocalAddr() net.Addr  { return c.addr }
func (c *pipeConn) RemoteAddr() net.Addr { return c.addr }

func (c *pipeConn) SetDeadline(t time.Time) error {
	return c.opErr("set deadline", c.f.SetDeadline(t))
}

func (c *pipeConn) SetReadDeadline(t time.Time) error {
	return c.opErr("set deadline", c.f.SetReadDeadline(t))
}

func (c *pipeConn) SetWriteDeadline(t time.Time) error {
	return c.opErr("set deadline", c.f.SetWriteDeadline(t))
}

// opErr turns an *os.File error into what a net.Conn returns: io.EOF as it
// is, the rest in a *net.OpError, with os.ErrClosed as net.ErrClosed.
func (c *pipeConn) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, os.ErrClosed) {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: "pipe", Source: c.addr, Addr: c.addr, Err: err}
}
