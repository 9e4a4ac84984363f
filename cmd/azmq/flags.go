package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/cert"
	"github.com/azmq/azmq/z85"
	"github.com/azmq/azmq/zap"
)

// strList is a repeatable string flag.
type strList []string

func (l *strList) String() string     { return strings.Join(*l, ",") }
func (l *strList) Set(v string) error { *l = append(*l, v); return nil }

// optDuration is a duration flag that knows whether it was given.
type optDuration struct {
	d   time.Duration
	set bool
}

func (o *optDuration) String() string {
	if o == nil || !o.set {
		return ""
	}
	return o.d.String()
}

func (o *optDuration) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("bad duration (want e.g. 500ms, 2s)")
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	o.d, o.set = d, true
	return nil
}

// newFlagSet makes a flag set that reports errors to us, not to stderr.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses a command line whose flags may come before, between
// or after its positional arguments (Go's flag package stops at the first
// of those); "--" ends the flags: everything after it is positional. It
// returns the positional arguments, or a usage error, or flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErr("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printHelp prints a command's help text and its flags.
func printHelp(w io.Writer, fs *flag.FlagSet, text string) {
	io.WriteString(w, text)
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// socketTypes are the types send and recv know, in the order their
// errors list them.
var socketTypes = []azmq.SocketType{azmq.PAIR, azmq.PUB, azmq.SUB, azmq.REQ, azmq.REP,
	azmq.DEALER, azmq.ROUTER, azmq.PULL, azmq.PUSH, azmq.XPUB, azmq.XSUB, azmq.STREAM,
	azmq.SERVER, azmq.CLIENT, azmq.RADIO, azmq.DISH, azmq.SCATTER, azmq.GATHER, azmq.PEER, azmq.CHANNEL}

// parseType reads a socket type name, in any case.
func parseType(name string) (azmq.SocketType, error) {
	names := make([]string, len(socketTypes))
	for i, t := range socketTypes {
		if strings.EqualFold(name, t.String()) {
			return t, nil
		}
		names[i] = t.String()
	}
	return 0, usageErr("unknown socket type %q (%s)", name, strings.Join(names, " "))
}

// canRecv and canSend tell what a socket type allows.
func canRecv(t azmq.SocketType) bool {
	switch t {
	case azmq.PUB, azmq.PUSH, azmq.RADIO, azmq.SCATTER:
		return false
	}
	return true
}

func canSend(t azmq.SocketType) bool {
	switch t {
	case azmq.SUB, azmq.PULL, azmq.DISH, azmq.GATHER:
		return false
	}
	return true
}

// singleFrame tells whether a type's messages are one frame (the draft
// types): a message of more is refused before anything is sent.
func singleFrame(t azmq.SocketType) bool {
	switch t {
	case azmq.SERVER, azmq.CLIENT, azmq.RADIO, azmq.DISH, azmq.SCATTER, azmq.GATHER, azmq.PEER, azmq.CHANNEL:
		return true
	}
	return false
}

// checkGroup refuses a group name azmq would refuse later, once the
// socket is made.
func checkGroup(cmd, flagName, g string) error {
	if len(g) > azmq.MaxGroupLen {
		return usageErr("%s: --%s: a group of %d bytes, at most %d allowed", cmd, flagName, len(g), azmq.MaxGroupLen)
	}
	return nil
}

// plainPasswordEnv names the environment variable that may hold the
// PLAIN password: unlike a command-line argument, other users cannot read
// it (ps, /proc/PID/cmdline).
const plainPasswordEnv = "AZMQ_PLAIN_PASSWORD"

// secFlags are the security flags every socket-making command takes.
type secFlags struct {
	plainUser, plainPass string
	plainPassFile        string
	plainServer          bool
	curveServerSecret    string // --curve-server-secret: be a CURVE server
	curveServerPublic    string // --curve-server-public: be a CURVE client of this server
	curvePublic          string
	curveSecret          string
	curveKeyfile         string
	curveAllow           strList
	curveCert            string // --curve-cert: this socket's pair, a secret certificate
	curveServerCert      string // --curve-server-cert: be a CURVE client of this server
	curveAllowDir        string // --curve-allow-dir: admit the certificates of this directory
	tlsCert, tlsKey      string // --tls-cert, --tls-key: a wss server's certificate
	tlsCA                string // --tls-ca: the roots a wss client trusts

	lookupEnv func(string) (string, bool) // os.LookupEnv when nil; tests set it
}

func (f *secFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.plainUser, "plain-user", "", "PLAIN user `NAME`: as a client, the one to log in as; with --plain-server, the one to admit")
	fs.StringVar(&f.plainPass, "plain-password", "", "PLAIN `PASSWORD` (see --plain-user). Other users of this machine can read a command line (ps): prefer --plain-password-file or $"+plainPasswordEnv)
	fs.StringVar(&f.plainPassFile, "plain-password-file", "", "read the PLAIN password from `FILE`: all of it but a final newline")
	fs.BoolVar(&f.plainServer, "plain-server", false, "be a PLAIN server admitting --plain-user with the password given")
	fs.StringVar(&f.curveServerSecret, "curve-server-secret", "", "be a CURVE server with this secret `KEY` (Z85, or @FILE: the secret key of an 'azmq keygen' file)")
	fs.StringVar(&f.curveServerPublic, "curve-server-public", "", "be a CURVE client of the server with this public `KEY` (Z85, or @FILE: the public key of an 'azmq keygen' file)")
	fs.StringVar(&f.curvePublic, "curve-client-public", "", "a CURVE client's own public `KEY` (Z85 or @FILE; default: from --curve-keyfile, else a new key pair)")
	fs.StringVar(&f.curveSecret, "curve-client-secret", "", "a CURVE client's own secret `KEY` (Z85 or @FILE)")
	fs.StringVar(&f.curveKeyfile, "curve-keyfile", "", "this socket's key pair, an 'azmq keygen' `FILE`: a CURVE client's pair with --curve-server-public, else the CURVE server's key")
	fs.Var(&f.curveAllow, "curve-allow", "CURVE server: admit only clients with this public `KEY` (Z85 or @FILE; repeatable; default: any client)")
	fs.StringVar(&f.curveCert, "curve-cert", "", "this socket's key pair from a secret certificate `FILE` (czmq/pyzmq format, 'azmq keygen --out'): as --curve-keyfile")
	fs.StringVar(&f.curveServerCert, "curve-server-cert", "", "be a CURVE client of the server whose public certificate is `FILE` (as --curve-server-public)")
	fs.StringVar(&f.curveAllowDir, "curve-allow-dir", "", "CURVE server: admit the clients whose public certificates (*.key) are in `DIR`, re-read when it changes; with --curve-allow, a client on either passes")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "wss:// Bind: the server's certificate chain, a PEM `FILE` (with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "wss:// Bind: the private key of --tls-cert, a PEM `FILE`")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "wss:// Connect: trust the certificates in this PEM `FILE` instead of the system's roots")
}

