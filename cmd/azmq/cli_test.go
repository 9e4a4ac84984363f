package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	azmqpkg "github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/cmdtest"
	"github.com/azmq/azmq/internal/selfcert"
	"github.com/azmq/azmq/internal/udptest"
)

// The tool is built once for the tests of this file (TestTool, in
// main_test.go, builds its own).
var azmqCmd = cmdtest.New("azmq")

func TestMain(m *testing.M) {
	code := m.Run()
	azmqCmd.Remove()
	os.Exit(code)
}

// tool returns the path of the azmq binary, building it the first time.
func tool(t *testing.T) string { return azmqCmd.Path(t) }

// testTimeout bounds each test's processes.
const testTimeout = 15 * time.Second

type lockedBuf = cmdtest.LockedBuf

// proc is a running process: azmq or a peer.
type proc struct {
	t              *testing.T
	name           string
	cmd            *exec.Cmd
	stdout, stderr lockedBuf
	exited         chan struct{}
	code           int
}

// start runs exe with args, feeding it stdin (nil: no input). The process
// is killed at the end of the test if it is still running.
func start(t *testing.T, stdin io.Reader, exe string, args ...string) *proc {
	t.Helper()
	return startEnv(t, stdin, nil, exe, args...)
}

// startEnv is start with env (KEY=VALUE) added to the test's environment,
// from which $AZMQ_PLAIN_PASSWORD is removed: the tests must not depend
// on the environment they run in.
func startEnv(t *testing.T, stdin io.Reader, env []string, exe string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: filepath.Base(exe) + " " + strings.Join(args, " "), exited: make(chan struct{})}
	var err error
	p.cmd, err = cmdtest.Start(func() *exec.Cmd {
		cmd := exec.Command(exe, args...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, plainPasswordEnv+"=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, env...)
		cmd.Stdin = stdin
		cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
		return cmd
	})
	if err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		case err != nil:
			p.code = -1
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// spawn starts the tool.
func spawn(t *testing.T, stdin string, args ...string) *proc {
	t.Helper()
	var in io.Reader
	if stdin != "" {
		in = strings.NewReader(stdin)
	}
	return start(t, in, tool(t), args...)
}

// value waits for a "key=value" line on stderr and returns the value.
func (p *proc) value(key string) string {
	p.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		for line := range strings.SplitSeq(p.stderr.String(), "\n") {
			if v, ok := strings.CutPrefix(line, key+"="); ok {
				return strings.TrimSpace(v)
			}
		}
		select {
		case <-p.exited:
			p.t.Fatalf("%s exited (%d) without printing %s=; stderr %q", p.name, p.code, key, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	p.t.Fatalf("%s printed no %s= in %v; stderr %q", p.name, key, testTimeout, p.stderr.String())
	return ""
}

// wait waits for the process to exit and returns its exit status.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(testTimeout):
		p.cmd.Process.Kill()
		<-p.exited
		p.t.Fatalf("%s did not exit within %v; stdout %q, stderr %q", p.name, testTimeout, p.stdout.String(), p.stderr.String())
		return -1
	}
}

// expect waits for the process and checks its exit status.
func (p *proc) expect(code int) {
	p.t.Helper()
	if got := p.wait(); got != code {
		p.t.Fatalf("%s: exit %d, want %d; stdout %q, stderr %q", p.name, got, code, p.stdout.String(), p.stderr.String())
	}
}

// run runs the tool to its end.
func run1(t *testing.T, stdin string, args ...string) *proc {
	t.Helper()
	p := spawn(t, stdin, args...)
	p.wait()
	return p
}

// interrupt sends SIGINT, as Ctrl-C does.
func (p *proc) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatalf("interrupt %s: %v", p.name, err)
	}
}

// oneLine checks that a failed command said why in one line (besides
// the endpoint=... lines).
func oneLine(t *testing.T, p *proc, contains string) {
	t.Helper()
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSpace(p.stderr.String()), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && !strings.Contains(k, " ") {
			continue
		}
		lines = append(lines, line)
	}
	msg := strings.Join(lines, "\n")
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "azmq: ") || !strings.Contains(msg, contains) {
		t.Errorf("%s: want a one-line error mentioning %q, got %q", p.name, contains, msg)
	}
}

func TestCLIHelp(t *testing.T) {
	t.Parallel()
	p := run1(t, "", "--help")
	for _, cmd := range []string{"azmq send", "azmq recv", "azmq proxy", "azmq monitor"} {
		if !strings.Contains(p.stdout.String(), cmd) {
			t.Errorf("--help does not mention %s", cmd)
		}
	}
	for _, cmd := range []string{"send", "recv", "proxy", "monitor"} {
		for _, h := range []string{"--help", "-h"} {
			p := run1(t, "", cmd, h)
			if p.code != 0 || !strings.Contains(p.stdout.String(), "Examples:") || !strings.Contains(p.stdout.String(), "azmq "+cmd) {
				t.Errorf("azmq %s %s: exit %d, stdout %q", cmd, h, p.code, p.stdout.String())
			}
		}
	}
}

