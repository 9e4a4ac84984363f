package transport

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const testTimeout = 5 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustParse(t *testing.T, s string) Endpoint {
	t.Helper()
	ep, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return ep
}

func mustListen(t *testing.T, s string) (Endpoint, net.Listener) {
	t.Helper()
	ep := mustParse(t, s)
	l, err := Listen(testCtx(t), ep)
	if err != nil {
		t.Fatalf("Listen(%s): %v", ep, err)
	}
	t.Cleanup(func() { l.Close() })
	return ep, l
}

// exchange dials ep, accepts on l, sends "ping" one way and "pong" back,
// closes both ends and returns PeerAddress as seen by server and client.
func exchange(t *testing.T, l net.Listener, ep Endpoint) (serverPeer, clientPeer string) {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		accepted <- result{c, err}
	}()
	// If anything below fails, closing l unblocks the Accept goroutine.
	defer func() {
		if t.Failed() {
			l.Close()
		}
	}()

	cc, err := Dial(testCtx(t), ep)
	if err != nil {
		l.Close()
		<-accepted
		t.Fatalf("Dial(%s): %v", ep, err)
	}
	defer cc.Close()

	var sc net.Conn
	select {
	case r := <-accepted:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		sc = r.c
	case <-time.After(testTimeout):
		l.Close()
		<-accepted
		t.Fatal("Accept timed out")
	}
	defer sc.Close()

	deadline := time.Now().Add(testTimeout)
	cc.SetDeadline(deadline)
	sc.SetDeadline(deadline)
	if _, err := cc.Write([]byte("ping")); err != nil {
		t.Fatalf("client write: %v", err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(sc, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("server read %q, %v", buf, err)
	}
	if _, err := sc.Write([]byte("pong")); err != nil {
		t.Fatalf("server write: %v", err)
	}
	if _, err := io.ReadFull(cc, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("client read %q, %v", buf, err)
	}
	return PeerAddress(sc), PeerAddress(cc)
}

func needIPv6Loopback(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("skipping: this machine has no IPv6 loopback (::1): %v", err)
	}
	l.Close()
}

func TestTCPRoundTrip(t *testing.T) {
	tests := []struct {
		listen       string
		ipv6         bool
		resolvedHost string // host part Resolved must show
		dialHost     string // host to dial (with the resolved port)
		peer         string // PeerAddress on both ends
	}{
		{listen: "tcp://127.0.0.1:*", resolvedHost: "127.0.0.1", dialHost: "127.0.0.1", peer: "127.0.0.1"},
		{listen: "tcp://127.0.0.1:0", resolvedHost: "127.0.0.1", dialHost: "127.0.0.1", peer: "127.0.0.1"},
		{listen: "tcp://*:0", resolvedHost: "0.0.0.0", dialHost: "127.0.0.1", peer: "127.0.0.1"},
		{listen: "tcp://*:*", resolvedHost: "0.0.0.0", dialHost: "127.0.0.1", peer: "127.0.0.1"},
		{listen: "tcp://[::1]:*", ipv6: true, resolvedHost: "[::1]", dialHost: "[::1]", peer: "::1"},
		{listen: "tcp://[::1]:0", ipv6: true, resolvedHost: "[::1]", dialHost: "[::1]", peer: "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			if tt.ipv6 {
				needIPv6Loopback(t)
			}
			ep, l := mustListen(t, tt.listen)
			res := Resolved(ep, l)
			prefix := "tcp://" + tt.resolvedHost + ":"
			if !strings.HasPrefix(res, prefix) {
				t.Fatalf("Resolved = %q, want prefix %q", res, prefix)
			}
			port, err := strconv.Atoi(strings.TrimPrefix(res, prefix))
			if err != nil || port <= 0 || port > 65535 {
				t.Fatalf("Resolved = %q: no real port", res)
			}
			if _, err := Parse(res); err != nil {
				t.Fatalf("Resolved %q does not parse: %v", res, err)
			}
			dialEP := mustParse(t, "tcp://"+tt.dialHost+":"+strconv.Itoa(port))
			sp, cp := exchange(t, l, dialEP)
			if sp != tt.peer || cp != tt.peer {
				t.Fatalf("PeerAddress server=%q client=%q, want %q", sp, cp, tt.peer)
			}
		})
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestTCPLocalhost(t *testing.T) {
	if _, err := net.DefaultResolver.LookupNetIP(testCtx(t), "ip", "localhost"); err != nil {
		t.Skipf("skipping: localhost does not resolve here: %v", err)
	}
	var (
		ep   Endpoint
		l    net.Listener
		port int
		err  error
	)
	for range 5 { // the free port may be taken between probe and bind
		port = freePort(t)
		ep = mustParse(t, "tcp://localhost:"+strconv.Itoa(port))
		l, err = Listen(testCtx(t), ep)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		t.Fatalf("Listen(%s): %v", ep, err)
	}
	t.Cleanup(func() { l.Close() })

	res := Resolved(ep, l)
	rep := mustParse(t, res)
	host, p, err := net.SplitHostPort(rep.Address)
	if err != nil || p != strconv.Itoa(port) {
		t.Fatalf("Resolved = %q, want port %d", res, port)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Fatalf("Resolved = %q, want a loopback address", res)
	}
	sp, cp := exchange(t, l, ep)
	if ip := net.ParseIP(sp); ip == nil || !ip.IsLoopback() || sp != cp {
		t.Fatalf("PeerAddress server=%q client=%q, want the same loopback address", sp, cp)
	}
}

