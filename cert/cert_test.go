package cert

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/z85"
	"golang.org/x/crypto/curve25519"
)

// A fixed key pair (the one of libzmq's curve_keygen documentation).
const (
	testPub = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
	testSec = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
)

// pyzmqSecret is a secret certificate as pyzmq's create_certificates
// writes it: metadata values unquoted, 4-space indentation.
const pyzmqSecret = `#   ****  Generated on 2026-12-04 23:40:01.123456 by pyzmq  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

metadata
    owner = Alice Smith
curve
    public-key = "` + testPub + `"
    secret-key = "` + testSec + `"
`

func TestParse(t *testing.T) {
	cases := []struct {
		name     string
		text     string
		sec      string
		metadata map[string]string
	}{
		{"pyzmq secret", pyzmqSecret, testSec, map[string]string{"owner": "Alice Smith"}},
		{"czmq public", "#   ZeroMQ CURVE Public Certificate\n\nmetadata\n    name = \"x y\"\ncurve\n    public-key = \"" + testPub + "\"\n", "", map[string]string{"name": "x y"}},
		{"tabs and CRLF", "metadata\r\n\tk = 'v \"q\"'\r\ncurve\r\n\tpublic-key = " + testPub + "\r\n", "", map[string]string{"k": `v "q"`}},
		{"two-space indent, comments", "# c\ncurve   # the keys\n  public-key = \"" + testPub + "\"  # trailing\n\n  # inner comment\nmetadata\n  a = 1 # one\n", "", map[string]string{"a": "1"}},
		{"other sections kept out", "extra\n    deeper\n        x = 1\ncurve\n    public-key = \"" + testPub + "\"\n", "", map[string]string{}},
		{"no trailing newline, empty metadata", "metadata\ncurve\n    public-key=\"" + testPub + "\"", "", map[string]string{}},
		{"secret, no metadata", "curve\n    public-key = \"" + testPub + "\"\n    secret-key = \"" + testSec + "\"\n", testSec, map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse("f", []byte(c.text))
			if err != nil {
				t.Fatal(err)
			}
			if got.PublicKey != testPub || got.SecretKey != c.sec {
				t.Errorf("keys %q %q, want %q %q", got.PublicKey, got.SecretKey, testPub, c.sec)
			}
			if len(got.Metadata) != len(c.metadata) {
				t.Errorf("metadata %v, want %v", got.Metadata, c.metadata)
			}
			for k, v := range c.metadata {
				if got.Metadata[k] != v {
					t.Errorf("metadata %q = %q, want %q", k, got.Metadata[k], v)
				}
			}
		})
	}
}

// TestParseErrors: each malformed file is an error naming the file and the
// line at fault.
func TestParseErrors(t *testing.T) {
	other, _ := New()
	cases := []struct {
		name string
		text string
		line int    // 0: not a SyntaxError
		want string // in the message
		is   error
	}{
		{"not a name", "curve\n    public-key = \"" + testPub + "\"\n    !bad = 1\n", 3, "expected a name", nil},
		{"unterminated quote", "curve\n    public-key = \"" + testPub + "\n", 2, "no closing", nil},
		{"text after quote", "curve\n    public-key = \"" + testPub + "\" x\n", 2, "after the closing quote", nil},
		{"no equals", "curve\n    public-key \"" + testPub + "\"\n", 2, "expected '='", nil},
		{"bad dedent", "curve\n        a = 1\n    public-key = \"" + testPub + "\"\n", 3, "indentation", nil},
		{"indented first line", "    curve\n", 1, "nothing above", nil},
		{"short key", "curve\n    public-key = \"abc\"\n", 2, "40 Z85", nil},
		{"bad Z85", "curve\n    public-key = \"" + strings.Repeat("~", 40) + "\"\n", 2, "public-key", nil},
		{"mismatched secret", "curve\n    public-key = \"" + other.PublicKey + "\"\n    secret-key = \"" + testSec + "\"\n", 3, "not the secret key", nil},
		{"twice", "curve\n    public-key = \"" + testPub + "\"\n    public-key = \"" + testPub + "\"\n", 3, "twice", nil},
		{"second section", "curve\n    public-key = \"" + testPub + "\"\ncurve\n", 3, "second", nil},
		{"key with children", "curve\n    public-key = \"" + testPub + "\"\n        x = 1\n", 3, "cannot have entries", nil},
		{"invalid UTF-8", "metadata\n    a = \"\xff\"\n", 2, "UTF-8", nil},
		{"too deep", "a\n b\n  c\n   d\n    e\n     f\n      g\n       h\n        i\n", 9, "levels deep", nil},
		{"no public key", "metadata\n    a = 1\n", 0, "no public-key", ErrNoPublicKey},
		{"empty", "", 0, "no public-key", ErrNoPublicKey},
		{"too large", strings.Repeat("#\n", MaxFileSize), 0, "limit", ErrTooLarge},
		{"too many entries", "metadata\n" + strings.Repeat("    a = 1\n", maxNodes), maxNodes + 1, "entries", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("dir/f.key", []byte(c.text))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "dir/f.key") {
				t.Errorf("error %q: want it to name dir/f.key and say %q", err, c.want)
			}
			var se *SyntaxError
			if c.line > 0 {
				if !errors.As(err, &se) || se.Line != c.line || se.File != "dir/f.key" {
					t.Errorf("error %q (%#v): want a SyntaxError at dir/f.key:%d", err, se, c.line)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q: want errors.Is %v", err, c.is)
			}
		})
	}
}

