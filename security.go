package azmq

import (
	"errors"
	"fmt"
	"strings"

	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
	"github.com/azmq/azmq/z85"
)

// WithPlainServer makes the socket a PLAIN server (RFC 24): clients send a
// user name and password, which the Context's ZAP handler checks. As in
// libzmq, with no ZAP handler bound every client is refused.
func WithPlainServer() SocketOption {
	return func(c *socketConfig) error {
		return c.setMechanism("WithPlainServer", security.PlainServer{})
	}
}

// WithPlainClient makes the socket a PLAIN client with these credentials
// (each at most 255 bytes). PLAIN sends them in clear text.
func WithPlainClient(username, password string) SocketOption {
	return func(c *socketConfig) error {
		if len(username) > 255 || len(password) > 255 {
			return fmt.Errorf("azmq: WithPlainClient: user name and password must be at most 255 bytes")
		}
		return c.setMechanism("WithPlainClient", security.PlainClient{Username: username, Password: password})
	}
}

// WithCurveServer makes the socket a CURVE server (RFC 25/26) with its
// long-term secret key in Z85 (40 characters). Clients must know the
// matching public key. With a ZAP handler bound, it decides which client
// keys are admitted; with none, every client is (libzmq's behaviour).
func WithCurveServer(secretKey string) SocketOption {
	return func(c *socketConfig) error {
		sk, err := curveKey("WithCurveServer", "secret key", secretKey)
		if err != nil {
			return err
		}
		return c.setMechanism("WithCurveServer", security.NewCurveServer(sk))
	}
}

// WithCurveClient makes the socket a CURVE client: serverPublicKey is the
// server's long-term public key, publicKey and secretKey this client's
// long-term pair, all in Z85 (40 characters each).
func WithCurveClient(serverPublicKey, publicKey, secretKey string) SocketOption {
	return func(c *socketConfig) error {
		sp, err := curveKey("WithCurveClient", "server public key", serverPublicKey)
		if err != nil {
			return err
		}
		pk, err := curveKey("WithCurveClient", "public key", publicKey)
		if err != nil {
			return err
		}
		sk, err := curveKey("WithCurveClient", "secret key", secretKey)
		if err != nil {
			return err
		}
		return c.setMechanism("WithCurveClient", security.NewCurveClient(sp, pk, sk))
	}
}

// WithZAPDomain sets the ZAP domain sent with authentication requests.
// With the NULL mechanism, a non-empty domain makes the socket ask the ZAP
// handler about every peer, as in libzmq. Default "".
func WithZAPDomain(domain string) SocketOption {
	return func(c *socketConfig) error {
		if len(domain) > 255 {
			return fmt.Errorf("azmq: WithZAPDomain: domain of %d bytes, at most 255", len(domain))
		}
		c.zapDomain = domain
		return nil
	}
}

// WithZAPEnforceDomain(true) makes ZAP strict about domains, as RFC 27
// asks and libzmq's ZMQ_ZAP_ENFORCE_DOMAIN does (default false, libzmq's
// default). With it, a socket that must ask ZAP and finds no handler
// bound fails the handshake instead of admitting the peer: a NULL socket
// with a ZAP domain, and a CURVE server with one. A CURVE server with no
// domain then asks no handler at all: RFC 27 has no request without a
// domain. A PLAIN server needs a handler whatever this says; with the
// option it also needs a domain, and NewSocket says so.
func WithZAPEnforceDomain(on bool) SocketOption {
	return func(c *socketConfig) error { c.zapEnforce = on; return nil }
}

// WithMetadata adds a property to those the socket announces in every
// handshake (libzmq's ZMQ_METADATA "name:value"); the peer reads it with
// Msg.Property(name), and so does an inproc peer. The name must start with "X-" (the application's
// properties; the others are ZMTP's), be at most 255 bytes of letters,
// digits and "-_.+", and the value non-empty, as libzmq requires; azmq
// also bounds the value to 16 KiB and the count to 100 properties, within
// what any azmq peer accepts. The option may be given once per name: a
// second value for the same name (names compare case-insensitively) is
// an error. Default: none.
func WithMetadata(name, value string) SocketOption {
	return func(c *socketConfig) error {
		if err := checkMetadataName(name); err != nil {
			return fmt.Errorf("azmq: WithMetadata(%q): %w", name, err)
		}
		switch {
		case value == "":
			return fmt.Errorf("azmq: WithMetadata(%q): the value is empty", name)
		case len(value) > wire.MaxPropertyValue:
			return fmt.Errorf("azmq: WithMetadata(%q): value of %d bytes, at most %d", name, len(value), wire.MaxPropertyValue)
		case len(c.metadata) == maxMetadata:
			return fmt.Errorf("azmq: WithMetadata(%q): more than %d properties", name, maxMetadata)
		}
		for _, p := range c.metadata {
			if strings.EqualFold(p.Name, name) {
				return fmt.Errorf("azmq: WithMetadata(%q): given twice", name)
			}
		}
		c.metadata = append(c.metadata, wire.Property{Name: name, Value: []byte(value)})
		return nil
	}
}

// maxMetadata bounds WithMetadata's properties: with ZMTP's own (at most
// Socket-Type and Identity), a READY stays within what peers accept.
const maxMetadata = 100

// checkMetadataName checks a property name of WithMetadata.
func checkMetadataName(name string) error {
	if len(name) < 3 || name[:2] != "X-" {
		return errors.New(`the name must start with "X-" and have more after it`)
	}
	if len(name) > 255 {
		return fmt.Errorf("name of %d bytes, at most 255", len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.+", c) >= 0) {
			return fmt.Errorf("byte %#02x is not a ZMTP name character (letters, digits, -_.+)", c)
		}
	}
	return nil
}

// NewCurveKeyPair makes a new CURVE key pair, in Z85 (40 characters each).
func NewCurveKeyPair() (publicKey, secretKey string, err error) {
	pub, sec, err := security.GenerateCurveKeyPair()
	if err != nil {
		return "", "", fmt.Errorf("azmq: NewCurveKeyPair: %w", err)
	}
	if publicKey, err = z85.Encode(pub[:]); err != nil {
		return "", "", err
	}
	if secretKey, err = z85.Encode(sec[:]); err != nil {
		return "", "", err
	}
	return publicKey, secretKey, nil
}

func (c *socketConfig) setMechanism(opt string, m security.Mechanism) error {
	if c.mech != nil {
		return fmt.Errorf("azmq: %s: the socket already has the %s mechanism (one of PLAIN/CURVE, as client or server)", opt, c.mechOpt)
	}
	c.mech, c.mechOpt = m, opt
	return nil
}

func curveKey(opt, what, key string) ([32]byte, error) {
	var k [32]byte
	if len(key) != 40 {
		return k, fmt.Errorf("azmq: %s: %s must be 40 Z85 characters, got %d", opt, what, len(key))
	}
	b, err := z85.Decode(key)
	if err != nil {
		return k, fmt.Errorf("azmq: %s: %s: %w", opt, what, err)
	}
	copy(k[:], b)
	return k, nil
}