func TestTCPAddressInUse(t *testing.T) {
	ep, l := mustListen(t, "tcp://127.0.0.1:*")
	again := mustParse(t, Resolved(ep, l))
	l2, err := Listen(testCtx(t), again)
	if err == nil {
		l2.Close()
		t.Fatalf("second Listen(%s) succeeded", again)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second Listen error %v, want EADDRINUSE", err)
	}
	if want := "transport: listen " + again.String() + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
}

func TestDialErrors(t *testing.T) {
	tests := []struct {
		ep   Endpoint
		want error
	}{
		{Endpoint{"tcp", "*:5555"}, ErrEndpoint},
		{Endpoint{"tcp", "127.0.0.1:*"}, ErrEndpoint},
		{Endpoint{"tcp", "127.0.0.1:0"}, ErrEndpoint},
		{Endpoint{"tcp", "127.0.0.1"}, ErrEndpoint},
		{Endpoint{"tcp", "a;127.0.0.1:1"}, ErrEndpoint},
		{Endpoint{"tcp", "127.0.0.2:0;127.0.0.1:*"}, ErrEndpoint},
		{Endpoint{"ipc", "*"}, ErrEndpoint},
		{Endpoint{"ipc", ""}, ErrEndpoint},
		{Endpoint{"inproc", "x"}, ErrUnsupportedTransport},
		{Endpoint{"pgm", "127.0.0.1:1"}, ErrUnsupportedTransport},
		{Endpoint{}, ErrEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.ep.String(), func(t *testing.T) {
			c, err := Dial(testCtx(t), tt.ep)
			if err == nil {
				c.Close()
				t.Fatalf("Dial(%s) succeeded", tt.ep)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Dial(%s) error %v, want %v", tt.ep, err, tt.want)
			}
			if want := "transport: dial " + tt.ep.String() + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %q, want prefix %q", err, want)
			}
		})
	}
}

func TestDialRefused(t *testing.T) {
	ep := mustParse(t, "tcp://127.0.0.1:"+strconv.Itoa(freePort(t)))
	c, err := Dial(testCtx(t), ep)
	if err == nil {
		c.Close()
		t.Skip("skipping: something started listening on the probed port")
	}
	if want := "transport: dial " + ep.String() + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("error %v does not wrap *net.OpError", err)
	}
}