// tlsOption turns --tls-cert, --tls-key and --tls-ca into WithTLSConfig;
// none given: no option (a wss Connect then checks the system's roots).
func (f *secFlags) tlsOption() ([]azmq.SocketOption, error) {
	if f.tlsCert == "" && f.tlsKey == "" && f.tlsCA == "" {
		return nil, nil
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, usageErr("--tls-cert and --tls-key go together: a certificate and its private key")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return nil, usageErr("--tls-cert/--tls-key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if f.tlsCA != "" {
		pem, err := os.ReadFile(f.tlsCA)
		if err != nil {
			return nil, usageErr("--tls-ca: %v", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, usageErr("--tls-ca %s: no PEM certificate in it", f.tlsCA)
		}
	}
	return []azmq.SocketOption{azmq.WithTLSConfig(cfg)}, nil
}

// plainGiven, curveGiven and given tell whether PLAIN, CURVE or any
// security flags were given.
func (f *secFlags) plainGiven() bool {
	return f.plainServer || f.plainUser != "" || f.plainPass != "" || f.plainPassFile != ""
}

func (f *secFlags) curveGiven() bool {
	return f.curveServerSecret != "" || f.curveServerPublic != "" || f.curvePublic != "" ||
		f.curveSecret != "" || f.curveKeyfile != "" || len(f.curveAllow) > 0 ||
		f.curveCert != "" || f.curveServerCert != "" || f.curveAllowDir != ""
}

func (f *secFlags) given() bool { return f.plainGiven() || f.curveGiven() }

// keyFile reads the public and secret keys of a file in the format of
// "azmq keygen" (and libzmq's curve_keygen): each key on the line after
// its "== CURVE PUBLIC KEY ==" or "== CURVE SECRET KEY ==" header.
func keyFile(path string) (public, secret string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("key file: %w", err)
	}
	var want *string
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.EqualFold(line, "== CURVE PUBLIC KEY =="):
			want = &public
		case strings.EqualFold(line, "== CURVE SECRET KEY =="):
			want = &secret
		case want != nil:
			*want, want = line, nil
		}
	}
	if public == "" && secret == "" {
		return "", "", fmt.Errorf("key file %s: no '== CURVE PUBLIC KEY ==' or '== CURVE SECRET KEY ==' section (make one with: azmq keygen > %s)", path, path)
	}
	return public, secret, nil
}

