//go:build !windows

package interop

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/cert"
	"github.com/azmq/azmq/zap"
)

// CURVE certificate files between azmq (package cert, zap.AllowCurveDir)
// and pyzmq (zmq.auth's create_certificates, load_certificate and
// configure_curve(location=DIR)).

// pyzmq runs a Python snippet with pyzmq's zmq.auth imported, the
// arguments in sys.argv[1:], and returns what it prints.
func pyzmq(t *testing.T, code string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append([]string{"-c", "import sys, json, zmq.auth\n" + code}, args...)
	out, err := exec.CommandContext(ctx, pythonPath, argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("python %q: %v\n%s", code, err, out)
	}
	return out
}

// pyzmqCreate makes a certificate pair in dir with pyzmq's
// create_certificates, with metadata name=NAME.
func pyzmqCreate(t *testing.T, dir, name string) {
	t.Helper()
	pyzmq(t, `zmq.auth.create_certificates(sys.argv[1], sys.argv[2], metadata={"name": sys.argv[2]})`, dir, name)
}

// load reads a certificate with cert.Load, failing the test on an error.
func load(t *testing.T, path string) *cert.Cert {
	t.Helper()
	c, err := cert.Load(path)
	if err != nil {
		t.Fatalf("cert.Load: %v", err)
	}
	return c
}

// TestCertFromPyzmq: certificates that pyzmq's create_certificates wrote
// are read by cert.Load, and the keys so read let an azmq client through
// to a libzmq CURVE server whose pyzmq authenticator admits the client by
// its public certificate (configure_curve(location=DIR)).
func TestCertFromPyzmq(t *testing.T) {
	t.Parallel()
	requirePeer(t)
	dir, clients := t.TempDir(), t.TempDir()
	pyzmqCreate(t, dir, "server")
	pyzmqCreate(t, clients, "client")
	srv := load(t, filepath.Join(dir, "server.key_secret"))
	if srv.Metadata["name"] != "server" {
		t.Errorf("metadata of pyzmq's secret certificate: %v, want name=server", srv.Metadata)
	}
	srvPub := load(t, filepath.Join(dir, "server.key")) // the public file, the secret one found beside it
	if srvPub.PublicKey != srv.PublicKey || srvPub.SecretKey != srv.SecretKey {
		t.Fatalf("the public and the secret certificate disagree")
	}
	cli := load(t, filepath.Join(clients, "client.key_secret"))
	ctx := testCtx(t)
	s := secSocket(t, secContext(t, nil), azmq.REQ, azmq.WithCurveClient(srv.PublicKey, cli.PublicKey, cli.SecretKey), azmq.WithLinger(0))
	w := watch(t, s)
	opts := map[string]any{"curve_server": true, "curve_secretkey": srv.SecretKey, "auth": map[string]any{"curve_location": clients}}
	p := link(t, s, spec{Type: "REP", Options: opts, Steps: []step{{"op": "echo", "props": []string{"User-Id"}}}}, topo{transport: "tcp"})
	m := [][]byte{b("from a pyzmq certificate")}
	send(t, ctx, s, m)
	got, props := recvProps(p)
	checkMsg(t, "request at the libzmq server", got, m)
	if uid := props["User-Id"]; uid == nil || *uid != cli.PublicKey {
		t.Fatalf("libzmq server's User-Id = %s, want %q", strPtr(uid), cli.PublicKey)
	}
	checkMsg(t, "reply at the azmq client", recv(t, ctx, s), m)
	p.wait()
	if !w.has(azmq.EventHandshakeSucceeded) {
		t.Errorf("no EventHandshakeSucceeded; events: %s", w)
	}
}

