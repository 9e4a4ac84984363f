package security

import (
	"context"
	"errors"
	"fmt"

	"github.com/azmq/azmq/internal/wire"
)

// The PLAIN mechanism (RFC 24):
//
//	C: HELLO    "\x05HELLO" ulen username plen password
//	S: WELCOME  "\x07WELCOME"                 (after ZAP answered 200)
//	C: INITIATE "\x08INITIATE" metadata
//	S: READY    "\x05READY" metadata
//
// The server may answer ERROR instead of WELCOME or READY. Frames travel in
// the clear afterwards, so there is no Codec.

// MaxPlainCredential is the longest PLAIN username or password, in bytes:
// each goes on the wire behind a u8 length.
const MaxPlainCredential = 255

// errPlainFailed answers every command after a PLAIN handshake failed.
var errPlainFailed = errors.New("security: PLAIN handshake already failed")

// plainLibzmqError is how a libzmq PLAIN server spells the ERROR command
// name (PROTOCOL G17): the C literal "\x05ERROR" is the byte 0x5e followed
// by "RROR", so its ERROR frames read 0x5e 'R' 'R' 'O' 'R' reason-len reason.
const plainLibzmqError = "\x5eRROR"

// PlainServer is the server side of the PLAIN mechanism. It needs a ZAP
// handler: without one every client is rejected, as libzmq does.
type PlainServer struct{}

// Name implements Mechanism.
func (PlainServer) Name() string { return "PLAIN" }

// AsServer implements Mechanism: the server sends as-server 1.
func (PlainServer) AsServer() bool { return true }

// NewHandshake implements Mechanism.
func (PlainServer) NewHandshake(local wire.Metadata, sess Session) Handshake {
	return &plainServer{local: local, sess: sess, state: plainWaitHello}
}

// PlainClient is the client side of the PLAIN mechanism: it authenticates
// with a username and a password of at most MaxPlainCredential bytes each.
type PlainClient struct{ Username, Password string }

// Name implements Mechanism.
func (PlainClient) Name() string { return "PLAIN" }

// AsServer implements Mechanism: the client sends as-server 0.
func (PlainClient) AsServer() bool { return false }

// NewHandshake implements Mechanism.
func (c PlainClient) NewHandshake(local wire.Metadata, _ Session) Handshake {
	return &plainClient{user: c.Username, pass: c.Password, local: local}
}

// plainState is where a PLAIN handshake stands.
type plainState int

const (
	plainStart       plainState = iota // client: Start not called yet
	plainWaitHello                     // server: expecting HELLO
	plainWaitWelcome                   // client: HELLO sent
	plainWaitInit                      // server: WELCOME sent
	plainWaitReady                     // client: INITIATE sent
	plainDone
	plainFailed
)

type plainServer struct {
	local  wire.Metadata
	sess   Session
	state  plainState
	peer   wire.Metadata
	userID string
	authMD wire.Metadata
}

// Start implements Handshake: the server speaks only after HELLO.
func (h *plainServer) Start(context.Context) ([]byte, error) { return nil, nil }

// Command implements Handshake.
func (h *plainServer) Command(ctx context.Context, body []byte) (out []byte, done bool, err error) {
	if h.state == plainFailed {
		return nil, false, errPlainFailed
	}
	out, done, err = h.command(ctx, body)
	if err != nil {
		h.state = plainFailed
	}
	return out, done, err
}

func (h *plainServer) command(ctx context.Context, body []byte) ([]byte, bool, error) {
	name, data, err := wire.ParseCommand(body)
	if err != nil {
		return nil, false, err
	}
	switch {
	case h.state == plainWaitHello && string(name) == wire.CmdHello:
		return h.hello(ctx, data)
	case h.state == plainWaitInit && string(name) == wire.CmdInitiate:
		md, err := wire.ParseMetadata(data)
		if err != nil {
			return nil, false, fmt.Errorf("security: PLAIN INITIATE: %w", err)
		}
		h.peer = md
		h.state = plainDone
		return wire.AppendReady(nil, h.local), true, nil
	}
	return nil, false, fmt.Errorf("%w %q during PLAIN handshake (server)", ErrUnexpected, name)
}

// hello checks the client's credentials with ZAP. Like libzmq it sends
// nothing when HELLO is malformed or no ZAP handler is bound.
func (h *plainServer) hello(ctx context.Context, data []byte) ([]byte, bool, error) {
	user, pass, err := parseHello(data)
	if err != nil {
		return nil, false, err
	}
	if h.sess.ZAP == nil {
		return nil, false, fmt.Errorf("security: PLAIN server needs a ZAP handler: %w", ErrNoZAPHandler)
	}
	rep, err := h.sess.ZAP(ctx, ZAPRequest{
		Domain: h.sess.Domain, Address: h.sess.Address,
		Identity: h.sess.Identity, Mechanism: "PLAIN",
		Credentials: [][]byte{user, pass},
	})
	switch {
	case errors.Is(err, ErrNoZAPHandler):
		return nil, false, fmt.Errorf("security: PLAIN server needs a ZAP handler: %w", err)
	case err != nil:
		return nil, false, fmt.Errorf("security: PLAIN ZAP request: %w", err)
	case rep.Status != "200":
		out, err := refuse(rep)
		return out, false, err
	}
	h.userID, h.authMD = rep.UserID, rep.Metadata
	h.state = plainWaitInit
	return wire.AppendCommand(nil, wire.CmdWelcome), false, nil
}

