package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/azmq/azmq/cert"
	"github.com/azmq/azmq/z85"
	"golang.org/x/crypto/curve25519"
)

func TestKeygen(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"keygen"}, &out, &errb); code != 0 {
		t.Fatalf("keygen exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != "== CURVE PUBLIC KEY ==" || lines[2] != "== CURVE SECRET KEY ==" {
		t.Fatalf("keygen output:\n%s", out.String())
	}
	pub, err := z85.Decode(lines[1])
	if err != nil || len(pub) != 32 {
		t.Fatalf("public key %q: %v", lines[1], err)
	}
	sec, err := z85.Decode(lines[3])
	if err != nil || len(sec) != 32 {
		t.Fatalf("secret key %q: %v", lines[3], err)
	}
	derived, err := curve25519.X25519(sec, curve25519.Basepoint)
	if err != nil || !bytes.Equal(derived, pub) {
		t.Fatalf("the public key is not the secret key's")
	}
	if code := run([]string{"keygen", "extra"}, &out, &errb); code != 2 {
		t.Fatalf("keygen with an argument: exit %d, want 2", code)
	}
}

// TestKeygenOut: --out NAME writes NAME.key and NAME.key_secret (0600) that
// package cert reads back, with --meta; it refuses to replace them.
func TestKeygenOut(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "server")
	var out, errb bytes.Buffer
	if code := run([]string{"keygen", "--out", base, "--meta", "name=server one", "--meta", "env=test"}, &out, &errb); code != 0 {
		t.Fatalf("keygen --out: exit %d: %s", code, errb.String())
	}
	if want := base + ".key\n" + base + ".key_secret\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	fi, err := os.Stat(base + ".key_secret")
	if err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("secret file: %v, %v", fi, err)
	}
	pub, err := cert.Load(base + ".key")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := cert.Load(base + ".key_secret")
	if err != nil {
		t.Fatal(err)
	}
	if pub.PublicKey != sec.PublicKey || sec.SecretKey == "" || sec.Metadata["name"] != "server one" || sec.Metadata["env"] != "test" {
		t.Errorf("read back %+v and %+v", pub, sec)
	}
	// A name that ends in .key is not given a second one; existing files
	// are not replaced.
	for _, args := range [][]string{{"--out", base + ".key"}, {"--out", base}} {
		out.Reset()
		errb.Reset()
		if code := run(append([]string{"keygen"}, args...), &out, &errb); code != 1 || !strings.Contains(errb.String(), "exists") {
			t.Errorf("keygen %v over existing files: exit %d, %q", args, code, errb.String())
		}
	}
	again, _ := cert.Load(base + ".key_secret")
	if again.SecretKey != sec.SecretKey {
		t.Error("the secret certificate was replaced")
	}
	for _, args := range [][]string{{"--meta", "a=b"}, {"--out", filepath.Join(dir, "x"), "--meta", "novalue"}, {"--out", filepath.Join(dir, "y"), "--meta", "bad name=1"}, {"--bogus"}} {
		out.Reset()
		errb.Reset()
		if code := run(append([]string{"keygen"}, args...), &out, &errb); code == 0 {
			t.Errorf("keygen %v: exit 0", args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "y.key")); err == nil {
		t.Error("a refused --meta left a file")
	}
}