// keyValue reads a key flag: the key itself, or @FILE for the public or
// secret key of a keygen file. Z85 has "@" in its alphabet: a valid
// 40-character key is a key, even when it starts with "@".
func keyValue(flagName, v string, secret bool) (string, error) {
	if len(v) == 40 {
		if _, err := z85.Decode(v); err == nil {
			return v, nil
		}
	}
	path, ok := strings.CutPrefix(v, "@")
	if !ok {
		return v, nil
	}
	pub, sec, err := keyFile(path)
	if err != nil {
		return "", err
	}
	k, what := pub, "PUBLIC"
	if secret {
		k, what = sec, "SECRET"
	}
	if k == "" {
		return "", fmt.Errorf("--%s: key file %s has no '== CURVE %s KEY ==' section", flagName, path, what)
	}
	return k, nil
}

// options turns the security flags into socket options. handler, when not
// nil, must serve ZAP in the socket's Context: it admits the PLAIN user
// or the allowed CURVE keys.
func (f *secFlags) options() (opts []azmq.SocketOption, handler *zap.Handler, err error) {
	tlsOpts, err := f.tlsOption()
	if err != nil {
		return nil, nil, err
	}
	opts, handler, err = f.mechanismOptions()
	return append(opts, tlsOpts...), handler, err
}

