// Package cert reads and writes CURVE certificates: the text files in
// which czmq's zcert and pyzmq's zmq.auth keep a CURVE key pair and its
// metadata, in the ZPL format of RFC 4.
//
// A certificate comes as two files. The public one (pyzmq: NAME.key,
// czmq: NAME) holds the public key and can be handed out; the secret one,
// the same name with "_secret" appended (NAME.key_secret), holds both keys
// and is written readable by its owner only:
//
//	#   ZeroMQ CURVE **Secret** Certificate
//	#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.
//
//	metadata
//	    name = "server"
//	curve
//	    public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
//	    secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
//
// Keys are Z85 text, as azmq.WithCurveServer and azmq.WithCurveClient take
// them. Load reads what pyzmq's create_certificates and czmq's zcert_save
// write, and pyzmq's load_certificate and load_certificates (so its
// Authenticator's configure_curve(location=DIR)) read what Save writes.
// Package zap admits the clients whose public certificates are in a
// directory (zap.Handler.AllowCurveDir).
//
// Reading is bounded: a file over MaxFileSize is refused from its size, and
// a malformed file is a *SyntaxError naming the file and line.
package cert

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/azmq/azmq/z85"
	"golang.org/x/crypto/curve25519"
)

// SecretSuffix is appended to a public certificate's file name to name the
// secret one, as czmq and pyzmq do.
const SecretSuffix = "_secret"

// PublicExt is the extension of the public certificates that LoadDir reads
// (and pyzmq's load_certificates, which czmq's naming also fits when the
// name given to zcert_save ends in it).
const PublicExt = ".key"

// MaxDirFiles bounds how many certificates LoadDir reads from a directory.
const MaxDirFiles = 10000

var (
	// ErrTooLarge means a certificate file is over MaxFileSize, or a
	// directory holds more than MaxDirFiles certificates.
	ErrTooLarge = errors.New("cert: too large")
	// ErrNoPublicKey means a certificate has no curve/public-key entry.
	ErrNoPublicKey = errors.New("cert: no public key")
)

// SyntaxError is a malformed certificate: the file, the line (1-based)
// and what is wrong there.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("cert: %s:%d: %s", e.File, e.Line, e.Msg)
}

// Cert is a CURVE certificate.
type Cert struct {
	// PublicKey is the public key in Z85 (40 characters).
	PublicKey string
	// SecretKey is the secret key in Z85, or "" when only the public
	// certificate was read.
	SecretKey string
	// Metadata is the metadata section: free-form names and values (a
	// name is letters, digits and "$-_@.&+/"; a value one line of text).
	Metadata map[string]string
}

// New returns a certificate with a fresh key pair and no metadata.
func New() (*Cert, error) {
	var sec [32]byte
	if _, err := rand.Read(sec[:]); err != nil {
		return nil, fmt.Errorf("cert: New: %w", err)
	}
	pub, err := curve25519.X25519(sec[:], curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("cert: New: %w", err)
	}
	c := &Cert{Metadata: map[string]string{}}
	c.PublicKey, _ = z85.Encode(pub) // 32 bytes: cannot fail
	c.SecretKey, _ = z85.Encode(sec[:])
	return c, nil
}

// FromSecretKey returns the certificate of a secret key in Z85, its public
// key derived from it.
func FromSecretKey(secretKey string) (*Cert, error) {
	sec, err := decodeKey(secretKey)
	if err != nil {
		return nil, fmt.Errorf("cert: secret key: %w", err)
	}
	pub, err := curve25519.X25519(sec, curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("cert: secret key: %w", err)
	}
	p, _ := z85.Encode(pub)
	return &Cert{PublicKey: p, SecretKey: secretKey, Metadata: map[string]string{}}, nil
}