func TestDialCanceled(t *testing.T) {
	ep, l := mustListen(t, "tcp://127.0.0.1:*")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := Dial(ctx, mustParse(t, Resolved(ep, l)))
	if err == nil {
		c.Close()
		t.Fatal("Dial with canceled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestListenErrors(t *testing.T) {
	tests := []struct {
		ep   Endpoint
		want error
	}{
		{Endpoint{"inproc", "x"}, ErrUnsupportedTransport},
		{Endpoint{"pgm", "127.0.0.1:1"}, ErrUnsupportedTransport},
		{Endpoint{"tcp", "127.0.0.1"}, ErrEndpoint},
		{Endpoint{"tcp", "[::1:1"}, ErrEndpoint},
		{Endpoint{"ipc", ""}, ErrEndpoint},
		{Endpoint{}, ErrEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.ep.String(), func(t *testing.T) {
			l, err := Listen(testCtx(t), tt.ep)
			if err == nil {
				l.Close()
				t.Fatalf("Listen(%s) succeeded", tt.ep)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Listen(%s) error %v, want %v", tt.ep, err, tt.want)
			}
			if want := "transport: listen " + tt.ep.String() + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %q, want prefix %q", err, want)
			}
		})
	}
}

func TestResolvedFallback(t *testing.T) {
	ep := Endpoint{"inproc", "x"}
	if got := Resolved(ep, nil); got != "inproc://x" {
		t.Fatalf("Resolved(nil listener) = %q", got)
	}
}

func TestPeerAddressNil(t *testing.T) {
	if got := PeerAddress(nil); got != "" {
		t.Fatalf("PeerAddress(nil) = %q", got)
	}
}

// requireAFUnix skips a test of ipc over a path where the system has no
// AF_UNIX sockets (Wine 8, Windows before 10 1803): nothing can be tested
// there but the error, which TestIPCWithoutAFUnix checks.
func requireAFUnix(t *testing.T) {
	t.Helper()
	l, err := net.Listen("unix", sockPath(t))
	if err == nil {
		l.Close()
		return
	}
	if afUnixMissing(err) {
		t.Skipf("AF_UNIX sockets are not available on this system (%v): ipc over a path cannot run here", err)
	}
}

// TestIPCWithoutAFUnix checks the errors where AF_UNIX is missing: Parse,
// Listen and Dial must say so, wrap ErrUnsupportedTransport and, on
// Windows, name the named-pipe form. Where AF_UNIX works there is nothing to
// check.
func TestIPCWithoutAFUnix(t *testing.T) {
	l, err := net.Listen("unix", sockPath(t))
	if err == nil {
		l.Close()
		if err := afUnixSupported(); err != nil {
			t.Fatalf("AF_UNIX works, but afUnixSupported() = %v", err)
		}
		return
	}
	if !afUnixMissing(err) {
		t.Fatalf("probe listen: %v", err)
	}
	if afUnixSupported() == nil {
		t.Fatalf("no AF_UNIX (%v), but afUnixSupported() = nil", err)
	}
	check := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "AF_UNIX not available") || !errors.Is(err, ErrUnsupportedTransport) {
			t.Fatalf("%s without AF_UNIX = %v, want an error saying AF_UNIX is not available", what, err)
		}
		if namedPipes && !strings.Contains(err.Error(), `ipc://\\.\pipe\NAME`) {
			t.Fatalf("%s without AF_UNIX = %v, want it to name the named-pipe form", what, err)
		}
	}
	for _, addr := range []string{sockPath(t), "*"} {
		_, err = Parse("ipc://" + addr)
		check("Parse", err)
		ep := Endpoint{"ipc", addr}
		_, err = Listen(testCtx(t), ep)
		check("Listen", err)
		if addr != "*" {
			_, err = Dial(testCtx(t), ep)
			check("Dial", err)
		}
	}
}

// sockPath returns a short unix socket path in a fresh directory. It is not
// under t.TempDir(), whose path holds the test's name: on macOS that can
// pass the 104-byte limit of a socket path.
func sockPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "azmq")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