// TestCertToPyzmq: certificates that cert.Save wrote (as "azmq keygen
// --out" does) are read by pyzmq's load_certificate, key for key, and a
// libzmq CURVE server whose pyzmq authenticator has
// configure_curve(location=DIR) admits the azmq client whose public
// certificate is in DIR and refuses one whose certificate is not.
func TestCertToPyzmq(t *testing.T) {
	t.Parallel()
	requirePeer(t)
	dir, clients := t.TempDir(), t.TempDir()
	save := func(where, name string) *cert.Cert {
		c, err := cert.New()
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata["name"] = name
		if err := c.Save(filepath.Join(where, name+".key")); err != nil {
			t.Fatal(err)
		}
		return c
	}
	srv, cli, other := save(dir, "server"), save(clients, "client"), save(dir, "other")
	// pyzmq reads both files of each.
	for _, c := range []struct {
		path     string
		pub, sec string
	}{
		{filepath.Join(dir, "server.key"), srv.PublicKey, ""},
		{filepath.Join(dir, "server.key_secret"), srv.PublicKey, srv.SecretKey},
		{filepath.Join(clients, "client.key_secret"), cli.PublicKey, cli.SecretKey},
	} {
		out := pyzmq(t, `p, s = zmq.auth.load_certificate(sys.argv[1])
print(json.dumps([p.decode(), s.decode() if s else ""]))`, c.path)
		var keys [2]string
		if err := json.Unmarshal(out, &keys); err != nil {
			t.Fatalf("load_certificate(%s) printed %q: %v", c.path, out, err)
		}
		if keys[0] != c.pub || keys[1] != c.sec {
			t.Errorf("pyzmq's load_certificate(%s) = %q, %q; want %q, %q", c.path, keys[0], keys[1], c.pub, c.sec)
		}
	}
	out := pyzmq(t, `print(json.dumps(sorted(k.decode() for k in zmq.auth.load_certificates(sys.argv[1]))))`, clients)
	var dirKeys []string
	if err := json.Unmarshal(out, &dirKeys); err != nil || len(dirKeys) != 1 || dirKeys[0] != cli.PublicKey {
		t.Fatalf("pyzmq's load_certificates(DIR) = %s (%v), want just the client's key", out, err)
	}

	for _, c := range []struct {
		name  string
		own   *cert.Cert
		admit bool
	}{{"in-dir", cli, true}, {"not-in-dir", other, false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			s := secSocket(t, secContext(t, nil), azmq.REQ, azmq.WithCurveClient(srv.PublicKey, c.own.PublicKey, c.own.SecretKey), azmq.WithLinger(0))
			w := watch(t, s)
			opts := map[string]any{"curve_server": true, "curve_secretkey": srv.SecretKey, "auth": map[string]any{"curve_location": clients}}
			if !c.admit {
				p := link(t, s, spec{Type: "REP", Options: refusedOpts(opts), Steps: refusedSteps(false)}, topo{transport: "tcp"})
				trySend(t, ctx, s, [][]byte{b("must-not-arrive")}, noMsgWait/5)
				w.handshakeFailed("azmq client whose certificate is not in pyzmq's DIR", "400")
				checkLibRefused(t, "libzmq CURVE server", peerEvents(p), 400)
				p.wait()
				w.noSuccess("azmq CURVE client")
				return
			}
			p := link(t, s, spec{Type: "REP", Options: opts, Steps: []step{{"op": "echo", "props": []string{"User-Id"}}}}, topo{transport: "tcp"})
			m := [][]byte{b("from an azmq certificate")}
			send(t, ctx, s, m)
			got, props := recvProps(p)
			checkMsg(t, "request at the libzmq server", got, m)
			if uid := props["User-Id"]; uid == nil || *uid != cli.PublicKey {
				t.Fatalf("libzmq server's User-Id = %s, want %q", strPtr(uid), cli.PublicKey)
			}
			checkMsg(t, "reply at the azmq client", recv(t, ctx, s), m)
			p.wait()
		})
	}
}

// TestCertZapDirPyzmqClients: azmq's zap handler with AllowCurveDir admits
// a libzmq client whose pyzmq-made public certificate is in the directory,
// refuses one whose certificate is not, and admits that one once its
// certificate has been copied in while the server runs.
func TestCertZapDirPyzmqClients(t *testing.T) {
	t.Parallel()
	requirePeer(t)
	own, clients := t.TempDir(), t.TempDir()
	pyzmqCreate(t, clients, "alice")
	pyzmqCreate(t, own, "bob") // not admitted, yet
	alice := load(t, filepath.Join(clients, "alice.key_secret"))
	bob := load(t, filepath.Join(own, "bob.key_secret"))
	srv, err := cert.New()
	if err != nil {
		t.Fatal(err)
	}
	h := zap.NewHandler()
	if err := h.AllowCurveDir(clients); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	zctx := secContext(t, h)
	s := secSocket(t, zctx, azmq.ROUTER, azmq.WithCurveServer(srv.SecretKey), azmq.WithLinger(0))
	w := watch(t, s)
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep := s.LastEndpoint()
	clientOpts := func(c *cert.Cert) map[string]any {
		return map[string]any{"curve_serverkey": srv.PublicKey, "curve_publickey": c.PublicKey, "curve_secretkey": c.SecretKey}
	}
	// admitted checks that a DEALER with c's keys gets a message through
	// (waiting up to d for its handshake) with c's key as User-Id.
	admitted := func(name string, c *cert.Cert, d time.Duration) {
		t.Helper()
		opts := clientOpts(c)
		opts["linger"] = d.Milliseconds() // the message waits for the handshake
		p := startPeer(t, spec{Type: "DEALER", Connect: []string{ep}, Options: opts,
			Steps: []step{{"op": "send", "frames": hexFrames([][]byte{b(name)})}}})
		p.ready()
		rctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		msg, err := s.RecvMsg(rctx)
		if err != nil {
			t.Fatalf("%s: nothing arrived within %v: %v (events: %s)", name, d, err, w)
		}
		if len(msg.Frames) != 2 || string(msg.Frames[1]) != name {
			t.Fatalf("%s: received %s", name, describe(msg.Frames))
		}
		if uid, _ := msg.Property("User-Id"); uid != c.PublicKey {
			t.Fatalf("%s: User-Id %q, want %q", name, uid, c.PublicKey)
		}
		p.wait()
	}
	admitted("alice", alice, opTimeout)

	// bob is refused: nothing arrives, and libzmq hears 400.
	p := startPeer(t, spec{Type: "DEALER", Connect: []string{ep}, Options: refusedOpts(clientOpts(bob)), Steps: refusedSteps(true)})
	p.ready()
	if m := recvWithin(t, ctx, s, noMsgWait); m != nil {
		t.Fatalf("received %s from a client whose certificate is not in the directory", describe(m))
	}
	checkLibRefused(t, "libzmq client not in the directory", peerEvents(p), 400)
	p.wait()

	// Copied in, bob's certificate admits him within zap.DirRecheck; the
	// libzmq client reconnects after a refusal, so its message arrives.
	data, err := os.ReadFile(filepath.Join(own, "bob.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(clients, "bob.key"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	admitted("bob", bob, zap.DirRecheck+10*time.Second)
}
