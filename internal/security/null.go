package security

import (
	"context"
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
func (Null) NewHandshake(local wire.Metadata) Handshake { return &nullHandshake{local: local} }

type nullHandshake struct {
	local wire.Metadata
	peer  wire.Metadata
}

// Start sends READY at once: libzmq does the same and accepts READY in
// either order (PROTOCOL G22).
func (h *nullHandshake) Start() ([]byte, error) { return wire.AppendReady(nil, h.local), nil }

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
