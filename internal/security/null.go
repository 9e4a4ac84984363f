package security

import (
	"context"
	"errors"
	"fmt"

	"github.com/azmq/azmq/internal/wire"
)

// Null is the NULL mechanism (RFC 23/37): each side sends READY with its
// metadata; no roles, no authentication.
type Null struct{}

// Name implements Mechanism.
func (Null) Name() string { return "NULL" }

// AsServer implements Mechanism: NULL has no roles, the bit is 0.
func (Null) AsServer() bool { return false }

// NewHandshake implements Mechanism.
func (Null) NewHandshake(local wire.Metadata, sess Session) Handshake {
	return &nullHandshake{local: local, sess: sess}
}

type nullHandshake struct {
	local  wire.Metadata
	sess   Session
	peer   wire.Metadata
	userID string
	authMD wire.Metadata
}

// Start sends READY at once: libzmq does the same and accepts READY in
// either order (PROTOCOL G22). With a ZAP domain set, ZAP is asked first,
// as libzmq does; no handler bound means every peer is accepted, unless
// the domain is enforced.
func (h *nullHandshake) Start(ctx context.Context) ([]byte, error) {
	if h.sess.Domain != "" && h.sess.ZAP != nil {
		rep, err := h.sess.ZAP(ctx, ZAPRequest{
			Domain: h.sess.Domain, Address: h.sess.Address,
			Identity: h.sess.Identity, Mechanism: "NULL",
		})
		switch {
		case errors.Is(err, ErrNoZAPHandler) && h.sess.EnforceDomain:
			return nil, fmt.Errorf("security: ZAP domain %q enforced: %w", h.sess.Domain, err)
		case errors.Is(err, ErrNoZAPHandler):
		case err != nil:
			return nil, err
		case rep.Status != "200":
			return refuse(rep)
		default:
			h.userID, h.authMD = rep.UserID, rep.Metadata
		}
	}
	return wire.AppendReady(nil, h.local), nil
}

// refuse turns a ZAP refusal into the ERROR command to send (none for 300,
// a temporary failure, as libzmq) and the handshake's error.
func refuse(rep ZAPReply) ([]byte, error) {
	err := &ZAPError{Status: rep.Status, Text: rep.Text}
	if rep.Status == "300" {
		return nil, err
	}
	return wire.AppendError(nil, rep.Status), err
}

func (h *nullHandshake) Auth() (string, wire.Metadata) { return h.userID, h.authMD }

func (h *nullHandshake) Command(_ context.Context, body []byte) ([]byte, bool, error) {
	name, data, err := wire.ParseCommand(body)
	if err != nil {
		return nil, false, err
	}
	switch string(name) {
	case wire.CmdReady:
		md, err := wire.ParseMetadata(data)
		if err != nil {
			return nil, false, fmt.Errorf("security: READY: %w", err)
		}
		h.peer = md
		return nil, true, nil
	case wire.CmdError:
		reason, err := wire.ParseError(data)
		if err != nil {
			return nil, false, fmt.Errorf("security: ERROR: %w", err)
		}
		return nil, false, &PeerError{Reason: reason}
	}
	return nil, false, fmt.Errorf("%w %q during NULL handshake", ErrUnexpected, name)
}

func (h *nullHandshake) PeerMetadata() wire.Metadata { return h.peer }
func (h *nullHandshake) Codec() Codec                { return nil }
