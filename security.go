package azmq

import (
	"fmt"

	"github.com/azmq/azmq/internal/security"
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