// mechanismOptions is options for the security mechanism alone.
func (f *secFlags) mechanismOptions() (opts []azmq.SocketOption, handler *zap.Handler, err error) {
	plain, curve := f.plainGiven(), f.curveGiven()
	if plain && curve {
		return nil, nil, usageErr("PLAIN and CURVE flags cannot be mixed: a socket has one security mechanism")
	}
	if plain {
		pass, err := f.plainPassword()
		if err != nil {
			return nil, nil, err
		}
		if f.plainUser == "" || pass == "" {
			const how = " (--plain-password-file FILE, $" + plainPasswordEnv + " or --plain-password)"
			if f.plainServer {
				return nil, nil, usageErr("--plain-server needs the --plain-user it admits and its password" + how)
			}
			return nil, nil, usageErr("a PLAIN client needs both --plain-user and a password" + how)
		}
		if !f.plainServer {
			return []azmq.SocketOption{azmq.WithPlainClient(f.plainUser, pass)}, nil, nil
		}
		h := zap.NewHandler()
		h.AddUser(f.plainUser, pass)
		return []azmq.SocketOption{azmq.WithPlainServer()}, h, nil
	}
	if !curve {
		return nil, nil, nil
	}
	// Two flags that give the same key would leave one of them unused.
	for _, own := range []struct{ name, value string }{
		{"--curve-keyfile", f.curveKeyfile},
		{"--curve-cert", f.curveCert},
	} {
		if own.value == "" {
			continue
		}
		for _, other := range []struct{ name, value string }{
			{"--curve-server-secret", f.curveServerSecret},
			{"--curve-client-public", f.curvePublic},
			{"--curve-client-secret", f.curveSecret},
			{"--curve-cert", f.curveCert},
		} {
			if other.value != "" && other.name != own.name {
				return nil, nil, usageErr("%s and %s both give this socket's keys: give one of them", own.name, other.name)
			}
		}
	}
	if f.curveServerPublic != "" && f.curveServerCert != "" {
		return nil, nil, usageErr("--curve-server-public and --curve-server-cert both give the server's key: give one of them")
	}
	var filePub, fileSec string
	if f.curveKeyfile != "" {
		if filePub, fileSec, err = keyFile(f.curveKeyfile); err != nil {
			return nil, nil, err
		}
	}
	if f.curveCert != "" {
		c, err := cert.Load(f.curveCert)
		if err != nil {
			return nil, nil, fmt.Errorf("--curve-cert: %w", err)
		}
		if c.SecretKey == "" {
			return nil, nil, fmt.Errorf("--curve-cert %s: a public certificate; give the secret one (%s%s)", f.curveCert, f.curveCert, cert.SecretSuffix)
		}
		filePub, fileSec = c.PublicKey, c.SecretKey
	}
	if f.curveServerPublic == "" && f.curveServerCert == "" { // a server
		if f.curvePublic != "" || f.curveSecret != "" {
			return nil, nil, usageErr("--curve-client-public and --curve-client-secret are a CURVE client's: give --curve-server-public too")
		}
		secret := fileSec
		if f.curveServerSecret != "" {
			if secret, err = keyValue("curve-server-secret", f.curveServerSecret, true); err != nil {
				return nil, nil, err
			}
		}
		if secret == "" {
			if f.curveKeyfile != "" {
				return nil, nil, fmt.Errorf("--curve-keyfile %s: no '== CURVE SECRET KEY ==' section for the server", f.curveKeyfile)
			}
			return nil, nil, usageErr("a CURVE server needs its secret key: --curve-server-secret KEY, --curve-keyfile FILE or --curve-cert FILE")
		}
		opts = []azmq.SocketOption{azmq.WithCurveServer(secret)}
		if len(f.curveAllow) > 0 || f.curveAllowDir != "" {
			h := zap.NewHandler()
			if f.curveAllowDir != "" {
				if err := h.AllowCurveDir(f.curveAllowDir); err != nil {
					return nil, nil, fmt.Errorf("--curve-allow-dir: %w", err)
				}
			}
			for _, a := range f.curveAllow {
				k, err := keyValue("curve-allow", a, false)
				if err != nil {
					return nil, nil, err
				}
				if err := h.AllowCurveKey(k); err != nil {
					return nil, nil, fmt.Errorf("--curve-allow: %w", err)
				}
			}
			handler = h
		}
		return opts, handler, nil
	}
	// A client.
	if f.curveServerSecret != "" || len(f.curveAllow) > 0 || f.curveAllowDir != "" {
		return nil, nil, usageErr("--curve-server-secret, --curve-allow and --curve-allow-dir are a CURVE server's, --curve-server-public and --curve-server-cert a client's: give one side")
	}
	var server string
	if f.curveServerCert != "" {
		c, err := cert.Load(f.curveServerCert)
		if err != nil {
			return nil, nil, fmt.Errorf("--curve-server-cert: %w", err)
		}
		server = c.PublicKey
	} else if server, err = keyValue("curve-server-public", f.curveServerPublic, false); err != nil {
		return nil, nil, err
	}
	pub, sec := filePub, fileSec
	if f.curvePublic != "" {
		if pub, err = keyValue("curve-client-public", f.curvePublic, false); err != nil {
			return nil, nil, err
		}
	}
	if f.curveSecret != "" {
		if sec, err = keyValue("curve-client-secret", f.curveSecret, true); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case pub == "" && sec == "":
		// No identity asked for: a fresh one, as many libzmq clients do.
		if pub, sec, err = azmq.NewCurveKeyPair(); err != nil {
			return nil, nil, err
		}
	case pub == "" || sec == "":
		return nil, nil, usageErr("a CURVE client needs both its public and its secret key (--curve-client-public and --curve-client-secret, --curve-keyfile or --curve-cert), or neither")
	}
	return []azmq.SocketOption{azmq.WithCurveClient(server, pub, sec)}, nil, nil
}

