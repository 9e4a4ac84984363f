//go:build !windows

package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/selfcert"
)

// A real browser: headless Chromium (Debian's chromium) opens a page that a
// test serves on 127.0.0.1, over http or over https with a certificate of
// the test's own CA. The page runs jszmq (ZWS 2.0 in JavaScript, installed
// in interop/browser by `npm ci`, bundled for the browser by esbuild from
// the same folder at the start of the run) and reports what it did with an
// HTTP POST to the test's server, so that the test asserts on what the
// browser really sent and received.

// browserDir is where jszmq and esbuild are installed, relative to this
// package.
const browserDir = "browser"

const (
	// browserLifetime bounds one Chromium process, and a browser test's
	// azmq calls: it is killed after this long.
	browserLifetime = 90 * time.Second
	// browserReportTimeout bounds the wait for the page's report (or the
	// page's request), from Chromium's start: it starts in a few seconds
	// on an idle machine, several times that on a busy one.
	browserReportTimeout = 45 * time.Second
)

// browserTools is what the browser tests need, found once per run.
type browserTools struct {
	chromium string
	bundle   []byte // jszmq as one browser script; it sets window.jszmq
}

// browserAvailable finds chromium and node, and bundles jszmq, once per run.
var browserAvailable = sync.OnceValues(func() (browserTools, error) {
	var bt browserTools
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return bt, fmt.Errorf("no chromium on PATH: %w", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return bt, fmt.Errorf("no node on PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// jszmq's main module, for the browser: isomorphic-ws takes the
	// browser's WebSocket; node's url module, which only its bind (never
	// called here) uses, is node-url.js; util and assert, which it pulls
	// in, read process.env.NODE_DEBUG and global as they load.
	cmd := exec.CommandContext(ctx, node, "node_modules/esbuild/bin/esbuild",
		"node_modules/jszmq/lib/src/index.js",
		"--bundle", "--format=iife", "--global-name=jszmq", "--platform=browser",
		"--alias:url=./node-url.js",
		"--define:process.env.NODE_DEBUG=false", "--define:global=globalThis",
		"--minify", "--log-level=warning")
	cmd.Dir = browserDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := bytes.TrimSpace(stderr.Bytes()); len(msg) > 0 {
			err = fmt.Errorf("%w: %s", err, abbrev(string(msg), 300))
		}
		return bt, fmt.Errorf("esbuild does not bundle jszmq in interop/%s: %w", browserDir, err)
	}
	if len(out) < 1000 {
		return bt, fmt.Errorf("esbuild's bundle of jszmq is %d bytes", len(out))
	}
	bt.chromium, bt.bundle = chromium, out
	return bt, nil
})

// requireBrowser skips the test when Chromium or jszmq is missing, or fails
// it when AZMQ_INTEROP=1 says they must be there.
func requireBrowser(t *testing.T) browserTools {
	t.Helper()
	bt, err := browserAvailable()
	if err != nil {
		const how = "scripts/deps.sh browser (apt-get install chromium, npm ci in interop/browser)"
		if os.Getenv("AZMQ_INTEROP") == "1" {
			t.Fatalf("browser required (AZMQ_INTEROP=1) but unavailable: %v; install it with: %s", err, how)
		}
		t.Skipf("browser unavailable, skipping: %v (%s; AZMQ_INTEROP=1 turns this skip into a failure)", err, how)
	}
	return bt
}

// browserPKI is a CA made for one test, and a certificate it signed for
// 127.0.0.1, for the test's https server.
type browserPKI struct {
	ca   *x509.Certificate
	leaf tls.Certificate
}

func newBrowserPKI(t *testing.T) browserPKI {
	t.Helper()
	pki, err := selfcert.New()
	if err != nil {
		t.Fatal(err)
	}
	return browserPKI{ca: pki.CA, leaf: pki.Leaf}
}

// spki is what Chromium's --ignore-certificate-errors-spki-list takes for
// a certificate: the base64 of the SHA-256 of its SubjectPublicKeyInfo.
func spki(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// browserPage is the page the browser opens: it loads the bundle, then
// the test's script, which finds its settings in window.azmqTest and ends
// by posting a JSON report to /report.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>azmq browser interop</title></head>
<body>
<script>
window.azmqTest = %s;
// Each WebSocket's subprotocols offered, its opening (with the one the
// server chose) and its closing, for the report.
window.azmqWS = [];
(function () {
	const WS = window.WebSocket;
	window.WebSocket = function (url, protocols) {
		const ws = new WS(url, protocols);
		const note = function (what) { if (azmqWS.length < 20) azmqWS.push(url + " " + what); };
		note("offers " + JSON.stringify(protocols));
		ws.addEventListener("open", function () { note("open, subprotocol " + JSON.stringify(ws.protocol)); });
		ws.addEventListener("close", function (e) { note("closed, code " + e.code + (e.reason ? ", " + e.reason : "")); });
		return ws;
	};
	window.WebSocket.prototype = WS.prototype;
	["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { window.WebSocket[k] = WS[k]; });
})();
window.azmqReport = function (r) {
	r.ws = azmqWS;
	return fetch("/report", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(r)});
};
window.addEventListener("error", function (e) { azmqReport({error: "uncaught: " + e.message}); });
</script>
<script src="/jszmq.js"></script>
<script>
try {
%s
} catch (e) { azmqReport({error: "threw: " + (e && e.stack || e)}); }
</script>
</body></html>
`

// browserServer is a test's http or https server on 127.0.0.1: it serves
// the page and the bundle, takes the page's report, and passes any other
// path to the test's handler.
type browserServer struct {
	*httptest.Server
	reports chan json.RawMessage
	// pages and bundles count the requests for the page and the bundle.
	pages, bundles atomic.Int32
}

// served says how often the page and the bundle were served, for a
// failure's message.
func (s *browserServer) served() string {
	return fmt.Sprintf("the page was served %d times, jszmq's bundle %d times", s.pages.Load(), s.bundles.Load())
}

// wsURL is the ws:// or wss:// URL of a path on the server.
func (s *browserServer) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

// startBrowserServer starts the server; settings are what the page's
// script finds in window.azmqTest, script is that script.
func startBrowserServer(t *testing.T, bt browserTools, pki *browserPKI, settings func(*browserServer) any, script string, other http.Handler) *browserServer {
	t.Helper()
	s := &browserServer{reports: make(chan json.RawMessage, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		js, err := json.Marshal(settings(s))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.pages.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, browserPage, js, script)
	})
	mux.HandleFunc("GET /jszmq.js", func(w http.ResponseWriter, r *http.Request) {
		s.bundles.Add(1)
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(bt.bundle)
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !json.Valid(body) {
			http.Error(w, "want a JSON body", http.StatusBadRequest)
			return
		}
		select {
		case s.reports <- json.RawMessage(body):
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /favicon.ico", http.NotFound)
	if other != nil {
		mux.Handle("/", other)
	}
	s.Server = httptest.NewUnstartedServer(mux)
	if pki != nil {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{pki.leaf}}
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// report waits for the page's report and decodes it into v; a report with
// an "error" fails the test.
func (s *browserServer) report(t *testing.T, b *browser, v any) {
	t.Helper()
	select {
	case raw := <-s.reports:
		var e struct {
			Error string   `json:"error"`
			WS    []string `json:"ws"`
		}
		if err := json.Unmarshal(raw, &e); err == nil && e.Error != "" {
			t.Fatalf("the page reports an error: %s; its WebSockets: %q", e.Error, e.WS)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("the page's report %s: %v", abbrev(string(raw), 300), err)
		}
	case <-b.exited:
		t.Fatalf("chromium ended before the page reported (%v; %s)", b.werr, s.served())
	case <-time.After(browserReportTimeout):
		t.Fatalf("no report from the page within %v (%s)", browserReportTimeout, s.served())
	}
}

// browser is a running headless Chromium.
type browser struct {
	cmd    *exec.Cmd
	stderr lockedBuffer
	exited chan struct{} // closed once the process has been waited for
	werr   error
}

// startBrowser starts headless Chromium on url, in a process group of its
// own, with a fresh profile. At the end of the test it and every process it
// started are stopped, and the test fails should one of them remain.
func startBrowser(t *testing.T, bt browserTools, url string, extra ...string) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserLifetime)
	args := []string{
		"--headless=new",
		// As root Chromium runs only without its sandbox.
		"--no-sandbox",
		"--disable-gpu",
		"--user-data-dir=" + t.TempDir(),
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-extensions",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-default-apps",
		"--no-pings",
		"--metrics-recording-only",
		// No name resolves: the page is on 127.0.0.1, and nothing else
		// is to be reached.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
	}
	args = append(args, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, bt.chromium, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	b := &browser{cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout = &b.stderr
	cmd.Stderr = &b.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start chromium: %v", err)
	}
	pgid := cmd.Process.Pid
	go func() {
		b.werr = cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		// SIGTERM to the browser lets it end its children; whatever is left
		// of the group after a few seconds is killed.
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-b.exited
		cancel()
		if left := groupLeft(pgid, 5*time.Second); left != nil {
			t.Errorf("chromium's processes remain after it was stopped: %v", left)
		}
		if t.Failed() {
			if s := b.log(); s != "" {
				t.Logf("chromium's output:\n%s", s)
			}
		}
	})
	return b
}

// log is what Chromium printed, less its complaints that this machine
// has no D-Bus, the last 4000 bytes of it.
func (b *browser) log() string {
	var keep []string
	for _, l := range strings.Split(b.stderr.String(), "\n") {
		if strings.TrimSpace(l) != "" && !strings.Contains(l, "dbus") {
			keep = append(keep, l)
		}
	}
	s := strings.Join(keep, "\n")
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return s
}

// groupLeft waits up to d for the process group to be gone, and returns
// the ids of its processes that are not (zombies waiting to be reaped by
// init count as gone).
func groupLeft(pgid int, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		left := groupMembers(pgid)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(50 * time.Millisecond)
	}
}

// groupMembers lists the live processes of a process group, from /proc
// where there is one, else by whether the group can be signalled.
func groupMembers(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
			return nil
		}
		return []int{-pgid}
	}
	var left []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so the
		// fields are counted after its closing parenthesis.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		var g int
		if _, err := fmt.Sscan(f[2], &g); err == nil && g == pgid {
			left = append(left, pid)
		}
	}
	return left
}

// browserNews is the topic the page subscribes to; the publisher sends
// browserOther too, which must never reach the page.
const (
	browserNews  = "news"
	browserOther = "other"
	// browserCount is how many messages of browserNews the page collects.
	browserCount = 20
)

// browserZMQScript is the page's side of TestBrowserPubSubReqRep: a jszmq
// SUB, subscribed to azmqTest.topic, collects azmqTest.count messages from
// azmqTest.pub; a jszmq REQ then sends them, as JSON, to azmqTest.rep, and
// the page reports the reply.
const browserZMQScript = `
const got = [];
const sub = new jszmq.Sub();
const req = new jszmq.Req();
const timer = setTimeout(function () {
	azmqReport({error: "timed out with " + got.length + " messages on the SUB and no reply on the REQ"});
}, azmqTest.timeoutMs);
sub.on("message", function () {
	if (got.length >= azmqTest.count) return;
	got.push(Array.prototype.map.call(arguments, function (f) { return f.toString(); }));
	if (got.length === azmqTest.count) {
		sub.close();
		req.send(["received", JSON.stringify(got)]);
	}
});
req.on("message", function () {
	clearTimeout(timer);
	const reply = Array.prototype.map.call(arguments, function (f) { return f.toString(); });
	req.close();
	azmqReport({reply: reply});
});
sub.subscribe(azmqTest.topic);
sub.connect(azmqTest.pub);
req.connect(azmqTest.rep);
`

// TestBrowserPubSubReqRep runs jszmq in headless Chromium against azmq,
// over ws:// and over wss:// (the page from https, the test's CA trusted
// by Chromium). azmq's PUB is bound to its own ws:// or wss:// listener
// (WithTLSConfig for wss); azmq's REP is mounted on the page's server with
// ServeHTTP. The page's SUB must receive the PUB's messages of its topic,
// in order and no other; its REQ then sends what it received to the REP,
// which checks it, and the page reports the REP's reply.
func TestBrowserPubSubReqRep(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "ws"
		if secure {
			name = "wss"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bt := requireBrowser(t)
			ctx, cancelCtx := context.WithTimeout(context.Background(), browserLifetime)
			t.Cleanup(cancelCtx)
			var pki *browserPKI
			var pubOpts []azmq.SocketOption
			scheme := "ws"
			if secure {
				p := newBrowserPKI(t)
				pki = &p
				pubOpts = append(pubOpts, azmq.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{p.leaf}}))
				scheme = "wss"
			}
			pub := newSocket(t, azmq.PUB, pubOpts...)
			if err := pub.Bind(scheme + "://127.0.0.1:*/news"); err != nil {
				t.Fatalf("PUB Bind %s: %v", scheme, err)
			}
			pubURL := pub.LastEndpoint()
			rep := newSocket(t, azmq.REP)
			mux := http.NewServeMux()
			mux.Handle("/rep", rep)
			srv := startBrowserServer(t, bt, pki, func(s *browserServer) any {
				return map[string]any{
					"pub": pubURL, "rep": s.wsURL("/rep"),
					"topic": browserNews, "count": browserCount,
					"timeoutMs": (browserReportTimeout - 10*time.Second).Milliseconds(),
				}
			}, browserZMQScript, mux)

			// The publisher sends, every 10 ms until the REP has its
			// request, a message of the page's topic numbered from 0 and
			// one of another topic. Until the page's subscription has
			// arrived its messages are dropped, so the page sees them from
			// some number on.
			stop := make(chan struct{})
			pubDone := make(chan error, 1)
			go func() {
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				for i := 0; ; i++ {
					if err := pub.Send(ctx, []byte(browserOther), []byte("x")); err != nil {
						pubDone <- err
						return
					}
					if err := pub.Send(ctx, []byte(browserNews), []byte(fmt.Sprint(i))); err != nil {
						pubDone <- err
						return
					}
					select {
					case <-stop:
						pubDone <- nil
						return
					case <-tick.C:
					}
				}
			}()
			stopPub := sync.OnceFunc(func() {
				close(stop)
				if err := <-pubDone; err != nil {
					t.Errorf("azmq PUB Send: %v", err)
				}
			})
			t.Cleanup(stopPub)

			var extra []string
			if secure {
				extra = append(extra, "--ignore-certificate-errors-spki-list="+spki(pki.ca))
			}
			b := startBrowser(t, bt, srv.URL+"/", extra...)

			rctx, cancel := context.WithTimeout(ctx, browserReportTimeout)
			defer cancel()
			type recvd struct {
				m   [][]byte
				err error
			}
			reqc := make(chan recvd, 1)
			go func() {
				m, err := rep.Recv(rctx)
				reqc <- recvd{m, err}
			}()
			var m [][]byte
			select {
			case r := <-reqc:
				if r.err != nil {
					t.Fatalf("azmq REP Recv (the page's request): %v (%s)", r.err, srv.served())
				}
				m = r.m
			case raw := <-srv.reports:
				t.Fatalf("the page reports before azmq's REP has its request: %s", abbrev(string(raw), 2000))
			case <-b.exited:
				t.Fatalf("chromium ended before azmq's REP had the page's request (%v; %s)", b.werr, srv.served())
			}
			stopPub()
			if len(m) != 2 || string(m[0]) != "received" {
				t.Fatalf("azmq REP received %s, want [received, JSON]", describe(m))
			}
			var got [][]string
			if err := json.Unmarshal(m[1], &got); err != nil {
				t.Fatalf("the page's request %q: %v", abbrev(string(m[1]), 300), err)
			}
			if len(got) != browserCount {
				t.Fatalf("the page's SUB received %d messages, want %d: %q", len(got), browserCount, got)
			}
			var first int
			for i, g := range got {
				if len(g) != 2 || g[0] != browserNews {
					t.Fatalf("the page's SUB message %d is %q, want [%s, number]", i, g, browserNews)
				}
				n, err := strconv.Atoi(g[1])
				if err != nil {
					t.Fatalf("the page's SUB message %d is %q, want [%s, number]", i, g, browserNews)
				}
				if i == 0 {
					first = n
				} else if n != first+i {
					t.Fatalf("the page's SUB message %d is number %d, want %d: the messages arrive in order, none lost", i, n, first+i)
				}
			}
			want := fmt.Sprintf("%d %s messages, %d to %d", browserCount, browserNews, first, first+browserCount-1)
			if err := rep.Send(rctx, []byte("ok"), []byte(want)); err != nil {
				t.Fatalf("azmq REP Send: %v", err)
			}
			var r struct{ Reply, WS []string }
			srv.report(t, b, &r)
			if len(r.Reply) != 2 || r.Reply[0] != "ok" || r.Reply[1] != want {
				t.Fatalf("the page's REQ received %q, want [ok, %q]", r.Reply, want)
			}
			// jszmq offers the subprotocol ZWS2.0 alone (no mechanism: the
			// routing id as first message, then data frames only), and
			// the browser checks that the server chose one it offered.
			for _, u := range []string{pubURL, srv.wsURL("/rep")} {
				if !slices.Contains(r.WS, u+` offers ["ZWS2.0"]`) {
					t.Errorf("the page's WebSocket to %s did not offer ZWS2.0 alone: %q", u, r.WS)
				}
				if !slices.Contains(r.WS, u+` open, subprotocol "ZWS2.0"`) {
					t.Errorf("the page's WebSocket to %s did not open with the subprotocol ZWS2.0: %q", u, r.WS)
				}
			}
		})
	}
}