// parseHello splits HELLO data into username and password, copied out of
// data. The lengths must account for data exactly.
func parseHello(data []byte) (user, pass []byte, err error) {
	if len(data) < 1 {
		return nil, nil, fmt.Errorf("%w: PLAIN HELLO without username length", wire.ErrMalformed)
	}
	ul := int(data[0])
	if ul+1 >= len(data) {
		return nil, nil, fmt.Errorf("%w: PLAIN HELLO username length %d leaves no password length in %d bytes", wire.ErrMalformed, ul, len(data))
	}
	pl := int(data[1+ul])
	if rest := len(data) - 2 - ul; pl != rest {
		return nil, nil, fmt.Errorf("%w: PLAIN HELLO password length %d, %d bytes follow", wire.ErrMalformed, pl, rest)
	}
	buf := make([]byte, ul+pl)
	copy(buf, data[1:1+ul])
	copy(buf[ul:], data[2+ul:])
	return buf[:ul:ul], buf[ul:], nil
}

func (h *plainServer) PeerMetadata() wire.Metadata   { return h.peer }
func (h *plainServer) Auth() (string, wire.Metadata) { return h.userID, h.authMD }
func (h *plainServer) Codec() Codec                  { return nil }

type plainClient struct {
	user, pass string
	local      wire.Metadata
	state      plainState
	peer       wire.Metadata
}

// Start implements Handshake: the client opens with HELLO. It fails if
// the username or password is longer than MaxPlainCredential bytes.
func (h *plainClient) Start(context.Context) ([]byte, error) {
	if h.state != plainStart && h.state != plainWaitWelcome {
		return nil, fmt.Errorf("%w: PLAIN client started twice", ErrUnexpected)
	}
	if len(h.user) > MaxPlainCredential {
		return nil, fmt.Errorf("security: PLAIN username of %d bytes exceeds %d", len(h.user), MaxPlainCredential)
	}
	if len(h.pass) > MaxPlainCredential {
		return nil, fmt.Errorf("security: PLAIN password of %d bytes exceeds %d", len(h.pass), MaxPlainCredential)
	}
	h.state = plainWaitWelcome
	n := 1 + len(wire.CmdHello) + 1 + len(h.user) + 1 + len(h.pass)
	out := wire.AppendFrameHeader(make([]byte, 0, wire.FrameHeaderLen(n)+n), wire.FlagCommand, n)
	out = append(out, byte(len(wire.CmdHello)))
	out = append(out, wire.CmdHello...)
	out = append(out, byte(len(h.user)))
	out = append(out, h.user...)
	out = append(out, byte(len(h.pass)))
	return append(out, h.pass...), nil
}

// Command implements Handshake.
func (h *plainClient) Command(_ context.Context, body []byte) (out []byte, done bool, err error) {
	if h.state == plainFailed {
		return nil, false, errPlainFailed
	}
	out, done, err = h.command(body)
	if err != nil {
		h.state = plainFailed
	}
	return out, done, err
}

func (h *plainClient) command(body []byte) ([]byte, bool, error) {
	waiting := h.state == plainWaitWelcome || h.state == plainWaitReady
	// A libzmq server's ERROR does not parse as a command (its name byte
	// is 0x5e): recognise it before ParseCommand would reject it.
	if waiting && len(body) >= len(plainLibzmqError) && string(body[:len(plainLibzmqError)]) == plainLibzmqError {
		return nil, false, plainPeerError(body[len(plainLibzmqError):])
	}
	name, data, err := wire.ParseCommand(body)
	if err != nil {
		return nil, false, err
	}
	switch {
	case waiting && string(name) == wire.CmdError:
		return nil, false, plainPeerError(data)
	case h.state == plainWaitWelcome && string(name) == wire.CmdWelcome:
		if len(data) != 0 {
			return nil, false, fmt.Errorf("%w: PLAIN WELCOME with %d bytes of data", wire.ErrMalformed, len(data))
		}
		h.state = plainWaitReady
		n := 1 + len(wire.CmdInitiate) + wire.MetadataLen(h.local)
		out := wire.AppendFrameHeader(make([]byte, 0, wire.FrameHeaderLen(n)+n), wire.FlagCommand, n)
		out = append(out, byte(len(wire.CmdInitiate)))
		out = append(out, wire.CmdInitiate...)
		return wire.AppendMetadata(out, h.local), false, nil
	case h.state == plainWaitReady && string(name) == wire.CmdReady:
		md, err := wire.ParseMetadata(data)
		if err != nil {
			return nil, false, fmt.Errorf("security: PLAIN READY: %w", err)
		}
		h.peer = md
		h.state = plainDone
		return nil, true, nil
	}
	return nil, false, fmt.Errorf("%w %q during PLAIN handshake (client)", ErrUnexpected, name)
}

// plainPeerError turns the data of an ERROR command into the handshake's error.
func plainPeerError(data []byte) error {
	reason, err := wire.ParseError(data)
	if err != nil {
		return fmt.Errorf("security: ERROR: %w", err)
	}
	return &PeerError{Reason: reason}
}

func (h *plainClient) PeerMetadata() wire.Metadata   { return h.peer }
func (h *plainClient) Auth() (string, wire.Metadata) { return "", nil }
func (h *plainClient) Codec() Codec                  { return nil }