// decodeKey checks that key is 40 characters of Z85 and returns its bytes.
func decodeKey(key string) ([]byte, error) {
	if len(key) != 40 {
		return nil, fmt.Errorf("want 40 Z85 characters, have %d", len(key))
	}
	raw, err := z85.Decode(key)
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// Parse reads a certificate from data, the contents of the file named
// file (used in errors only). It accepts a public or a secret
// certificate; a secret key must be the public key's.
func Parse(file string, data []byte) (*Cert, error) {
	root, err := parseZPL(file, data)
	if err != nil {
		return nil, err
	}
	c := &Cert{Metadata: map[string]string{}}
	seen := map[string]int{} // section and key -> line, to refuse doubles
	for _, sec := range root.children {
		if sec.name != "metadata" && sec.name != "curve" {
			continue // another section: czmq keeps it, a certificate has no use for it
		}
		if l, dup := seen[sec.name]; dup {
			return nil, &SyntaxError{file, sec.line, fmt.Sprintf("second %q section (the first is on line %d)", sec.name, l)}
		}
		seen[sec.name] = sec.line
		for _, e := range sec.children {
			where := sec.name + "/" + e.name
			if l, dup := seen[where]; dup {
				return nil, &SyntaxError{file, e.line, fmt.Sprintf("%s given twice (also on line %d)", where, l)}
			}
			seen[where] = e.line
			if len(e.children) > 0 {
				return nil, &SyntaxError{file, e.children[0].line, fmt.Sprintf("%s cannot have entries under it", where)}
			}
			if sec.name == "metadata" {
				c.Metadata[e.name] = e.value
				continue
			}
			switch e.name {
			case "public-key", "secret-key":
				if _, err := decodeKey(e.value); err != nil {
					return nil, &SyntaxError{file, e.line, fmt.Sprintf("%s: %v", e.name, err)}
				}
				if e.name == "public-key" {
					c.PublicKey = e.value
				} else {
					c.SecretKey = e.value
				}
			}
		}
	}
	if c.PublicKey == "" {
		return nil, fmt.Errorf("%w: %s: no public-key in a curve section", ErrNoPublicKey, file)
	}
	if c.SecretKey != "" {
		derived, err := FromSecretKey(c.SecretKey)
		if err != nil || derived.PublicKey != c.PublicKey {
			return nil, &SyntaxError{file, seen["curve/secret-key"], "secret-key is not the secret key of public-key"}
		}
	}
	return c, nil
}

// readFile reads a certificate file of at most MaxFileSize bytes; it
// refuses a larger file, or one that is not a regular file (a FIFO would
// block), before reading it.
func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cert: %s: not a regular file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%w: %s: %d bytes, limit %d", ErrTooLarge, path, fi.Size(), MaxFileSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	defer f.Close()
	// The file may have grown since Stat: read one byte past the limit
	// to tell.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cert: %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s: over %d bytes", ErrTooLarge, path, MaxFileSize)
	}
	return data, nil
}

// Load reads the certificate file at path. When it is a public
// certificate and path+SecretSuffix exists, it reads the secret key from
// there too, as czmq's zcert_load does; the two must hold the same public
// key. Metadata comes from the file at path.
func Load(path string) (*Cert, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(path, data)
	if err != nil || c.SecretKey != "" || strings.HasSuffix(path, SecretSuffix) {
		return c, err
	}
	secPath := path + SecretSuffix
	if _, err := os.Stat(secPath); errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	data, err = readFile(secPath)
	if err != nil {
		return nil, err
	}
	s, err := Parse(secPath, data)
	if err != nil {
		return nil, err
	}
	if s.PublicKey != c.PublicKey {
		return nil, fmt.Errorf("cert: %s and %s hold different public keys", path, secPath)
	}
	c.SecretKey = s.SecretKey
	return c, nil
}

// LoadDir reads the public certificates of dir: its files whose names end
// in PublicExt (".key"), as pyzmq's load_certificates does, in name order.
// Secret keys are not kept. A malformed file makes it fail, naming the
// file; so do more than MaxDirFiles certificates.
func LoadDir(dir string) ([]*Cert, error) {
	names, err := dirNames(dir)
	if err != nil {
		return nil, err
	}
	certs := make([]*Cert, 0, len(names))
	for _, name := range names {
		path := filepath.Join(dir, name)
		data, err := readFile(path)
		if err != nil {
			return nil, err
		}
		c, err := Parse(path, data)
		if err != nil {
			return nil, err
		}
		c.SecretKey = ""
		certs = append(certs, c)
	}
	return certs, nil
}

// dirNames lists the public certificate names of dir, sorted.
func dirNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), PublicExt) || e.IsDir() {
			continue
		}
		if len(names) == MaxDirFiles {
			return nil, fmt.Errorf("%w: %s: more than %d certificates", ErrTooLarge, dir, MaxDirFiles)
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// DirState describes the certificates of a directory as they are on disk
// (names, sizes, modification times and, on Linux and macOS, inodes and
// status change times, which a copy that keeps times cannot set back), so
// that a reader can tell
// cheaply whether LoadDir would read anything new: two states that are not
// Equal mean the directory changed.
type DirState struct {
	files []fileState
}

type fileState struct {
	name   string
	size   int64
	mtime  time.Time
	change [2]int64 // inode and status change time, where the system has them
}

// StatDir returns the DirState of dir, without reading its files.
func StatDir(dir string) (DirState, error) {
	names, err := dirNames(dir)
	if err != nil {
		return DirState{}, err
	}
	st := DirState{files: make([]fileState, 0, len(names))}
	for _, name := range names {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // removed since the listing
			}
			return DirState{}, fmt.Errorf("cert: %w", err)
		}
		st.files = append(st.files, fileState{name, fi.Size(), fi.ModTime(), changeID(fi)})
	}
	return st, nil
}