func isSocket(t *testing.T, path string) bool {
	t.Helper()
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Type() == fs.ModeSocket
}

func assertGone(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s still exists after Close (err=%v)", path, err)
	}
}

func TestIPCRoundTrip(t *testing.T) {
	requireAFUnix(t)
	path := sockPath(t)
	ep, l := mustListen(t, "ipc://"+path)
	if got, want := Resolved(ep, l), "ipc://"+path; got != want {
		t.Fatalf("Resolved = %q, want %q", got, want)
	}
	if !isSocket(t, path) {
		t.Fatalf("no socket file at %s", path)
	}
	sp, cp := exchange(t, l, ep)
	if sp != "" || cp != "" {
		t.Fatalf("PeerAddress on unix sockets = %q, %q, want empty", sp, cp)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, path)
}

func TestIPCWildcard(t *testing.T) {
	requireAFUnix(t)
	ep, l := mustListen(t, "ipc://*")
	res := Resolved(ep, l)
	prefix := "ipc://" + os.TempDir()
	if !strings.HasPrefix(res, prefix) || res == "ipc://*" {
		t.Fatalf("Resolved = %q, want a path under %q", res, os.TempDir())
	}
	path := strings.TrimPrefix(res, "ipc://")
	if !isSocket(t, path) {
		t.Fatalf("no socket file at %s", path)
	}
	exchange(t, l, mustParse(t, res))

	// A second wildcard bind gets a different path.
	ep2, l2 := mustListen(t, "ipc://*")
	if res2 := Resolved(ep2, l2); res2 == res {
		t.Fatalf("two ipc://* listeners share %q", res)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, path)
}

func TestIPCStaleSocketRemoved(t *testing.T) {
	requireAFUnix(t)
	path := sockPath(t)
	// Leave a socket file behind, as a process that died would.
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	if !isSocket(t, path) {
		t.Fatalf("setup: no stale socket at %s", path)
	}

	ep, l := mustListen(t, "ipc://"+path)
	exchange(t, l, ep)
	l.Close()
	assertGone(t, path)
}

func TestIPCLiveSocketInUse(t *testing.T) {
	requireAFUnix(t)
	path := sockPath(t)
	ep, l := mustListen(t, "ipc://"+path)

	l2, err := Listen(testCtx(t), ep)
	if err == nil {
		l2.Close()
		t.Fatalf("second Listen(%s) succeeded", ep)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second Listen error %v, want EADDRINUSE", err)
	}
	if want := "transport: listen " + ep.String() + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}

	// The liveness probe left one connection queued; it must be closed.
	ul := l.(*net.UnixListener)
	ul.SetDeadline(time.Now().Add(testTimeout))
	probe, err := ul.Accept()
	if err != nil {
		t.Fatalf("accepting probe: %v", err)
	}
	probe.SetDeadline(time.Now().Add(testTimeout))
	if n, err := probe.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("probe read = %d, %v; want EOF", n, err)
	}
	probe.Close()
	ul.SetDeadline(time.Time{})

	// The original listener is untouched.
	if !isSocket(t, path) {
		t.Fatalf("socket file %s was removed", path)
	}
	exchange(t, l, ep)
	l.Close()
	assertGone(t, path)
}

func TestIPCNotASocketKept(t *testing.T) {
	requireAFUnix(t)
	path := sockPath(t)
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Listen(testCtx(t), mustParse(t, "ipc://"+path))
	if err == nil {
		l.Close()
		t.Fatal("Listen over a regular file succeeded")
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("error %v, want EADDRINUSE", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Fatalf("regular file was touched: %q, %v", b, err)
	}
}

func TestIPCDialMissing(t *testing.T) {
	requireAFUnix(t)
	ep := mustParse(t, "ipc://"+sockPath(t))
	c, err := Dial(testCtx(t), ep)
	if err == nil {
		c.Close()
		t.Fatal("Dial to a missing socket succeeded")
	}
	if want := "transport: dial " + ep.String() + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
}