func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"send", "--nosuchflag"},
		{"send", "hello"}, // no endpoint
		{"send", "--type", "BOGUS", "--connect", "tcp://127.0.0.1:1", "x"},
		{"send", "--type", "SUB", "--connect", "tcp://127.0.0.1:1", "x"},
		{"send", "--connect", "tcp://127.0.0.1:1", "-n", "0", "x"},
		{"send", "--format", "xml", "--connect", "tcp://127.0.0.1:1", "x"},
		{"send", "--format", "hex", "--connect", "tcp://127.0.0.1:1", "zz"},
		{"send", "--plain-user", "u", "--connect", "tcp://127.0.0.1:1", "x"},
		{"send", "--plain-user", "u", "--plain-password", "p", "--curve-server-public", "k", "--connect", "tcp://127.0.0.1:1", "x"},
		{"send", "--plain-user", "u", "--plain-password", "p", "--plain-password-file", "f", "--connect", "tcp://127.0.0.1:1", "x"},
		{"recv", "--plain-server", "--plain-user", "u", "--bind", "tcp://127.0.0.1:*"},
		{"send", "--delay", "soon", "--connect", "tcp://127.0.0.1:1", "x"},
		{"recv", "--type", "PUB", "--bind", "tcp://127.0.0.1:*"},
		{"recv", "--type", "REP", "--bind", "tcp://127.0.0.1:*"},
		{"recv", "--subscribe", "x", "--bind", "tcp://127.0.0.1:*"},
		{"recv", "--timeout", "fast", "--bind", "tcp://127.0.0.1:*"},
		{"recv", "stray", "--bind", "tcp://127.0.0.1:*"},
		{"proxy", "tcp://127.0.0.1:*"},
		{"proxy", "--type", "bus", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"},
		{"proxy", "--secure", "sideways", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"},
		{"proxy", "--plain-user", "u", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"},
		{"send", "--metadata", "X-no-value", "--connect", "tcp://127.0.0.1:1", "x"},
		{"send", "--keepalive", "sometimes", "--connect", "tcp://127.0.0.1:1", "x"},
		{"monitor"},
		{"monitor", "--format", "xml", "tcp://127.0.0.1:1"},
		{"send", "--curve-keyfile", "k", "--curve-server-secret", "s", "--connect", "tcp://127.0.0.1:1", "x"},
		{"send", "--curve-keyfile", "k", "--curve-server-public", "p", "--curve-client-secret", "s", "--connect", "tcp://127.0.0.1:1", "x"},
		{"recv", "--curve-server-secret", "s", "--curve-server-public", "p", "--bind", "tcp://127.0.0.1:*"},
	} {
		p := run1(t, "", args...)
		if p.code != 2 {
			t.Errorf("azmq %s: exit %d, want 2; stderr %q", strings.Join(args, " "), p.code, p.stderr.String())
			continue
		}
		// The line points at the subcommand's own help.
		oneLine(t, p, "usage: see 'azmq "+args[0]+" --help'")
	}
}

func TestCLIRuntimeErrors(t *testing.T) {
	t.Parallel()
	p := run1(t, "", "send", "--connect", "nosuch://x", "hi")
	if p.code != 1 {
		t.Errorf("bad endpoint: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	oneLine(t, p, "nosuch")

	p = run1(t, "", "recv", "--bind", "tcp://127.0.0.1:99999")
	if p.code != 1 {
		t.Errorf("bad port: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	oneLine(t, p, "99999")

	// Address in use.
	holder := spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*")
	ep := holder.value("endpoint")
	p = run1(t, "", "recv", "--bind", ep)
	if p.code != 1 {
		t.Errorf("address in use: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	if runtime.GOOS == "windows" {
		oneLine(t, p, ep) // Windows says it in its own words
	} else {
		oneLine(t, p, "in use")
	}
	p = run1(t, "", "proxy", ep, "tcp://127.0.0.1:*")
	if p.code != 1 {
		t.Errorf("proxy, address in use: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	oneLine(t, p, "frontend")

	// Bad keys, missing key files.
	p = run1(t, "", "send", "--curve-server-public", "tooshort", "--connect", ep, "x")
	if p.code != 1 {
		t.Errorf("bad key: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	oneLine(t, p, "40")
	p = run1(t, "", "recv", "--curve-keyfile", filepath.Join(t.TempDir(), "missing.key"), "--bind", "tcp://127.0.0.1:*")
	if p.code != 1 {
		t.Errorf("missing key file: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	oneLine(t, p, "missing.key")
}

func TestCLIPushPull(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*", "-n", "3", "--format", "json")
	ep := r.value("endpoint")
	spawn(t, "", "send", "--connect", ep, "hello", "world").expect(0)
	spawn(t, "", "send", "--format", "hex", "--connect", ep, "00ff", "6869").expect(0)
	spawn(t, "", "send", "--connect", ep, "--", "-dash", "base64:x").expect(0)
	r.expect(0)
	want := `["hello","world"]` + "\n" + `["base64:AP8=","hi"]` + "\n" + `["-dash","base64:YmFzZTY0Ong="]` + "\n"
	if got := r.stdout.String(); got != want {
		t.Errorf("recv printed %q, want %q", got, want)
	}
}

func TestCLIReqRepEcho(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "REP", "--echo", "--bind", "tcp://127.0.0.1:*", "-n", "2")
	ep := r.value("endpoint")
	s := spawn(t, "", "send", "--type", "REQ", "--connect", ep, "-n", "2", "ping", "two")
	s.expect(0)
	r.expect(0)
	if got := s.stdout.String(); got != "ping two\nping two\n" {
		t.Errorf("REQ printed %q, want the reply twice", got)
	}
	if got := r.stdout.String(); got != "ping two\nping two\n" {
		t.Errorf("REP printed %q", got)
	}
}

func TestCLIDealerRouter(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "ROUTER", "--echo", "--bind", "tcp://127.0.0.1:*", "-n", "1")
	ep := r.value("endpoint")
	s := spawn(t, "", "send", "--type", "DEALER", "--reply", "--routing-id", "me", "--connect", ep, "hi")
	s.expect(0)
	r.expect(0)
	if got := s.stdout.String(); got != "hi\n" {
		t.Errorf("DEALER printed %q", got)
	}
	if got := r.stdout.String(); got != "me hi\n" {
		t.Errorf("ROUTER printed %q, want the routing id then the frame", got)
	}

	// A ROUTER sends to a peer by routing id, waiting for it to connect.
	s = spawn(t, "", "send", "--type", "ROUTER", "--bind", "tcp://127.0.0.1:*", "peer1", "for you")
	ep = s.value("endpoint")
	r = spawn(t, "", "recv", "--type", "DEALER", "--routing-id", "peer1", "--connect", ep, "-n", "1")
	r.expect(0)
	s.expect(0)
	if got := r.stdout.String(); got != "for you\n" {
		t.Errorf("DEALER got %q", got)
	}
}

func TestCLISubscribe(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "SUB", "--subscribe", "A", "--bind", "tcp://127.0.0.1:*", "-n", "2")
	ep := r.value("endpoint")
	spawn(t, "B skipped\nA one\nBA skipped\nA two\n", "send", "--type", "PUB", "--connect", ep, "--delim", " ").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "A one\nA two\n" {
		t.Errorf("SUB printed %q, want only the A messages", got)
	}
}

func TestCLIStdinModes(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*", "-n", "6", "--format", "json")
	ep := r.value("endpoint")
	// One frame a line (no --delim), then frames split by --delim.
	spawn(t, "one line, one frame\n", "send", "--connect", ep).expect(0)
	spawn(t, "a|b|\nc\n", "send", "--connect", ep, "--delim", "|").expect(0)
	// One frame a line, a blank line between messages.
	spawn(t, "x\ny\n\nz\n", "send", "--connect", ep, "--frame-per-line").expect(0)
	// JSON lines, with base64 for binary frames.
	spawn(t, "[\"j\",\"base64:/wA=\"]\n", "send", "--connect", ep, "--format", "json").expect(0)
	r.expect(0)
	want := strings.Join([]string{
		`["one line, one frame"]`, `["a","b",""]`, `["c"]`, `["x","y"]`, `["z"]`, `["j","base64:/wA="]`,
	}, "\n") + "\n"
	if got := r.stdout.String(); got != want {
		t.Errorf("recv printed\n%s\nwant\n%s", got, want)
	}

	// hex and frame-per-line output.
	r = spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*", "-n", "1", "--format", "hex")
	ep = r.value("endpoint")
	spawn(t, "", "send", "--connect", ep, "AB", "").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "4142 \n" {
		t.Errorf("hex: %q", got)
	}
	r = spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*", "-n", "1", "--frame-per-line")
	ep = r.value("endpoint")
	spawn(t, "", "send", "--connect", ep, "A", "B\x01").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "A\n0x4201\n\n" {
		t.Errorf("frame per line: %q", got)
	}
}

func TestCLITimeout(t *testing.T) {
	t.Parallel()
	start := time.Now()
	p := run1(t, "", "recv", "--bind", "tcp://127.0.0.1:*", "-n", "1", "--timeout", "300ms")
	if p.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	oneLine(t, p, "timed out after 300ms")

	// Nobody to send to.
	p = run1(t, "", "send", "--connect", "tcp://127.0.0.1:1", "--timeout", "300ms", "x")
	if p.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	oneLine(t, p, "timed out")

	// An open-ended recv just stops.
	p = run1(t, "", "recv", "--bind", "tcp://127.0.0.1:*", "--timeout", "200ms")
	if p.code != 0 {
		t.Errorf("recv without -n, --timeout: exit %d, want 0; stderr %q", p.code, p.stderr.String())
	}
}

func TestCLIInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGINT cannot be sent to a process on Windows")
	}
	t.Parallel()
	r := spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*")
	r.value("endpoint")
	r.interrupt()
	r.expect(0)

	r = spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*", "-n", "5")
	r.value("endpoint")
	r.interrupt()
	r.expect(1)
	oneLine(t, r, "interrupted")
}

// keygen writes a key pair file made by "azmq keygen".
func keygenFile(t *testing.T, name string) string {
	t.Helper()
	p := run1(t, "", "keygen")
	if p.code != 0 {
		t.Fatalf("keygen: exit %d", p.code)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(p.stdout.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLICurve(t *testing.T) {
	t.Parallel()
	server, client, other := keygenFile(t, "server.key"), keygenFile(t, "client.key"), keygenFile(t, "other.key")
	r := spawn(t, "", "recv", "--curve-keyfile", server, "--curve-allow", "@"+client, "--bind", "tcp://127.0.0.1:*", "-n", "1")
	ep := r.value("endpoint")
	// A client whose key is not allowed, and one that has the wrong server key.
	p := run1(t, "", "send", "--curve-server-public", "@"+server, "--curve-keyfile", other, "--connect", ep, "--timeout", "500ms", "denied")
	if p.code != 1 {
		t.Errorf("a client not allowed: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	p = run1(t, "", "send", "--curve-server-public", "@"+client, "--curve-keyfile", client, "--connect", ep, "--timeout", "500ms", "wrong")
	if p.code != 1 {
		t.Errorf("a wrong server key: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	spawn(t, "", "send", "--curve-server-public", "@"+server, "--curve-keyfile", client, "--connect", ep, "--timeout", "5s", "secret").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "secret\n" {
		t.Errorf("recv printed %q", got)
	}

	// Keys given as Z85 text, and a client with a fresh key pair.
	r = spawn(t, "", "recv", "--curve-server-secret", "@"+server, "--bind", "tcp://127.0.0.1:*", "-n", "1")
	ep = r.value("endpoint")
	data, _ := os.ReadFile(server)
	pub := strings.Split(string(data), "\n")[1]
	spawn(t, "", "send", "--curve-server-public", pub, "--connect", ep, "--timeout", "5s", "fresh").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "fresh\n" {
		t.Errorf("recv printed %q", got)
	}
}

func TestCLIPlain(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--plain-server", "--plain-user", "admin", "--plain-password", "s3cret", "--bind", "tcp://127.0.0.1:*", "-n", "1")
	ep := r.value("endpoint")
	p := run1(t, "", "send", "--plain-user", "admin", "--plain-password", "guess", "--connect", ep, "--timeout", "500ms", "no")
	if p.code != 1 {
		t.Errorf("a wrong password: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	spawn(t, "", "send", "--plain-user", "admin", "--plain-password", "s3cret", "--connect", ep, "yes").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "yes\n" {
		t.Errorf("recv printed %q", got)
	}
}

// The PLAIN password may come from a file or from $AZMQ_PLAIN_PASSWORD,
// where other users cannot read it; a flag wins over the variable.
func TestCLIPlainPasswordSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	lf, crlf, wrong := file("lf", "s3cret\n"), file("crlf", "s3cret\r\n"), file("wrong", "guess\n")
	r := spawn(t, "", "recv", "--plain-server", "--plain-user", "admin", "--plain-password-file", lf, "--bind", "tcp://127.0.0.1:*", "-n", "3")
	ep := r.value("endpoint")
	send := func(env []string, args ...string) *proc {
		t.Helper()
		args = append([]string{"send", "--plain-user", "admin", "--connect", ep, "--timeout", "5s"}, args...)
		return startEnv(t, nil, env, tool(t), args...)
	}
	send([]string{plainPasswordEnv + "=s3cret"}, "from-env").expect(0)
	send(nil, "--plain-password-file", crlf, "from-crlf-file").expect(0)
	send([]string{plainPasswordEnv + "=guess"}, "--plain-password-file", lf, "file-over-env").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "from-env\nfrom-crlf-file\nfile-over-env\n" {
		t.Errorf("recv printed %q", got)
	}

	// Wrong passwords from either source are refused.
	r = spawn(t, "", "recv", "--plain-server", "--plain-user", "admin", "--plain-password-file", lf, "--bind", "tcp://127.0.0.1:*", "-n", "1")
	ep = r.value("endpoint") // r is killed when the test ends
	for _, p := range []*proc{
		send([]string{plainPasswordEnv + "=guess"}, "--timeout", "500ms", "no"),
		send(nil, "--plain-password-file", wrong, "--timeout", "500ms", "no"),
	} {
		if code := p.wait(); code != 1 {
			t.Errorf("%s: exit %d, want 1; stderr %q", p.name, code, p.stderr.String())
		}
	}
	select {
	case <-r.exited:
		t.Errorf("recv exited: it admitted a wrong password? stdout %q", r.stdout.String())
	default:
	}
}

func TestCLIProxy(t *testing.T) {
	t.Parallel()
	px := spawn(t, "", "proxy", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--capture", "tcp://127.0.0.1:*")
	fe, be, ce := px.value("frontend"), px.value("backend"), px.value("capture")
	watch := spawn(t, "", "recv", "--type", "SUB", "--connect", ce, "-n", "1", "--format", "json", "--timeout", "10s")
	worker := spawn(t, "", "recv", "--type", "REP", "--echo", "--connect", be, "-n", "20")
	// PUB drops what goes out before its subscriber is there: give the
	// capture's subscriber a moment, and send a few messages.
	time.Sleep(300 * time.Millisecond)
	client := spawn(t, "", "send", "--type", "REQ", "--connect", fe, "-n", "20", "via", "proxy")
	client.expect(0)
	worker.expect(0)
	if got := client.stdout.String(); got != strings.Repeat("via proxy\n", 20) {
		t.Errorf("client printed %q", got)
	}
	// The capture sees each message whole, with the routing envelope.
	watch.expect(0)
	if w := watch.stdout.String(); !strings.HasSuffix(w, `,"","via","proxy"]`+"\n") {
		t.Errorf("capture printed %q", w)
	}
	if runtime.GOOS != "windows" {
		px.interrupt()
		px.expect(0)
	}
}

func TestCLIProxyStreamer(t *testing.T) {
	t.Parallel()
	px := spawn(t, "", "proxy", "--type", "streamer", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--timeout", "10s")
	fe, be := px.value("frontend"), px.value("backend")
	r := spawn(t, "", "recv", "--connect", be, "-n", "3")
	spawn(t, "1\n2\n3\n", "send", "--connect", fe).expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "1\n2\n3\n" {
		t.Errorf("recv printed %q", got)
	}
}

// TestCLIProxySecure: a queue proxy whose frontend is a CURVE server
// admitting one client key, and whose backend speaks NULL to its worker.
func TestCLIProxySecure(t *testing.T) {
	t.Parallel()
	server, client, other := keygenFile(t, "server.key"), keygenFile(t, "client.key"), keygenFile(t, "other.key")
	px := spawn(t, "", "proxy", "--type", "streamer", "--secure", "frontend", "--curve-keyfile", server,
		"--curve-allow", "@"+client, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--timeout", "10s")
	fe, be := px.value("frontend"), px.value("backend")
	r := spawn(t, "", "recv", "--connect", be, "-n", "1")
	p := run1(t, "", "send", "--connect", fe, "--timeout", "500ms", "in clear")
	if p.code != 1 {
		t.Errorf("a NULL client of the CURVE frontend: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	p = run1(t, "", "send", "--curve-server-public", "@"+server, "--curve-keyfile", other, "--connect", fe, "--timeout", "500ms", "denied")
	if p.code != 1 {
		t.Errorf("a CURVE client not allowed: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	spawn(t, "", "send", "--curve-server-public", "@"+server, "--curve-keyfile", client, "--connect", fe, "--timeout", "5s", "through").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "through\n" {
		t.Errorf("the NULL worker behind the proxy printed %q", got)
	}
}

// TestCLIMetadata: --metadata properties reach the peer.
func TestCLIMetadata(t *testing.T) {
	t.Parallel()
	z := azmqpkg.NewContext()
	defer z.Close()
	pull, err := z.NewSocket(azmqpkg.PULL)
	if err != nil {
		t.Fatal(err)
	}
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	spawn(t, "", "send", "--metadata", "X-Service=billing", "--metadata", "X-Zone=eu=west", "--connect", pull.LastEndpoint(), "m").expect(0)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	m, err := pull.RecvMsg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"X-Service": "billing", "X-Zone": "eu=west"} {
		if v, ok := m.Property(name); !ok || v != want {
			t.Errorf("Property(%q) = %q, %v; want %q", name, v, ok, want)
		}
	}
	p := run1(t, "", "send", "--metadata", "Service=billing", "--connect", pull.LastEndpoint(), "m")
	if p.code != 1 || !strings.Contains(p.stderr.String(), `"X-"`) {
		t.Errorf("--metadata without X-: exit %d, stderr %q; want 1 and why", p.code, p.stderr.String())
	}
}

func TestCLIMonitor(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "ROUTER", "--bind", "tcp://127.0.0.1:*")
	ep := r.value("endpoint")
	m := run1(t, "", "monitor", ep, "--timeout", "700ms")
	if m.code != 0 {
		t.Fatalf("monitor: exit %d; stderr %q", m.code, m.stderr.String())
	}
	out := m.stdout.String()
	for _, ev := range []string{"event=Connected endpoint=" + ep, "event=HandshakeSucceeded endpoint=" + ep} {
		if !strings.Contains(out, ev) {
			t.Errorf("monitor printed %q, want a line with %q", out, ev)
		}
	}
	// A type the peer refuses shows as a failed handshake, in JSON here.
	m = run1(t, "", "monitor", "--type", "PUB", "--format", "json", ep, "--timeout", "700ms")
	var sawFailed bool
	for line := range strings.SplitSeq(strings.TrimSpace(m.stdout.String()), "\n") {
		var e struct{ Event, Endpoint, Error string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("monitor --format json printed %q: %v", line, err)
		}
		if e.Event == "HandshakeFailed" && e.Error != "" {
			sawFailed = true
		}
	}
	if !sawFailed {
		t.Errorf("PUB against ROUTER: no HandshakeFailed with a reason in %q", m.stdout.String())
	}
	// Bound: it sees the peer arrive, and with --stats counts what came
	// (one message of two frames, "x" and "yz").
	m = spawn(t, "", "monitor", "--bind", "--type", "PULL", "tcp://127.0.0.1:*", "--timeout", "3s", "--stats", "10s")
	mep := m.value("endpoint")
	spawn(t, "", "send", "--connect", mep, "x", "yz").expect(0)
	m.expect(0)
	for _, ev := range []string{"event=Listening", "event=Accepted", "event=HandshakeSucceeded",
		"event=Stats msgs_in=1 bytes_in=3 msgs_out=0 bytes_out=0 dropped=0 accepted=1 connected=0 reconnects=0 handshakes=1 handshake_failures=0 disconnects=1"} {
		if !strings.Contains(m.stdout.String(), ev) {
			t.Errorf("bound monitor printed %q, want %q", m.stdout.String(), ev)
		}
	}
}

// The libzmq peer: interop/peer.py run by Debian's python3 with pyzmq.
const pythonPath = "/usr/bin/python3"

func requirePyzmq(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the libzmq peer runs Debian's /usr/bin/python3, which Windows does not have")
	}
	peer, err := filepath.Abs(filepath.Join("..", "..", "interop", "peer.py"))
	if err == nil {
		_, err = os.Stat(peer)
	}
	if err == nil {
		var out []byte
		out, err = exec.Command(pythonPath, "-c", "import zmq").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%s cannot import zmq: %v %s", pythonPath, err, bytes.TrimSpace(out))
		}
	}
	if err != nil {
		if os.Getenv("AZMQ_INTEROP") == "1" {
			t.Fatalf("libzmq peer required (AZMQ_INTEROP=1): %v", err)
		}
		t.Skipf("libzmq peer unavailable, skipping: %v (apt-get install -y python3-zmq)", err)
	}
	return peer
}

// pyPeer runs peer.py with a spec and returns it with a reader of its
// JSON lines.
type pyPeer struct {
	*proc
	lines chan map[string]any
}

func startPeer(t *testing.T, peer string, spec map[string]any) *pyPeer {
	t.Helper()
	js, _ := json.Marshal(spec)
	pr, pw := io.Pipe()
	p := &pyPeer{lines: make(chan map[string]any, 16)}
	p.proc = &proc{t: t, name: "peer.py " + string(js), exited: make(chan struct{})}
	p.cmd = exec.Command(pythonPath, peer, string(js))
	p.cmd.Stdout, p.cmd.Stderr = pw, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines <- m
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		}
		pw.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// next waits for the peer's next line that has key.
func (p *pyPeer) next(key string) any {
	p.t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case m, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("peer ended before a %q line (exit %d); stderr %q", key, p.wait(), p.stderr.String())
			}
			if v, ok := m[key]; ok {
				return v
			}
		case <-timeout:
			p.t.Fatalf("no %q line from the peer in %v; stderr %q", key, testTimeout, p.stderr.String())
		}
	}
}

func TestCLIInteropLibzmq(t *testing.T) {
	peer := requirePyzmq(t)
	t.Parallel()

	t.Run("azmq send to libzmq PULL", func(t *testing.T) {
		t.Parallel()
		pull := startPeer(t, peer, map[string]any{
			"type": "PULL", "bind": []string{"tcp://127.0.0.1:*"},
			"steps": []map[string]any{{"op": "recv", "count": 2}},
		})
		ep := pull.next("ready").(string)
		spawn(t, "", "send", "--connect", ep, "-n", "2", "hello", "libzmq").expect(0)
		for range 2 {
			if got := fmt.Sprint(pull.next("msg")); got != "[68656c6c6f 6c69627a6d71]" {
				t.Errorf("libzmq got %s", got)
			}
		}
		pull.expect(0)
	})

	t.Run("libzmq PUSH to azmq recv", func(t *testing.T) {
		t.Parallel()
		r := spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*", "-n", "2", "--format", "hex")
		ep := r.value("endpoint")
		push := startPeer(t, peer, map[string]any{
			"type": "PUSH", "connect": []string{ep},
			"steps": []map[string]any{{"op": "send", "frames": []string{"00ff", "6869"}, "count": 2}},
		})
		r.expect(0)
		push.expect(0)
		if got := r.stdout.String(); got != "00ff 6869\n00ff 6869\n" {
			t.Errorf("azmq recv printed %q", got)
		}
	})

	t.Run("azmq proxy between azmq REQ and libzmq REP", func(t *testing.T) {
		t.Parallel()
		px := spawn(t, "", "proxy", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--timeout", "10s")
		fe, be := px.value("frontend"), px.value("backend")
		worker := startPeer(t, peer, map[string]any{
			"type": "REP", "connect": []string{be},
			"steps": []map[string]any{{"op": "echo", "count": 1}},
		})
		worker.next("ready")
		client := spawn(t, "", "send", "--type", "REQ", "--connect", fe, "--timeout", "10s", "through", "libzmq")
		client.expect(0)
		worker.expect(0)
		if got := client.stdout.String(); got != "through libzmq\n" {
			t.Errorf("REQ printed %q", got)
		}
	})

	t.Run("libzmq CURVE client to azmq recv", func(t *testing.T) {
		t.Parallel()
		server := keygenFile(t, "server.key")
		data, _ := os.ReadFile(server)
		lines := strings.Split(string(data), "\n")
		r := spawn(t, "", "recv", "--curve-keyfile", server, "--bind", "tcp://127.0.0.1:*", "-n", "1")
		ep := r.value("endpoint")
		cpub, csec := keyPairLines(t)
		push := startPeer(t, peer, map[string]any{
			"type": "PUSH", "connect": []string{ep},
			"options": map[string]any{"curve_serverkey": lines[1], "curve_publickey": cpub, "curve_secretkey": csec},
			"steps":   []map[string]any{{"op": "send", "frames": []string{"736563726574"}}},
		})
		r.expect(0)
		push.expect(0)
		if got := r.stdout.String(); got != "secret\n" {
			t.Errorf("azmq recv printed %q", got)
		}
	})
}

// keyPairLines returns a fresh key pair from "azmq keygen".
func keyPairLines(t *testing.T) (pub, sec string) {
	t.Helper()
	p := run1(t, "", "keygen")
	lines := strings.Split(p.stdout.String(), "\n")
	if p.code != 0 || len(lines) < 4 {
		t.Fatalf("keygen: exit %d, %q", p.code, p.stdout.String())
	}
	return lines[1], lines[3]
}

// The in-process helpers: codecs and flag parsing.
func TestCodecRoundTrip(t *testing.T) {
	msgs := [][][]byte{
		{[]byte("a"), []byte("b c"), {}},
		{{0, 1, 2}, []byte("base64:literal"), []byte("ünïcode")},
	}
	for _, c := range []codec{
		{format: fmtJSON}, {format: fmtHex}, {format: fmtHex, delim: ","},
		{format: fmtJSON, framePerLine: true},
	} {
		for _, m := range msgs {
			line := c.encode(m)
			ch := c.readMessages(context.Background(), strings.NewReader(line))
			in := <-ch
			if in.err != nil {
				t.Fatalf("%+v: %q: %v", c, line, in.err)
			}
			if fmt.Sprint(in.msg) != fmt.Sprint(m) {
				t.Errorf("%+v: %q came back as %q", c, m, in.msg)
			}
			for range ch {
			}
		}
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	fs := newFlagSet("x")
	typ := fs.String("type", "", "")
	n := fs.Int("n", 0, "")
	pos, err := parseFlags(fs, []string{"a", "--type", "SUB", "b", "-n", "3", "--", "-c", "--type"})
	if err != nil {
		t.Fatal(err)
	}
	if *typ != "SUB" || *n != 3 || strings.Join(pos, ",") != "a,b,-c,--type" {
		t.Errorf("type %q n %d pos %q", *typ, *n, pos)
	}
}

func TestKeyFlags(t *testing.T) {
	pub, sec, err := azmqpkg.NewCurveKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "k")
	os.WriteFile(path, []byte("== CURVE PUBLIC KEY ==\n"+pub+"\n== CURVE SECRET KEY ==\n"+sec+"\n"), 0o600)
	if k, err := keyValue("x", "@"+path, false); err != nil || k != pub {
		t.Errorf("@file public: %q, %v", k, err)
	}
	if k, err := keyValue("x", "@"+path, true); err != nil || k != sec {
		t.Errorf("@file secret: %q, %v", k, err)
	}
	// Z85 has @ in its alphabet: a key that starts with it is a key.
	for range 100000 {
		p, _, err := azmqpkg.NewCurveKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p, "@") {
			if k, err := keyValue("x", p, false); err != nil || k != p {
				t.Errorf("key %q read as %q, %v", p, k, err)
			}
			break
		}
	}

	for _, c := range []struct {
		f     secFlags
		usage bool // a usage error
		fail  bool // another error
	}{
		{f: secFlags{}},
		{f: secFlags{plainUser: "u", plainPass: "p"}},
		{f: secFlags{plainServer: true, plainUser: "u", plainPass: "p"}},
		{f: secFlags{plainServer: true}, usage: true},
		{f: secFlags{plainUser: "u"}, usage: true},
		{f: secFlags{curveKeyfile: path}},                                // server
		{f: secFlags{curveServerSecret: sec}},                            // server
		{f: secFlags{curveServerPublic: pub}},                            // client, fresh pair
		{f: secFlags{curveServerPublic: "@" + path, curveKeyfile: path}}, // client
		{f: secFlags{curveServerPublic: pub, curvePublic: pub}, usage: true},
		{f: secFlags{curvePublic: pub, curveSecret: sec}, usage: true},
		{f: secFlags{curveServerSecret: sec, curveServerPublic: pub}, usage: true},
		{f: secFlags{plainUser: "u", plainPass: "p", curveServerPublic: pub}, usage: true},
		{f: secFlags{curveKeyfile: path + ".missing"}, fail: true},
		{f: secFlags{curveServerSecret: sec, curveAllow: strList{"short"}}, fail: true},
	} {
		c.f.lookupEnv = noEnv
		_, _, err := c.f.options()
		var ue errUsage
		switch {
		case c.usage && !errors.As(err, &ue):
			t.Errorf("%+v: %v, want a usage error", c.f, err)
		case c.fail && (err == nil || errors.As(err, &ue)):
			t.Errorf("%+v: %v, want a runtime error", c.f, err)
		case !c.usage && !c.fail && err != nil:
			t.Errorf("%+v: %v", c.f, err)
		}
	}
}

func noEnv(string) (string, bool) { return "", false }

func TestPlainPasswordSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	lf := write("lf", "from-file\n")
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k == plainPasswordEnv {
				return v, true
			}
			return "", false
		}
	}
	for _, c := range []struct {
		name  string
		f     secFlags
		env   string
		want  string // the password; "" when an error is wanted
		usage bool
	}{
		{name: "flag", f: secFlags{plainPass: "p"}, want: "p"},
		{name: "file, newline trimmed", f: secFlags{plainPassFile: lf}, want: "from-file"},
		{name: "file, CRLF trimmed", f: secFlags{plainPassFile: write("crlf", "pw\r\n")}, want: "pw"},
		{name: "file, no newline", f: secFlags{plainPassFile: write("bare", "pw")}, want: "pw"},
		{name: "file, spaces kept", f: secFlags{plainPassFile: write("sp", " pw \n")}, want: " pw "},
		{name: "env", env: "from-env", want: "from-env"},
		{name: "flag over env", f: secFlags{plainPass: "p"}, env: "from-env", want: "p"},
		{name: "file over env", f: secFlags{plainPassFile: lf}, env: "from-env", want: "from-file"},
		{name: "none", want: ""},
		{name: "both flags", f: secFlags{plainPass: "p", plainPassFile: lf}, usage: true},
		{name: "missing file", f: secFlags{plainPassFile: filepath.Join(dir, "missing")}},
		{name: "empty file", f: secFlags{plainPassFile: write("empty", "\n")}},
		{name: "two lines", f: secFlags{plainPassFile: write("two", "a\nb\n")}},
		{name: "too long", f: secFlags{plainPassFile: write("long", strings.Repeat("x", 256))}},
	} {
		c.f.lookupEnv = env(c.env)
		if c.env == "" {
			c.f.lookupEnv = noEnv
		}
		got, err := c.f.plainPassword()
		var ue errUsage
		wantErr := c.want == "" && c.name != "none"
		switch {
		case wantErr && err == nil:
			t.Errorf("%s: %q, want an error", c.name, got)
		case wantErr && c.usage != errors.As(err, &ue):
			t.Errorf("%s: %v, usage error %v", c.name, err, c.usage)
		case !wantErr && (err != nil || got != c.want):
			t.Errorf("%s: %q, %v, want %q", c.name, got, err, c.want)
		}
	}

	// The password from the variable makes a working PLAIN socket, and
	// without --plain-user or --plain-server the variable is not used.
	f := secFlags{plainServer: true, plainUser: "u", lookupEnv: env("pw")}
	if _, h, err := f.options(); err != nil || h == nil {
		t.Fatalf("server with the password from the variable: %v", err)
	}
	f = secFlags{lookupEnv: env("pw")}
	if opts, h, err := f.options(); err != nil || opts != nil || h != nil {
		t.Fatalf("no PLAIN flag, the variable set: %v, %v, %v; want NULL security", opts, h, err)
	}
	f = secFlags{plainServer: true, plainUser: "u", lookupEnv: noEnv}
	var ue errUsage
	if _, _, err := f.options(); !errors.As(err, &ue) || !strings.Contains(err.Error(), plainPasswordEnv) {
		t.Fatalf("no password anywhere: %v, want a usage error naming the ways to give one", err)
	}
}

// The help says where a password is safe from other users.
func TestCLIHelpPlainPassword(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"send", "recv"} {
		p := run1(t, "", cmd, "--help")
		out := p.stdout.String()
		for _, want := range []string{"--plain-password-file", plainPasswordEnv, "visible to every user"} {
			if !strings.Contains(out, want) {
				t.Errorf("azmq %s --help does not mention %q", cmd, want)
			}
		}
	}
}

// The draft types: CLIENT and SERVER, RADIO and DISH, SCATTER and
// GATHER, CHANNEL, PEER.
func TestCLIClientServer(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "server", "--echo", "--bind", "tcp://127.0.0.1:*", "-n", "3", "--format", "json")
	ep := r.value("endpoint")
	s := spawn(t, "", "send", "--type", "CLIENT", "--reply", "--connect", ep, "-n", "2", "ping pong")
	s.expect(0)
	// A second CLIENT is a second connection: another routing id.
	s2 := spawn(t, "", "send", "--type", "Client", "--reply", "--connect", ep, "--format", "hex", "00ff")
	s2.expect(0)
	r.expect(0)
	if got := s.stdout.String(); got != "ping pong\nping pong\n" {
		t.Errorf("CLIENT printed %q, want the echo twice", got)
	}
	if got := s2.stdout.String(); got != "00ff\n" {
		t.Errorf("second CLIENT printed %q, want its echo in hex", got)
	}
	// The SERVER prints the routing id, a number, as the first frame.
	var ids []string
	var bodies []string
	for line := range strings.SplitSeq(strings.TrimSpace(r.stdout.String()), "\n") {
		var frames []string
		if err := json.Unmarshal([]byte(line), &frames); err != nil || len(frames) != 2 {
			t.Fatalf("SERVER printed %q, want [id, message] lines", r.stdout.String())
		}
		if n, err := strconv.ParseUint(frames[0], 10, 32); err != nil || n == 0 {
			t.Errorf("routing id %q: want a non-zero uint32", frames[0])
		}
		ids = append(ids, frames[0])
		bodies = append(bodies, frames[1])
	}
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] == ids[2] {
		t.Errorf("routing ids %q: want the first CLIENT's twice, then another", ids)
	}
	if want := []string{"ping pong", "ping pong", "base64:AP8="}; fmt.Sprint(bodies) != fmt.Sprint(want) {
		t.Errorf("SERVER got %q, want %q", bodies, want)
	}
}

func TestCLIRadioDish(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "DISH", "--join", "news", "--join", "sport", "--bind", "tcp://127.0.0.1:*", "-n", "3")
	ep := r.value("endpoint")
	// A group the DISH did not join goes nowhere; it is sent first, so
	// were it delivered, it would be the first line.
	spawn(t, "", "send", "--type", "RADIO", "--group", "weather", "--connect", ep, "sunny").expect(0)
	spawn(t, "", "send", "--type", "RADIO", "--group", "news", "--connect", ep, "extra extra").expect(0)
	spawn(t, "one\ntwo\n", "send", "--type", "radio", "--group", "sport", "--connect", ep).expect(0)
	r.expect(0)
	if got, want := r.stdout.String(), "news extra extra\nsport one\nsport two\n"; got != want {
		t.Errorf("DISH printed %q, want %q: the group, then the message", got, want)
	}
}

// Over udp a DISH binds and a RADIO connects; there is no connection to
// wait for, and a group the DISH did not join is dropped by the DISH.
func TestCLIRadioDishUDP(t *testing.T) {
	t.Parallel()
	udptest.Require(t)
	r := spawn(t, "", "recv", "--type", "DISH", "--join", "news", "--bind", "udp://127.0.0.1:*", "-n", "2", "--format", "json", "--timeout", "10s")
	ep := r.value("endpoint")
	if !strings.HasPrefix(ep, "udp://127.0.0.1:") || strings.HasSuffix(ep, ":*") {
		t.Fatalf("DISH bound %q, want udp://127.0.0.1:PORT", ep)
	}
	spawn(t, "", "send", "--type", "RADIO", "--group", "weather", "--connect", ep, "sunny").expect(0)
	spawn(t, "", "send", "--type", "RADIO", "--group", "news", "--connect", ep, "-n", "2", "by datagram").expect(0)
	r.expect(0)
	if got, want := r.stdout.String(), `["news","by datagram"]`+"\n"+`["news","by datagram"]`+"\n"; got != want {
		t.Errorf("DISH printed %q, want %q", got, want)
	}
}

func TestCLIScatterGather(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "GATHER", "--bind", "tcp://127.0.0.1:*", "-n", "3", "--format", "hex")
	ep := r.value("endpoint")
	spawn(t, "a\nb\n", "send", "--type", "SCATTER", "--connect", ep).expect(0)
	spawn(t, "", "send", "--type", "SCATTER", "--connect", ep, "c").expect(0)
	r.expect(0)
	if got := r.stdout.String(); got != "61\n62\n63\n" {
		t.Errorf("GATHER printed %q", got)
	}
}

func TestCLIChannel(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "CHANNEL", "--echo", "--bind", "tcp://127.0.0.1:*", "-n", "2")
	ep := r.value("endpoint")
	s := spawn(t, "x\ny\n", "send", "--type", "CHANNEL", "--reply", "--connect", ep)
	s.expect(0)
	r.expect(0)
	if got := s.stdout.String(); got != "x\ny\n" {
		t.Errorf("sending CHANNEL printed %q, want the echoes", got)
	}
	if got := r.stdout.String(); got != "x\ny\n" {
		t.Errorf("echoing CHANNEL printed %q", got)
	}
}

func TestCLIPeer(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "PEER", "--echo", "--bind", "tcp://127.0.0.1:*", "-n", "1")
	ep := r.value("endpoint")
	s := spawn(t, "", "send", "--type", "PEER", "--reply", "--connect", ep, "hi peer")
	s.expect(0)
	r.expect(0)
	if got := s.stdout.String(); got != "hi peer\n" {
		t.Errorf("sending PEER printed %q", got)
	}
	id, body, _ := strings.Cut(strings.TrimSuffix(r.stdout.String(), "\n"), " ")
	if n, err := strconv.ParseUint(id, 10, 32); err != nil || n == 0 || body != "hi peer" {
		t.Errorf("echoing PEER printed %q, want a routing id, then the message", r.stdout.String())
	}
}

// Usage errors of the draft types: exit 2, and one line that says why.
func TestCLIDraftUsageErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("g", 256)
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"send", "--type", "RADIO", "--connect", "tcp://127.0.0.1:1", "x"}, "give --group"},
		{[]string{"send", "--type", "PUSH", "--group", "g", "--connect", "tcp://127.0.0.1:1", "x"}, "--group is for RADIO"},
		{[]string{"send", "--type", "RADIO", "--group", long, "--connect", "tcp://127.0.0.1:1", "x"}, "at most 255"},
		{[]string{"send", "--type", "CLIENT", "--connect", "tcp://127.0.0.1:1", "a", "b"}, "a CLIENT message is one frame"},
		{[]string{"send", "--type", "RADIO", "--group", "g", "--connect", "tcp://127.0.0.1:1", "a", "b"}, "a RADIO message is one frame"},
		{[]string{"send", "--type", "SERVER", "--bind", "tcp://127.0.0.1:*", "x"}, "recv --type SERVER --echo"},
		{[]string{"send", "--type", "PEER", "--bind", "tcp://127.0.0.1:*", "x"}, "one --connect"},
		{[]string{"send", "--type", "DISH", "--connect", "tcp://127.0.0.1:1", "x"}, "cannot send"},
		{[]string{"send", "--type", "GATHER", "--connect", "tcp://127.0.0.1:1", "x"}, "cannot send"},
		{[]string{"send", "--type", "SCATTER", "--reply", "--connect", "tcp://127.0.0.1:1", "x"}, "--reply is for"},
		{[]string{"send", "--type", "NOPE", "--connect", "tcp://127.0.0.1:1", "x"}, "SERVER CLIENT RADIO DISH SCATTER GATHER PEER CHANNEL"},
		{[]string{"recv", "--type", "DISH", "--bind", "tcp://127.0.0.1:*"}, "give --join"},
		{[]string{"recv", "--type", "DISH", "--join", "a", "--join", "a", "--bind", "tcp://127.0.0.1:*"}, "twice"},
		{[]string{"recv", "--type", "DISH", "--join", long, "--bind", "tcp://127.0.0.1:*"}, "at most 255"},
		{[]string{"recv", "--join", "a", "--bind", "tcp://127.0.0.1:*"}, "--join is for DISH"},
		{[]string{"recv", "--type", "RADIO", "--bind", "tcp://127.0.0.1:*"}, "cannot receive"},
		{[]string{"recv", "--type", "SCATTER", "--bind", "tcp://127.0.0.1:*"}, "cannot receive"},
		{[]string{"recv", "--type", "GATHER", "--echo", "--bind", "tcp://127.0.0.1:*"}, "cannot send"},
		{[]string{"recv", "--type", "nope", "--bind", "tcp://127.0.0.1:*"}, "unknown socket type"},
		{[]string{"send", "--type", "STREAM", "--connect", "tcp://127.0.0.1:1", "id", "data"}, "one frame of data"},
		{[]string{"send", "--type", "STREAM", "--connect", "tcp://127.0.0.1:1", ""}, "would close"},
		{[]string{"send", "--type", "STREAM", "--curve-server-public", "k", "--connect", "tcp://127.0.0.1:1", "x"}, "raw bytes"},
		{[]string{"recv", "--type", "STREAM", "--plain-server", "--bind", "tcp://127.0.0.1:*"}, "raw bytes"},
	} {
		p := run1(t, "", c.args...)
		if p.code != 2 {
			t.Errorf("azmq %s: exit %d, want 2; stderr %q", strings.Join(c.args, " "), p.code, p.stderr.String())
			continue
		}
		oneLine(t, p, c.says)
	}

	// A message of several frames is refused before any socket is made:
	// binding an endpoint in use would fail with exit 1.
	holder := spawn(t, "", "recv", "--bind", "tcp://127.0.0.1:*")
	ep := holder.value("endpoint")
	p := run1(t, "", "send", "--type", "CHANNEL", "--bind", ep, "a", "b")
	if p.code != 2 || strings.Contains(p.stderr.String(), "endpoint=") {
		t.Errorf("multipart CHANNEL on a busy endpoint: exit %d, stderr %q; want a usage error before any bind", p.code, p.stderr.String())
	}
	oneLine(t, p, "a CHANNEL message is one frame")
	// From stdin: the message that has more than one frame is named.
	r := spawn(t, "", "recv", "--type", "GATHER", "--bind", "tcp://127.0.0.1:*", "-n", "1")
	gep := r.value("endpoint")
	p = run1(t, "ok\nx|y\n", "send", "--type", "SCATTER", "--delim", "|", "--connect", gep)
	if p.code != 2 {
		t.Errorf("multipart SCATTER from stdin: exit %d, want 2; stderr %q", p.code, p.stderr.String())
	}
	oneLine(t, p, "message 2 of stdin: 2 frames")
	r.expect(0)
	if got := r.stdout.String(); got != "ok\n" {
		t.Errorf("GATHER got %q, want the message before the bad one", got)
	}
}