// plainPassword returns the PLAIN password: from --plain-password or
// --plain-password-file (giving both is a usage error), else from
// $AZMQ_PLAIN_PASSWORD, else "".
func (f *secFlags) plainPassword() (string, error) {
	switch {
	case f.plainPass != "" && f.plainPassFile != "":
		return "", usageErr("--plain-password and --plain-password-file cannot go together: give the password once")
	case f.plainPass != "":
		return f.plainPass, nil
	case f.plainPassFile != "":
		return passwordFile(f.plainPassFile)
	}
	lookup := f.lookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, _ := lookup(plainPasswordEnv)
	return v, nil
}

// passwordFile reads a password file: its content, without one final
// newline (\n or \r\n). A file of more than one line is refused rather
// than taken as a password with a newline in it, which is far more likely
// a mistake.
func passwordFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--plain-password-file: %w", err)
	}
	pass := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	switch {
	case pass == "":
		return "", fmt.Errorf("--plain-password-file %s: the file is empty", path)
	case strings.ContainsAny(pass, "\r\n"):
		return "", fmt.Errorf("--plain-password-file %s: more than one line; the password is the whole file but a final newline", path)
	case len(pass) > 255:
		return "", fmt.Errorf("--plain-password-file %s: a password of %d bytes, PLAIN allows at most 255", path, len(pass))
	}
	return pass, nil
}

// endpointFlags are --bind and --connect.
type endpointFlags struct {
	binds, connects strList
}

func (f *endpointFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.binds, "bind", "bind to `ENDPOINT` (repeatable; tcp://127.0.0.1:* picks a free port, printed as endpoint=... on stderr)")
	fs.Var(&f.connects, "connect", "connect to `ENDPOINT` (repeatable)")
}

// attach binds and connects s, printing each bound endpoint as
// "endpoint=..." on stderr.
func (f *endpointFlags) attach(s *azmq.Socket, stderr io.Writer) error {
	for _, ep := range f.binds {
		if err := s.Bind(ep); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "endpoint=%s\n", s.LastEndpoint())
	}
	for _, ep := range f.connects {
		if err := s.Connect(ep); err != nil {
			return err
		}
	}
	return nil
}

// newSocket makes a socket of t with the security and option flags, starting the
// ZAP handler they need in zctx (it serves until ctx ends).
func newSocket(ctx context.Context, zctx *azmq.Context, t azmq.SocketType, sec *secFlags, so *optFlags, opts ...azmq.SocketOption) (*azmq.Socket, error) {
	secOpts, handler, err := sec.options()
	if err != nil {
		return nil, err
	}
	more, err := so.options()
	if err != nil {
		return nil, err
	}
	secOpts = append(secOpts, more...)
	if handler != nil {
		if _, err := handler.Start(ctx, zctx); err != nil {
			return nil, err
		}
	}
	return zctx.NewSocket(t, append(opts, secOpts...)...)
}

