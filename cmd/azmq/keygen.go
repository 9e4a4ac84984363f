package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/cert"
)

const keygenUsage = `Usage: azmq keygen [--out NAME [--meta KEY=VALUE]...]

Prints a new CURVE key pair in Z85, as libzmq's curve_keygen does. Give the
secret key to the server (azmq.WithCurveServer) and the public key to its
clients (azmq.WithCurveClient's serverPublicKey).

With --out NAME it writes a certificate instead, as pyzmq's
create_certificates and czmq's zcert do: NAME.key, the public certificate to
hand out (or to put in a server's --curve-allow-dir), and NAME.key_secret,
both keys, readable by you only (mode 0600). Use the secret one with
--curve-cert, the public one with --curve-server-cert. It refuses to replace
existing files. --meta adds metadata to both files.

Example:
  $ azmq keygen
  == CURVE PUBLIC KEY ==
  rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
  == CURVE SECRET KEY ==
  JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6
  $ azmq keygen --out server --meta name=server
  server.key
  server.key_secret
`

// keygen prints a fresh CURVE key pair in curve_keygen's format, or
// writes it as a pair of certificate files.
func keygen(args []string, stdout io.Writer) error {
	fs := newFlagSet("keygen")
	out := fs.String("out", "", "")
	var meta strList
	fs.Var(&meta, "meta", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, keygenUsage)
			return nil
		}
		return usageErr("keygen: %v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("keygen takes no arguments (did you mean --out %s?)", fs.Arg(0))
	}
	if *out == "" {
		if len(meta) > 0 {
			return usageErr("keygen: --meta goes with --out")
		}
		pub, sec, err := azmq.NewCurveKeyPair()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "== CURVE PUBLIC KEY ==\n%s\n== CURVE SECRET KEY ==\n%s\n", pub, sec)
		return nil
	}
	c, err := cert.New()
	if err != nil {
		return err
	}
	for _, m := range meta {
		k, v, ok := strings.Cut(m, "=")
		if !ok || k == "" {
			return usageErr("keygen: --meta %q: want KEY=VALUE", m)
		}
		c.Metadata[k] = v
	}
	path := *out
	if !strings.HasSuffix(path, cert.PublicExt) {
		path += cert.PublicExt
	}
	for _, p := range []string{path, path + cert.SecretSuffix} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("keygen: %s exists: remove it first, or choose another --out", p)
		}
	}
	if err := c.Save(path); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stdout, "%s\n%s\n", path, path+cert.SecretSuffix)
	return nil
}