// STREAM talks to programs that do not speak ZeroMQ: here, the test's
// own TCP connections.
func TestCLIStream(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(testTimeout)

	// recv: the connection's notification, its data, its going, each with
	// its routing id first; --echo writes the data back.
	r := spawn(t, "", "recv", "--type", "stream", "--echo", "--bind", "tcp://127.0.0.1:*", "-n", "3", "--format", "json")
	ep := r.value("endpoint")
	conn, err := net.Dial("tcp", strings.TrimPrefix(ep, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	echoed := make([]byte, 4)
	if _, err := io.ReadFull(conn, echoed); err != nil || string(echoed) != "ping" {
		t.Fatalf("echo: %q, %v", echoed, err)
	}
	conn.Close()
	r.expect(0)
	var lines [][]string
	for line := range strings.SplitSeq(strings.TrimSpace(r.stdout.String()), "\n") {
		var frames []string
		if err := json.Unmarshal([]byte(line), &frames); err != nil || len(frames) != 2 {
			t.Fatalf("STREAM printed %q, want [id, data] lines", r.stdout.String())
		}
		lines = append(lines, frames)
	}
	// The json format prints a frame as text when it is UTF-8 (as a
	// random id is one time in sixteen), else as "base64:...".
	id := lines[0][0]
	raw, err := []byte(id), error(nil)
	if b64, ok := strings.CutPrefix(id, "base64:"); ok {
		raw, err = base64.StdEncoding.DecodeString(b64)
	}
	if err != nil || len(raw) != 5 {
		t.Errorf("routing id %q: want 5 bytes", id)
	}
	want := [][]string{{id, ""}, {id, "ping"}, {id, ""}}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("STREAM printed %q, want %q", lines, want)
	}

	// send --connect: the data to a plain TCP server, its answer
	// printed, then the connection closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(deadline)
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil {
			served <- err.Error()
			return
		}
		c.Write([]byte("world"))
		rest, err := io.ReadAll(c) // until send closes the connection
		served <- fmt.Sprintf("%s+%q %v", buf, rest, err)
	}()
	s := spawn(t, "", "send", "--type", "STREAM", "--reply", "--connect", "tcp://"+ln.Addr().String(), "hello")
	s.expect(0)
	if got := s.stdout.String(); got != "world\n" {
		t.Errorf("send printed %q, want the server's answer", got)
	}
	if got := <-served; got != `hello+"" <nil>` {
		t.Errorf("the server saw %s, want hello then the connection closed", got)
	}

	// send --bind: to the first connection that comes.
	s = spawn(t, "", "send", "--type", "STREAM", "--bind", "tcp://127.0.0.1:*", "--format", "hex", "0001ff")
	ep = s.value("endpoint")
	conn, err = net.Dial("tcp", strings.TrimPrefix(ep, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(deadline)
	got, err := io.ReadAll(conn)
	if err != nil || !bytes.Equal(got, []byte{0, 1, 0xff}) {
		t.Errorf("a client of send --bind read %x, %v; want 0001ff, then the end", got, err)
	}
	s.expect(0)
}

// TestCLIWebSocket: REQ/REP over ws, and over wss with a certificate the
// test makes: trusted through --tls-ca, refused without it.
func TestCLIWebSocket(t *testing.T) {
	t.Parallel()
	r := spawn(t, "", "recv", "--type", "REP", "--echo", "--bind", "ws://127.0.0.1:*/zmq", "-n", "1")
	ep := r.value("endpoint")
	if !strings.HasPrefix(ep, "ws://127.0.0.1:") || !strings.HasSuffix(ep, "/zmq") {
		t.Fatalf("bound %q, want ws://127.0.0.1:PORT/zmq", ep)
	}
	s := spawn(t, "", "send", "--type", "REQ", "--connect", ep, "--timeout", "5s", "over ws")
	s.expect(0)
	r.expect(0)
	if got := s.stdout.String(); got != "over ws\n" {
		t.Errorf("REQ printed %q", got)
	}

	dir := t.TempDir()
	ca, cert, key := writeTestCert(t, dir)
	r = spawn(t, "", "recv", "--type", "REP", "--echo", "--bind", "wss://127.0.0.1:*/zmq", "--tls-cert", cert, "--tls-key", key, "-n", "1")
	ep = r.value("endpoint")
	p := run1(t, "", "send", "--type", "REQ", "--connect", ep, "--timeout", "500ms", "untrusted")
	if p.code != 1 {
		t.Errorf("wss without --tls-ca: exit %d, want 1 (the system does not trust the test's CA); stderr %q", p.code, p.stderr.String())
	}
	s = spawn(t, "", "send", "--type", "REQ", "--connect", ep, "--tls-ca", ca, "--timeout", "5s", "over wss")
	s.expect(0)
	r.expect(0)
	if got := s.stdout.String(); got != "over wss\n" {
		t.Errorf("REQ printed %q", got)
	}
	for _, args := range [][]string{
		{"recv", "--bind", "wss://127.0.0.1:*/", "--tls-cert", cert},
		{"send", "--connect", ep, "--tls-ca", filepath.Join(dir, "missing.pem"), "x"},
		{"send", "--connect", ep, "--tls-ca", key, "x"},
	} {
		if p := run1(t, "", args...); p.code != 2 {
			t.Errorf("%q: exit %d, want 2; stderr %q", args, p.code, p.stderr.String())
		}
	}
}

// writeTestCert writes a CA certificate and a certificate for 127.0.0.1
// signed by it, with its key, as PEM files in dir.
func writeTestCert(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	pki, err := selfcert.New()
	if err != nil {
		t.Fatal(err)
	}
	ca, chain, key, err := pki.PEM()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", ca), write("cert.pem", chain), write("key.pem", key)
}