func TestNew(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	pub, err1 := z85.Decode(c.PublicKey)
	sec, err2 := z85.Decode(c.SecretKey)
	if err1 != nil || err2 != nil || len(pub) != 32 || len(sec) != 32 {
		t.Fatalf("keys %q %q: %v %v", c.PublicKey, c.SecretKey, err1, err2)
	}
	derived, _ := curve25519.X25519(sec, curve25519.Basepoint)
	if !bytes.Equal(derived, pub) {
		t.Fatal("the public key is not the secret key's")
	}
	d, err := New()
	if err != nil || d.SecretKey == c.SecretKey {
		t.Fatalf("two New calls gave the same key (%v)", err)
	}
	f, err := FromSecretKey(testSec)
	if err != nil || f.PublicKey != testPub {
		t.Fatalf("FromSecretKey: %v, %v", f, err)
	}
	if _, err := FromSecretKey("short"); err == nil {
		t.Fatal("FromSecretKey accepted a short key")
	}
}

// TestSaveLoad: Save writes the public and the secret file (the secret one
// 0600), Load reads them back, with metadata, from either name.
func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c.Metadata["name"] = "server one"
	c.Metadata["quote"] = `say "hi"`
	c.Metadata["empty"] = ""
	path := filepath.Join(dir, "server.key")
	// An existing world-readable file is replaced by a 0600 one.
	if err := os.WriteFile(path+SecretSuffix, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path + SecretSuffix)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("secret file mode %v (%v), want 0600", fi.Mode(), err)
		}
	}
	pubText, _ := os.ReadFile(path)
	if bytes.Contains(pubText, []byte("secret-key")) || bytes.Contains(pubText, []byte(c.SecretKey)) {
		t.Fatalf("the public file holds the secret key:\n%s", pubText)
	}
	for _, p := range []string{path, path + SecretSuffix} {
		got, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.PublicKey != c.PublicKey || got.SecretKey != c.SecretKey {
			t.Errorf("Load(%s): keys differ", p)
		}
		for k, v := range c.Metadata {
			if got.Metadata[k] != v {
				t.Errorf("Load(%s): metadata %q = %q, want %q", p, k, got.Metadata[k], v)
			}
		}
	}
	// Only the public file: Load has no secret key.
	os.Remove(path + SecretSuffix)
	got, err := Load(path)
	if err != nil || got.SecretKey != "" || got.PublicKey != c.PublicKey {
		t.Fatalf("Load of a lone public file: %+v, %v", got, err)
	}
	// A secret file of another pair beside the public file is an error.
	o, _ := New()
	if err := o.SaveSecret(path + SecretSuffix); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "different public keys") {
		t.Fatalf("Load with a mismatched secret file: %v", err)
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d files, want 2: %v", len(entries), entries)
	}
}

func TestSaveRefuses(t *testing.T) {
	dir := t.TempDir()
	c, _ := New()
	cases := []struct {
		name string
		mod  func(*Cert)
	}{
		{"newline in a value", func(c *Cert) { c.Metadata["a"] = "x\ny" }},
		{"both quotes", func(c *Cert) { c.Metadata["a"] = `"'` }},
		{"bad name", func(c *Cert) { c.Metadata["a b"] = "x" }},
		{"empty name", func(c *Cert) { c.Metadata[""] = "x" }},
		{"mismatched keys", func(c *Cert) { o, _ := New(); c.SecretKey = o.SecretKey }},
		{"bad public key", func(c *Cert) { c.PublicKey = "x" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := *c
			d.Metadata = map[string]string{}
			tc.mod(&d)
			p := filepath.Join(dir, "x.key")
			if err := d.Save(p); err == nil {
				t.Fatal("Save succeeded")
			}
			if _, err := os.Stat(p); err == nil {
				t.Fatal("Save left a file")
			}
		})
	}
}