// runContext is the life of a command: it ends at SIGINT or SIGTERM, or
// when the timeout (if not 0) expires. A second signal ends the process
// at once.
type runContext struct {
	context.Context
	sig     context.Context
	timeout time.Duration
	stop    func()
}

func newRunContext(timeout time.Duration) *runContext {
	sig, stopSig := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(sig, stopSig) // the next signal: the default action
	rc := &runContext{Context: sig, sig: sig, timeout: timeout}
	cancel := context.CancelFunc(func() {})
	if timeout > 0 {
		rc.Context, cancel = context.WithTimeout(sig, timeout)
	}
	rc.stop = func() { cancel(); stopSig() }
	return rc
}

// interrupted tells whether a signal ended the command.
func (rc *runContext) interrupted() bool { return rc.sig.Err() != nil }

// timedOut tells whether --timeout ended the command.
func (rc *runContext) timedOut() bool {
	return !rc.interrupted() && errors.Is(rc.Err(), context.DeadlineExceeded)
}

// why says what ended the command, for an error message.
func (rc *runContext) why() string {
	if rc.interrupted() {
		return "interrupted"
	}
	return fmt.Sprintf("timed out after %v", rc.timeout)
}

// peerWatch follows a socket's events, to say why nothing happened when a
// command times out.
type peerWatch struct {
	mu       sync.Mutex
	ok       int           // handshakes that succeeded
	lastFail string        // the last handshake or connection failure
	ready    chan struct{} // closed at the first handshake that succeeds
	done     chan struct{}
}

