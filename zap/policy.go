package zap

import (
	"fmt"
	"sync"
	"time"

	"github.com/azmq/azmq/cert"
	"github.com/azmq/azmq/z85"
)

// DirRecheck is how often, at most, a directory given to AllowCurveDir is
// looked at again for added, changed or removed certificates: a CURVE
// request that finds the last look older than this lists the directory
// and compares names, sizes and modification times, and reads the
// certificates again if any differ. The bound keeps a flood of handshakes
// from turning into a flood of directory reads.
const DirRecheck = time.Second

// policy is one set of rules: the Handler's global one or a domain's.
// Its fields are guarded by the Handler's mu.
type policy struct {
	allow    addrList
	deny     addrList
	users    map[string]digest   // PLAIN: username -> digest of the password
	keys     map[string]struct{} // CURVE: allowed public keys, canonical Z85
	anyCurve bool
	dirs     []*certDir // CURVE: directories of allowed certificates; replaced, never changed in place
}

func newPolicy() policy {
	return policy{users: make(map[string]digest), keys: make(map[string]struct{})}
}

// policyFor is the policy that decides a request for domain. h.mu is held.
func (h *Handler) policyFor(domain string) *policy {
	if p, ok := h.domains[domain]; ok {
		return p
	}
	return &h.policy
}

// Policy is the rules of one ZAP domain: its own address lists, PLAIN
// users and CURVE keys. Get one with Handler.Domain. Its methods work as
// the Handler's methods of the same names, on this domain's rules only.
type Policy struct {
	h *Handler
	p *policy
}

// Domain returns the policy of the ZAP domain name (the one a server
// socket sets with azmq.WithZAPDomain), making an empty one on first use:
// once a domain has a policy, its requests are decided by that policy
// alone, and the Handler's own lists (the global policy) no longer apply to
// them, the address lists included. Requests for a domain without a policy
// of its own, and for the empty domain, are decided by the global policy,
// which the Handler's methods configure. Domain("") and Domain("*") (pyzmq's
// name for "every domain") return the global policy. SetAuthFunc, when
// set, decides for every domain, after the domain's address lists.
func (h *Handler) Domain(name string) *Policy {
	h.mu.Lock()
	defer h.mu.Unlock()
	if name == "" || name == "*" {
		return &Policy{h, &h.policy}
	}
	p, ok := h.domains[name]
	if !ok {
		np := newPolicy()
		p = &np
		h.domains[name] = p
	}
	return &Policy{h, p}
}

// global is the Handler's own policy as a Policy.
func (h *Handler) global() *Policy { return &Policy{h, &h.policy} }

// Allow adds addresses to the allow list. An entry is an IP address
// ("192.0.2.7", "::1") or a prefix ("10.0.0.0/8", "fd00::/8"); any other
// string matches only an address frame equal to it. When the allow list is
// non-empty, only clients whose address is on it can pass; an empty allow
// list lets every address pass (the deny list still applies).
func (h *Handler) Allow(addrs ...string) { h.global().Allow(addrs...) }

// Deny adds addresses to the deny list, written as for Allow. A client whose
// address is on the deny list is denied (400), whatever the allow list says.
func (h *Handler) Deny(addrs ...string) { h.global().Deny(addrs...) }

// AddUser adds a PLAIN user, or replaces the password of an existing one.
// A PLAIN client passes only with a username from this table and its
// password; its User-Id is then the username.
func (h *Handler) AddUser(username, password string) { h.global().AddUser(username, password) }

// AllowCurveKey adds CURVE client public keys, each in Z85 (40 characters),
// to the list of keys that pass; the User-Id of such a client is its key in
// Z85. If a key is malformed, AllowCurveKey adds none of them and returns an
// error that names it.
func (h *Handler) AllowCurveKey(publicKeys ...string) error {
	return h.global().AllowCurveKey(publicKeys...)
}

// AllowAnyCurve lets every CURVE client pass whose handshake succeeded,
// whatever its public key, subject to the address lists still. Its User-Id
// is its public key in Z85.
func (h *Handler) AllowAnyCurve() { h.global().AllowAnyCurve() }

// AllowCurveDir lets the CURVE clients pass whose public certificates are
// in dir: its files named *.key, as package cert reads them and pyzmq's
// configure_curve(location=dir) does. The User-Id of such a client is its
// key in Z85. AllowCurveDir reads dir at once and fails, naming the file
// and line, if it cannot; afterwards the directory is looked at again at
// most every DirRecheck during requests, so a certificate added to it
// lets its client in within that time, and a removed one stops letting it
// in. While a re-read fails (a malformed file, an unreadable directory)
// the directory admits nobody, and clients it would have decided get
// status 300, a temporary error, so they try again. Several directories
// may be added; a key found in any of them passes.
func (h *Handler) AllowCurveDir(dir string) error { return h.global().AllowCurveDir(dir) }

