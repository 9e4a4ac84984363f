package benchkit

import (
	"crypto/tls"
	"strings"
	"sync"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/selfcert"
)

// benchOpts are the options a bench socket needs for its endpoint: over
// wss, a certificate for 127.0.0.1 made for the run, which both sides
// carry (the bound side serves it, the connecting side trusts its CA).
func benchOpts(ep string) ([]azmq.SocketOption, error) {
	if !strings.HasPrefix(ep, "wss://") {
		return nil, nil
	}
	cfg, err := benchTLS()
	if err != nil {
		return nil, err
	}
	return []azmq.SocketOption{azmq.WithTLSConfig(cfg)}, nil
}

// benchTLS makes, once, the certificates and the config that serves and
// trusts them.
var benchTLS = sync.OnceValues(func() (*tls.Config, error) {
	pki, err := selfcert.New()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pki.Leaf},
		RootCAs:      pki.Roots(),
		MinVersion:   tls.VersionTLS13,
	}, nil
})