func watchPeers(ctx context.Context, s *azmq.Socket) *peerWatch {
	w := &peerWatch{ready: make(chan struct{}), done: make(chan struct{})}
	ev := s.Monitor(ctx)
	go func() {
		defer close(w.done)
		for e := range ev {
			w.mu.Lock()
			switch e.Kind {
			case azmq.EventHandshakeSucceeded:
				if w.ok++; w.ok == 1 {
					close(w.ready)
				}
			case azmq.EventHandshakeFailed, azmq.EventConnectDelayed:
				if e.Err != nil {
					w.lastFail = fmt.Sprintf("%v %s: %v", e.Kind, e.Endpoint, e.Err)
				}
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// hint says, for an error message, whether any peer was reached.
func (w *peerWatch) hint() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ok > 0 {
		return ""
	}
	if w.lastFail != "" {
		return " (no peer: " + w.lastFail + ")"
	}
	return " (no peer connected)"
}

// The output and input formats of messages.
const (
	fmtText = "text"
	fmtHex  = "hex"
	fmtJSON = "json"
)

// b64Prefix marks a JSON frame given in base64: a frame that is not UTF-8
// (or that is, but starts with the prefix itself).
const b64Prefix = "base64:"

// codec turns messages into lines of text and back.
type codec struct {
	format       string
	delim        string
	framePerLine bool
}

func (c *codec) register(fs *flag.FlagSet) {
	fs.StringVar(&c.format, "format", fmtText, "`FORMAT` of the frames printed and read: text, hex or json (see Formats above)")
	fs.StringVar(&c.delim, "delim", "", "the `STRING` between the frames of a message on one line (default: text input is one frame a line; output uses a space)")
	fs.BoolVar(&c.framePerLine, "frame-per-line", false, "one frame per line, a blank line after (or between) messages")
}

func (c *codec) check() error {
	switch c.format {
	case fmtText, fmtHex, fmtJSON:
	default:
		return usageErr("--format %q: want text, hex or json", c.format)
	}
	if c.framePerLine && c.delim != "" {
		return usageErr("--frame-per-line and --delim cannot go together")
	}
	return nil
}

// sep is what separates frames on an output line.
func (c *codec) sep() string {
	if c.delim != "" {
		return c.delim
	}
	return " "
}

// printable tells whether text mode shows a frame as it is.
func printable(f []byte) bool {
	if !utf8.Valid(f) {
		return false
	}
	for _, r := range string(f) {
		if r != '\t' && (unicode.IsControl(r) || r == utf8.RuneError) {
			return false
		}
	}
	return true
}

// frame renders one frame.
func (c *codec) frame(f []byte) string {
	switch c.format {
	case fmtHex:
		return hex.EncodeToString(f)
	case fmtJSON:
		s := string(f)
		if !utf8.Valid(f) || strings.HasPrefix(s, b64Prefix) {
			s = b64Prefix + base64.StdEncoding.EncodeToString(f)
		}
		return jsonString(s)
	}
	if printable(f) {
		return string(f)
	}
	return "0x" + hex.EncodeToString(f)
}

func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// encode renders a message as its output line(s), newline included.
func (c *codec) encode(msg [][]byte) string {
	var b strings.Builder
	if c.framePerLine {
		for _, f := range msg {
			b.WriteString(c.frame(f))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
		return b.String()
	}
	if c.format == fmtJSON {
		b.WriteByte('[')
		for i, f := range msg {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.frame(f))
		}
		b.WriteString("]\n")
		return b.String()
	}
	for i, f := range msg {
		if i > 0 {
			b.WriteString(c.sep())
		}
		b.WriteString(c.frame(f))
	}
	b.WriteByte('\n')
	return b.String()
}

// decodeFrame reads one frame written in the format (a command-line
// argument, or a line in --frame-per-line mode).
func (c *codec) decodeFrame(s string) ([]byte, error) {
	switch c.format {
	case fmtHex:
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("bad hex frame %q: %v", s, err)
		}
		return b, nil
	case fmtJSON:
		if strings.HasPrefix(s, "\"") { // a JSON string, on a line of its own
			var v string
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return nil, fmt.Errorf("bad JSON frame %s: %v", s, err)
			}
			s = v
		}
		return jsonFrame(s)
	}
	return []byte(s), nil
}

// jsonFrame decodes the base64 form of a JSON frame.
func jsonFrame(s string) ([]byte, error) {
	if b64, ok := strings.CutPrefix(s, b64Prefix); ok {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("bad base64 frame %q: %v", s, err)
		}
		return b, nil
	}
	return []byte(s), nil
}

// decodeLine reads one message from one input line.
func (c *codec) decodeLine(line string) ([][]byte, error) {
	switch c.format {
	case fmtJSON:
		var parts []string
		if err := json.Unmarshal([]byte(line), &parts); err != nil {
			return nil, fmt.Errorf("want a JSON array of strings a line, got %q: %v", line, err)
		}
		if len(parts) == 0 {
			return nil, fmt.Errorf("an empty JSON array: a message needs a frame")
		}
		msg := make([][]byte, len(parts))
		for i, p := range parts {
			f, err := jsonFrame(p)
			if err != nil {
				return nil, err
			}
			msg[i] = f
		}
		return msg, nil
	case fmtHex:
		fields := strings.Split(line, c.sep())
		msg := make([][]byte, len(fields))
		for i, s := range fields {
			f, err := c.decodeFrame(strings.TrimSpace(s))
			if err != nil {
				return nil, err
			}
			msg[i] = f
		}
		return msg, nil
	}
	if c.delim == "" {
		return [][]byte{[]byte(line)}, nil
	}
	fields := strings.Split(line, c.delim)
	msg := make([][]byte, len(fields))
	for i, s := range fields {
		msg[i] = []byte(s)
	}
	return msg, nil
}

// input is one message read from stdin, or the error that ended it.
type input struct {
	msg [][]byte
	err error
}