// Equal reports whether s and o describe the same files, sizes and times.
func (s DirState) Equal(o DirState) bool {
	return slices.EqualFunc(s.files, o.files, func(a, b fileState) bool {
		return a.name == b.name && a.size == b.size && a.mtime.Equal(b.mtime) && a.change == b.change
	})
}

// The banners czmq and pyzmq write at the top of each file.
const (
	publicBanner = `#   ****  Generated on %s by azmq  ****
#   ZeroMQ CURVE Public Certificate
#   Exchange securely, or use a secure mechanism to verify the contents
#   of this file after exchange. Store public certificates in your home
#   directory, in the .curve subdirectory.

`
	secretBanner = `#   ****  Generated on %s by azmq  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

`
)

// encode returns the file text of c, with the secret key if secret.
func (c *Cert) encode(secret bool) ([]byte, error) {
	if _, err := decodeKey(c.PublicKey); err != nil {
		return nil, fmt.Errorf("cert: public key: %w", err)
	}
	if secret {
		d, err := FromSecretKey(c.SecretKey)
		if err != nil {
			return nil, err
		}
		if d.PublicKey != c.PublicKey {
			return nil, errors.New("cert: the secret key is not the public key's")
		}
	}
	var b bytes.Buffer
	banner := publicBanner
	if secret {
		banner = secretBanner
	}
	fmt.Fprintf(&b, banner, time.Now().Format("2006-01-02 15:04:05"))
	b.WriteString("metadata\n")
	names := make([]string, 0, len(c.Metadata))
	for k := range c.Metadata {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		q, err := quote(c.Metadata[k])
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return r >= 0x80 || !isNameByte(byte(r)) }) >= 0 {
			return nil, fmt.Errorf("cert: metadata name %q: want letters, digits and $-_@.&+/", k)
		}
		if err != nil {
			return nil, fmt.Errorf("cert: metadata %q: %w", k, err)
		}
		fmt.Fprintf(&b, "    %s = %s\n", k, q)
	}
	fmt.Fprintf(&b, "curve\n    public-key = %q\n", c.PublicKey)
	if secret {
		fmt.Fprintf(&b, "    secret-key = %q\n", c.SecretKey)
	}
	if b.Len() > MaxFileSize {
		return nil, fmt.Errorf("%w: the certificate would be %d bytes, limit %d", ErrTooLarge, b.Len(), MaxFileSize)
	}
	return b.Bytes(), nil
}

// quote quotes a metadata value so that Parse reads it back unchanged.
func quote(v string) (string, error) {
	switch {
	case strings.ContainsAny(v, "\r\n"):
		return "", errors.New("a value is one line")
	case !strings.Contains(v, `"`):
		return `"` + v + `"`, nil
	case !strings.Contains(v, `'`):
		return `'` + v + `'`, nil
	}
	return "", errors.New(`a value cannot hold both " and '`)
}

// Save writes the public certificate to path and, when c has a secret
// key, the secret one to path+SecretSuffix, as czmq's zcert_save does. Give
// a path ending in ".key" for pyzmq's naming (NAME.key, NAME.key_secret),
// which its load_certificates and LoadDir look for.
func (c *Cert) Save(path string) error {
	if c.SecretKey != "" {
		// The secret first: a public certificate without it would look
		// like a complete save.
		if err := c.SaveSecret(path + SecretSuffix); err != nil {
			return err
		}
	}
	return c.SavePublic(path)
}

// SavePublic writes the public certificate (metadata and public key) to
// path, readable by all (mode 0644).
func (c *Cert) SavePublic(path string) error {
	data, err := c.encode(false)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o644)
}

// SaveSecret writes the secret certificate (metadata and both keys) to
// path, readable by its owner only (mode 0600).
func (c *Cert) SaveSecret(path string) error {
	data, err := c.encode(true)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o600)
}

// writeFile writes data to path through a temporary file in the same
// directory, renamed over path: a reader (zap re-reading a directory)
// never sees half a file, and a secret file has its mode from the start
// even when it replaces a file with another.
func writeFile(path string, data []byte, mode os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// The temporary name does not end in ".key", so LoadDir skips it.
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("cert: %s: %w", path, err)
	}
	// CreateTemp makes it 0600; the public file opens up afterwards.
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cert: %s: %w", path, err)
	}
	return nil
}
