package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/azmq/azmq"
)

// benchOpts are the options a bench socket needs for its endpoint: over
// wss, a certificate for 127.0.0.1 made for the run, which both sides
// carry (the bound side serves it, the connecting side trusts it).
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

// benchTLS makes, once, a self-signed certificate for 127.0.0.1 and the
// config that serves and trusts it.
var benchTLS = sync.OnceValues(func() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "azmq bench"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		RootCAs:      roots,
		MinVersion:   tls.VersionTLS13,
	}, nil
})
