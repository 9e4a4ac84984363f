package zap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/cert"
	"github.com/azmq/azmq/z85"
)

func requestIn(domain, addr, mech string, creds ...[]byte) [][]byte {
	return append(frames("1.0", "1", domain, addr, "server-id", mech), creds...)
}

// TestDomainPolicies: a domain with a policy of its own is decided by it
// alone; other domains (and the empty one) by the global policy, as before.
func TestDomainPolicies(t *testing.T) {
	aRaw, aZ85 := newKey(t)
	bRaw, bZ85 := newKey(t)
	configure := func(h *Handler) {
		h.AddUser("admin", "global-pw")
		h.Deny("192.0.2.66")
		if err := h.AllowCurveKey(aZ85); err != nil {
			t.Fatal(err)
		}
		ops := h.Domain("ops")
		ops.AddUser("admin", "ops-pw")
		ops.Allow("10.0.0.0/8")
		if err := ops.AllowCurveKey(bZ85); err != nil {
			t.Fatal(err)
		}
		lab := h.Domain("lab")
		lab.Deny("10.0.0.1")
		lab.AllowAnyCurve()
		if h.Domain("ops").p != ops.p {
			t.Error("Domain made a second policy for one domain")
		}
		if h.Domain("*").p != &h.policy || h.Domain("").p != &h.policy {
			t.Error(`Domain("*") and Domain("") are not the global policy`)
		}
	}
	plain := func(pw string) [][]byte { return [][]byte{[]byte("admin"), []byte(pw)} }
	tests := []struct {
		name   string
		req    [][]byte
		status string
		user   string
	}{
		{"global user, empty domain", requestIn("", "10.0.0.5", "PLAIN", plain("global-pw")...), "200", "admin"},
		{"global user, domain without policy", requestIn("web", "10.0.0.5", "PLAIN", plain("global-pw")...), "200", "admin"},
		{"global user in ops", requestIn("ops", "10.0.0.5", "PLAIN", plain("global-pw")...), "400", ""},
		{"ops user in ops", requestIn("ops", "10.0.0.5", "PLAIN", plain("ops-pw")...), "200", "admin"},
		{"ops user elsewhere", requestIn("web", "10.0.0.5", "PLAIN", plain("ops-pw")...), "400", ""},
		{"ops allow list", requestIn("ops", "192.0.2.1", "PLAIN", plain("ops-pw")...), "400", ""},
		{"global deny, not in ops", requestIn("ops", "192.0.2.66", "PLAIN", plain("ops-pw")...), "400", ""}, // ops' allow list refuses it
		{"global deny in lab does not apply", requestIn("lab", "192.0.2.66", "CURVE", bRaw), "200", bZ85},
		{"global deny applies elsewhere", requestIn("web", "192.0.2.66", "NULL"), "400", ""},
		{"lab deny", requestIn("lab", "10.0.0.1", "CURVE", bRaw), "400", ""},
		{"lab has no users", requestIn("lab", "10.0.0.5", "PLAIN", plain("global-pw")...), "400", ""},
		{"global key globally", requestIn("", "10.0.0.5", "CURVE", aRaw), "200", aZ85},
		{"global key in ops", requestIn("ops", "10.0.0.5", "CURVE", aRaw), "400", ""},
		{"ops key in ops", requestIn("ops", "10.0.0.5", "CURVE", bRaw), "200", bZ85},
		{"ops key globally", requestIn("web", "10.0.0.5", "CURVE", bRaw), "400", ""},
		{"NULL in ops", requestIn("ops", "10.0.0.5", "NULL"), "200", ""},
	}
	s := startServer(t, configure)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := s.ask(t, tt.req...)
			if string(reply[2]) != tt.status || string(reply[4]) != tt.user {
				t.Errorf("status %q (%q) user %q, want %s %q", reply[2], reply[3], reply[4], tt.status, tt.user)
			}
		})
	}
}