// TestCurveCertFlags: how --curve-cert, --curve-server-cert and
// --curve-allow-dir combine with each other and the other CURVE flags.
func TestCurveCertFlags(t *testing.T) {
	dir := t.TempDir()
	srv, _ := cert.New()
	srv.Save(filepath.Join(dir, "server.key"))
	clients := filepath.Join(dir, "clients")
	os.Mkdir(clients, 0o755)
	cli, _ := cert.New()
	cli.Save(filepath.Join(clients, "client.key"))
	cli.SavePublic(filepath.Join(dir, "lone.key")) // no secret beside it
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("curve\n    public-key = oops\n"), 0o644)
	keygenFile := filepath.Join(dir, "keygen.txt")
	os.WriteFile(keygenFile, []byte("== CURVE PUBLIC KEY ==\n"+srv.PublicKey+"\n== CURVE SECRET KEY ==\n"+srv.SecretKey+"\n"), 0o600)

	cases := []struct {
		name    string
		f       secFlags
		handler bool
		err     string // "" for success
	}{
		{"server from a secret certificate", secFlags{curveCert: filepath.Join(dir, "server.key_secret")}, false, ""},
		{"server, public certificate with its secret beside it", secFlags{curveCert: filepath.Join(dir, "server.key")}, false, ""},
		{"server with an allowed directory", secFlags{curveCert: filepath.Join(dir, "server.key_secret"), curveAllowDir: clients}, true, ""},
		{"client of a server certificate", secFlags{curveServerCert: filepath.Join(dir, "server.key"), curveCert: filepath.Join(clients, "client.key_secret")}, false, ""},
		{"client, fresh pair", secFlags{curveServerCert: filepath.Join(dir, "server.key")}, false, ""},
		{"only a public certificate", secFlags{curveCert: filepath.Join(dir, "lone.key")}, false, "a public certificate"},
		{"public certificate alone", secFlags{curveServerCert: filepath.Join(dir, "server.key"), curveCert: filepath.Join(clients, "no.key")}, false, "no.key"},
		{"malformed", secFlags{curveCert: bad}, false, bad + ":2"},
		{"malformed server certificate", secFlags{curveServerCert: bad}, false, bad + ":2"},
		{"malformed directory", secFlags{curveServerSecret: srv.SecretKey, curveAllowDir: dir}, false, bad + ":2"},
		{"cert and keyfile", secFlags{curveCert: filepath.Join(dir, "server.key_secret"), curveKeyfile: keygenFile}, false, "give one of them"},
		{"cert and server secret", secFlags{curveCert: filepath.Join(dir, "server.key_secret"), curveServerSecret: srv.SecretKey}, false, "give one of them"},
		{"two server keys", secFlags{curveServerCert: filepath.Join(dir, "server.key"), curveServerPublic: srv.PublicKey}, false, "give one of them"},
		{"client with a directory", secFlags{curveServerCert: filepath.Join(dir, "server.key"), curveAllowDir: clients}, false, "give one side"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts, h, err := c.f.mechanismOptions()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil || len(opts) != 1 {
				t.Fatalf("%d options, %v", len(opts), err)
			}
			if (h != nil) != c.handler {
				t.Errorf("handler %v, want one: %v", h, c.handler)
			}
		})
	}
}

// TestCLICurveCert: certificates from "keygen --out" secure a send and a
// recv: the server admits the clients of --curve-allow-dir, refuses
// another, and admits it once its certificate is copied into the
// directory.
func TestCLICurveCert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	if err := os.Mkdir(allowed, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{filepath.Join(dir, "server"), filepath.Join(dir, "other"), filepath.Join(allowed, "client")} {
		if p := run1(t, "", "keygen", "--out", out); p.code != 0 {
			t.Fatalf("keygen --out %s: exit %d, %q", out, p.code, p.stderr.String())
		}
	}
	// The client's secret certificate need not stay in the directory.
	clientSecret := filepath.Join(dir, "client.key_secret")
	if err := os.Rename(filepath.Join(allowed, "client.key_secret"), clientSecret); err != nil {
		t.Fatal(err)
	}
	r := spawn(t, "", "recv", "--curve-cert", filepath.Join(dir, "server.key_secret"), "--curve-allow-dir", allowed,
		"--bind", "tcp://127.0.0.1:*", "-n", "2")
	ep := r.value("endpoint")
	send := func(own, msg, timeout string) *proc {
		return run1(t, "", "send", "--curve-server-cert", filepath.Join(dir, "server.key"), "--curve-cert", own,
			"--connect", ep, "--timeout", timeout, msg)
	}
	if p := send(filepath.Join(dir, "other.key_secret"), "denied", "500ms"); p.code != 1 {
		t.Errorf("a client not in the directory: exit %d, want 1; stderr %q", p.code, p.stderr.String())
	}
	if p := send(clientSecret, "first", "5s"); p.code != 0 {
		t.Fatalf("the allowed client: exit %d; stderr %q", p.code, p.stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(allowed, "other.key"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The directory is looked at again within zap.DirRecheck (1 s); a
	// send that times out before that is refused and tried again.
	admitted := false
	for i := 0; i < 10 && !admitted; i++ {
		admitted = send(filepath.Join(dir, "other.key_secret"), "second", "1s").code == 0
	}
	if !admitted {
		t.Fatal("the client whose certificate was added was not admitted")
	}
	r.expect(0)
	if got := r.stdout.String(); got != "first\nsecond\n" {
		t.Errorf("recv printed %q", got)
	}
}