// Allow adds addresses to this domain's allow list; see Handler.Allow.
func (p *Policy) Allow(addrs ...string) {
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	p.p.allow.add(addrs)
}

// Deny adds addresses to this domain's deny list; see Handler.Deny.
func (p *Policy) Deny(addrs ...string) {
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	p.p.deny.add(addrs)
}

// AddUser adds a PLAIN user to this domain; see Handler.AddUser.
func (p *Policy) AddUser(username, password string) {
	d := p.h.digest([]byte(password))
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	p.p.users[username] = d
}

// AllowCurveKey adds CURVE client keys to this domain; see
// Handler.AllowCurveKey.
func (p *Policy) AllowCurveKey(publicKeys ...string) error {
	canon := make([]string, 0, len(publicKeys))
	for _, k := range publicKeys {
		c, err := canonKey(k)
		if err != nil {
			return err
		}
		canon = append(canon, c)
	}
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	for _, k := range canon {
		p.p.keys[k] = struct{}{}
	}
	return nil
}

// canonKey checks a CURVE public key in Z85 and returns its canonical form.
func canonKey(k string) (string, error) {
	if len(k) != 40 {
		return "", fmt.Errorf("zap: CURVE public key %q: want 40 Z85 characters, have %d", k, len(k))
	}
	raw, err := z85.Decode(k)
	if err != nil {
		return "", fmt.Errorf("zap: CURVE public key %q: %w", k, err)
	}
	if len(raw) != 32 {
		return "", fmt.Errorf("zap: CURVE public key %q: decodes to %d bytes, want 32", k, len(raw))
	}
	text, err := z85.Encode(raw)
	if err != nil {
		return "", fmt.Errorf("zap: CURVE public key %q: %w", k, err)
	}
	return text, nil
}

// AllowAnyCurve lets every CURVE client of this domain pass; see
// Handler.AllowAnyCurve.
func (p *Policy) AllowAnyCurve() {
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	p.p.anyCurve = true
}

// AllowCurveDir lets the CURVE clients of this domain pass whose public
// certificates are in dir; see Handler.AllowCurveDir.
func (p *Policy) AllowCurveDir(dir string) error {
	d := &certDir{path: dir}
	if err := d.refresh(time.Now()); err != nil {
		return fmt.Errorf("zap: AllowCurveDir: %w", err)
	}
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	dirs := make([]*certDir, len(p.p.dirs), len(p.p.dirs)+1)
	copy(dirs, p.p.dirs)
	p.p.dirs = append(dirs, d)
	return nil
}

// certDir is a directory of public certificates and the keys last read
// from it.
type certDir struct {
	path string

	mu      sync.Mutex // held during a re-read: requests for it wait, others do not
	checked time.Time  // when the directory was last looked at
	state   cert.DirState
	keys    map[string]struct{} // canonical Z85; nil while err is set
	err     error               // why the last look failed
}

// has reports whether key is among the directory's certificates, looking
// at the directory again first if the last look is recheck old. A
// directory that cannot be read has no keys and returns why.
func (d *certDir) has(key string, recheck time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now := time.Now(); now.Sub(d.checked) >= recheck {
		d.refresh(now)
	}
	if d.err != nil {
		return false, d.err
	}
	_, ok := d.keys[key]
	return ok, nil
}

// refresh looks at the directory and re-reads it if it changed. d.mu is
// held, or d is not shared yet.
func (d *certDir) refresh(now time.Time) error {
	d.checked = now
	// The state is taken before the files are read: a change made during
	// the read shows at the next look.
	st, err := cert.StatDir(d.path)
	if err == nil && d.err == nil && d.keys != nil && st.Equal(d.state) {
		return nil
	}
	if err == nil {
		var certs []*cert.Cert
		if certs, err = cert.LoadDir(d.path); err == nil {
			keys := make(map[string]struct{}, len(certs))
			for _, c := range certs {
				k, kerr := canonKey(c.PublicKey)
				if kerr != nil {
					err = kerr
					break
				}
				keys[k] = struct{}{}
			}
			if err == nil {
				d.state, d.keys, d.err = st, keys, nil
				return nil
			}
		}
	}
	d.state, d.keys, d.err = cert.DirState{}, nil, err
	return err
}