// TestAllowCurveDir: the keys of a directory's public certificates pass;
// the directory is re-read when it changes (a certificate added, one
// removed), and a malformed file closes it with a temporary error until it
// is fixed.
func TestAllowCurveDir(t *testing.T) {
	dir := t.TempDir()
	save := func(name string) (*cert.Cert, []byte) {
		t.Helper()
		c, err := cert.New()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Save(filepath.Join(dir, name+".key")); err != nil {
			t.Fatal(err)
		}
		raw, _ := z85.Decode(c.PublicKey)
		return c, raw
	}
	alice, aliceRaw := save("alice")
	s := startServer(t, func(h *Handler) {
		h.recheck = 0 // every request looks at the directory
		if err := h.Domain("certs").AllowCurveDir(dir); err != nil {
			t.Fatal(err)
		}
	})
	status := func(raw []byte) (string, string) {
		t.Helper()
		r := s.ask(t, requestIn("certs", "127.0.0.1", "CURVE", raw)...)
		return string(r[2]), string(r[4])
	}
	if st, user := status(aliceRaw); st != "200" || user != alice.PublicKey {
		t.Fatalf("alice: %s %q", st, user)
	}
	bobRaw, _ := newKey(t)
	if st, _ := status(bobRaw); st != "400" {
		t.Fatalf("a key not in the directory: %s", st)
	}
	// Only the domain's directory: the global policy has none.
	if r := s.ask(t, requestIn("", "127.0.0.1", "CURVE", aliceRaw)...); string(r[2]) != "400" {
		t.Fatalf("alice in the global domain: %s", r[2])
	}
	carol, carolRaw := save("carol")
	if st, user := status(carolRaw); st != "200" || user != carol.PublicKey {
		t.Fatalf("carol, added while serving: %s %q", st, user)
	}
	os.Remove(filepath.Join(dir, "alice.key"))
	if st, _ := status(aliceRaw); st != "400" {
		t.Fatalf("alice after her certificate was removed: %s", st)
	}
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("curve\n    public-key = \"nope\"\n"), 0o644)
	r := s.ask(t, requestIn("certs", "127.0.0.1", "CURVE", carolRaw)...)
	if string(r[2]) != "300" || !strings.Contains(string(r[3]), bad+":2") {
		t.Fatalf("with a malformed certificate: %s %q, want 300 naming %s:2", r[2], r[3], bad)
	}
	os.Remove(bad)
	if st, _ := status(carolRaw); st != "200" {
		t.Fatalf("carol after the malformed file went: %s", st)
	}
}

// TestAllowCurveDirRecheck: between looks the directory is not read, so a
// flood of requests costs one look per DirRecheck.
func TestAllowCurveDirRecheck(t *testing.T) {
	dir := t.TempDir()
	h := NewHandler()
	if err := h.AllowCurveDir(dir); err != nil {
		t.Fatal(err)
	}
	d := h.dirs[0]
	c, _ := cert.New()
	c.Save(filepath.Join(dir, "late.key"))
	if in, err := d.has(c.PublicKey, time.Hour); in || err != nil {
		t.Fatalf("looked again before the recheck time: %v %v", in, err)
	}
	if in, err := d.has(c.PublicKey, 0); !in || err != nil {
		t.Fatalf("did not look again after the recheck time: %v %v", in, err)
	}
}

func TestAllowCurveDirErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.key"), []byte("curve\n  public-key 1\n"), 0o644)
	h := NewHandler()
	for _, d := range []string{dir, filepath.Join(dir, "missing")} {
		if err := h.AllowCurveDir(d); err == nil {
			t.Errorf("AllowCurveDir(%s): no error", d)
		}
	}
	if err := h.AllowCurveDir(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "x.key")+":2") {
		t.Errorf("error %v does not name the file and line", err)
	}
	if len(h.dirs) != 0 {
		t.Errorf("a failed AllowCurveDir added a directory")
	}
}