// TestLoadLimits: a file over MaxFileSize is refused from its size (a
// sparse 1 GiB file costs nothing to make and would cost 1 GiB to read),
// and so is anything but a regular file.
func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.key")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Load(big); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) {
		t.Fatalf("Load of a 1 GiB file: %v", err)
	}
	if _, err := LoadDir(dir); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("LoadDir with a 1 GiB file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Load of a directory: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v", err)
	}
}

// TestLoadDir: the *.key files of a directory, in name order, public keys
// only; a malformed one fails the whole, naming it.
func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for _, name := range []string{"b", "a", "c"} {
		c, _ := New()
		if err := c.Save(filepath.Join(dir, name+".key")); err != nil {
			t.Fatal(err)
		}
		want = append(want, c.PublicKey)
	}
	want[0], want[1] = want[1], want[0] // a, b, c
	os.WriteFile(filepath.Join(dir, "README"), []byte("not a certificate"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub.key"), 0o755)
	certs, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 3 {
		t.Fatalf("%d certificates, want 3", len(certs))
	}
	for i, c := range certs {
		if c.PublicKey != want[i] || c.SecretKey != "" {
			t.Errorf("cert %d: %q (secret %q), want %q without secret", i, c.PublicKey, c.SecretKey, want[i])
		}
	}
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("curve\n    public-key = \"short\"\n"), 0o644)
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), bad+":2:") {
		t.Fatalf("LoadDir with a bad file: %v, want it to name %s:2", err, bad)
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadDir of a missing directory: %v", err)
	}
}

// TestStatDir: the state changes when a certificate is added, rewritten or
// removed, and only then.
func TestStatDir(t *testing.T) {
	dir := t.TempDir()
	st := func() DirState {
		t.Helper()
		s, err := StatDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s0 := st()
	if !s0.Equal(st()) {
		t.Fatal("two states of an unchanged directory differ")
	}
	c, _ := New()
	p := filepath.Join(dir, "a.key")
	c.Save(p)
	s1 := st()
	if s1.Equal(s0) {
		t.Fatal("adding a certificate left the state unchanged")
	}
	os.WriteFile(filepath.Join(dir, "note.txt"), []byte("x"), 0o644)
	if !st().Equal(s1) {
		t.Fatal("a file that is no certificate changed the state")
	}
	// Rewritten in place with the same size: the time tells.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	s2 := st()
	if s2.Equal(s1) {
		t.Fatal("a new modification time left the state unchanged")
	}
	// Replaced by another certificate of the same size with the old
	// times kept (cp -p): the status change time tells, where there is one.
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		before := len(mustRead(t, p))
		d, _ := New()
		d.Save(p)
		os.Chtimes(p, old, old)
		if after := len(mustRead(t, p)); after != before {
			t.Fatalf("the new certificate has %d bytes, the old %d: the case needs the same size", after, before)
		}
		if st().Equal(s2) {
			t.Fatal("a certificate replaced with the same size and times left the state unchanged")
		}
	}
	os.Remove(p)
	if !st().Equal(s0) {
		t.Fatal("removing the certificate did not give back the empty state")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(pyzmqSecret))
	f.Add([]byte("metadata\n\tk = 'v'\ncurve\n\tpublic-key = " + testPub + "\n"))
	f.Add([]byte("a\n  b\n    c = \"x\" # y\n  d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		// What parses must survive a round trip when it can be written.
		out, err := c.encode(c.SecretKey != "")
		if err != nil {
			return
		}
		d, err := Parse("again", out)
		if err != nil {
			t.Fatalf("re-parse of\n%s\n: %v", out, err)
		}
		if d.PublicKey != c.PublicKey || d.SecretKey != c.SecretKey || len(d.Metadata) != len(c.Metadata) {
			t.Fatalf("round trip changed %+v into %+v", c, d)
		}
		for k, v := range c.Metadata {
			if d.Metadata[k] != v {
				t.Fatalf("round trip changed %q: %q into %q", k, v, d.Metadata[k])
			}
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