// readMessages reads messages from r in a goroutine, one a line (or, with
// --frame-per-line, one frame a line and a blank line after each
// message), and closes the channel at EOF. The goroutine stops at the end
// of the input or when ctx ends and it has a message to hand over.
func (c *codec) readMessages(ctx context.Context, r io.Reader) <-chan input {
	ch := make(chan input)
	go func() {
		defer close(ch)
		put := func(in input) bool {
			select {
			case ch <- in:
				return in.err == nil
			case <-ctx.Done():
				return false
			}
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 256<<20)
		var pending [][]byte
		lineNo := 0
		for sc.Scan() {
			lineNo++
			line := strings.TrimSuffix(sc.Text(), "\r")
			if c.framePerLine {
				if line == "" {
					if len(pending) > 0 && !put(input{msg: pending}) {
						return
					}
					pending = nil
					continue
				}
				f, err := c.decodeFrame(line)
				if err != nil {
					put(input{err: fmt.Errorf("stdin line %d: %v", lineNo, err)})
					return
				}
				pending = append(pending, f)
				continue
			}
			if c.format != fmtText && strings.TrimSpace(line) == "" {
				continue
			}
			msg, err := c.decodeLine(line)
			if err != nil {
				put(input{err: fmt.Errorf("stdin line %d: %v", lineNo, err)})
				return
			}
			if !put(input{msg: msg}) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			put(input{err: fmt.Errorf("stdin: %v", err)})
			return
		}
		if len(pending) > 0 {
			put(input{msg: pending})
		}
	}()
	return ch
}

// help texts share these paragraphs.
const formatsHelp = `Formats (--format), for what is printed and for what is read (frames on
the command line, lines on stdin):
  text  frames as they are; in output, a frame that is not printable UTF-8
        shows as 0x and its hex (a ROUTER's routing id, say). Frames are
        separated by --delim (output: a space when none is given); input
        without --delim is one frame a line.
  hex   each frame in hex, separated by a space (or --delim).
  json  one JSON array of strings a line, e.g. ["topic","{\"a\":1}"]; a frame
        that is not UTF-8 is "base64:" and its base64 (so is one that
        begins with "base64:"). With --frame-per-line, one JSON string a line.
With --frame-per-line, each frame has a line and a blank line ends a message
(so text cannot show an empty frame that way: use json or hex).
`

const securityHelp = `Security: NULL unless given
  PLAIN client:  --plain-user U, and its password from --plain-password-file FILE,
                 $AZMQ_PLAIN_PASSWORD or --plain-password P
  PLAIN server:  --plain-server --plain-user U, and the password the same way
                 (admits that user)
  CURVE server:  --curve-server-secret SECRET, or --curve-keyfile server.key
                 [--curve-allow CLIENT_PUBLIC ...]
  CURVE client:  --curve-server-public SERVER_PUBLIC [--curve-keyfile client.key |
                 --curve-client-public PUB --curve-client-secret SEC]  (default: a new pair)
  Certificates ('azmq keygen --out NAME', pyzmq, czmq): --curve-cert NAME.key_secret
                 for this socket's pair; a server may admit the clients of
                 --curve-allow-dir DIR (their NAME.key files), a client names its
                 server with --curve-server-cert server.key
wss:// (WebSocket over TLS): --tls-cert FILE --tls-key FILE to Bind,
  --tls-ca FILE to Connect trusting those roots (default: the system's)
Keys are Z85 (40 characters), or @FILE for the matching key of an
'azmq keygen' file (a valid key that starts with @ is still a key).
A command line is visible to every user of this machine (ps): pass the
PLAIN password in a file (all of it but a final newline) or in
$AZMQ_PLAIN_PASSWORD instead of --plain-password. --plain-password and
--plain-password-file cannot go together; either wins over the variable.
`

const exitHelp = `Exit status: 0 done (or stopped by Ctrl-C / --timeout when no count was
asked for); 1 failed, timed out or interrupted before the work asked for
was done; 2 bad usage.
`
