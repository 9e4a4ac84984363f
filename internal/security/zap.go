package security

import (
	"context"
	"errors"

	"github.com/azmq/azmq/internal/wire"
)

// ErrNoZAPHandler means no ZAP handler is bound at inproc://zeromq.zap.01
// in the socket's Context.
var ErrNoZAPHandler = errors.New("security: no ZAP handler")

// ZAPRequest is what a server-side handshake asks the ZAP handler
// (RFC 27). Version and request id are the transport's business.
type ZAPRequest struct {
	Domain      string
	Address     string   // the peer's IP address, no port
	Identity    []byte   // the server socket's own routing id (as libzmq sends)
	Mechanism   string   // "NULL", "PLAIN", "CURVE"
	Credentials [][]byte // PLAIN: username, password; CURVE: the client's public key
}

// ZAPReply is the handler's answer.
type ZAPReply struct {
	Status   string // "200", "300", "400", "500"
	Text     string
	UserID   string
	Metadata wire.Metadata
}

// ZAPFunc asks the Context's ZAP handler. It returns ErrNoZAPHandler when
// none is bound, and ctx.Err() when the handshake ends first.
type ZAPFunc func(ctx context.Context, req ZAPRequest) (ZAPReply, error)

// ZAPError is a refusal by the ZAP handler (status 300, 400 or 500).
type ZAPError struct {
	Status string
	Text   string
}

func (e *ZAPError) Error() string {
	return "security: ZAP refused the peer: " + e.Status + " " + e.Text
}

// Session is what a mechanism learns of the connection it secures.
type Session struct {
	ZAP    ZAPFunc // nil: no ZAP at all
	Domain string  // WithZAPDomain
	// EnforceDomain is WithZAPEnforceDomain: with it a handshake that must
	// ask ZAP fails when no handler is bound, and CURVE asks only with a
	// domain.
	EnforceDomain bool
	Address       string // the peer's IP address
	Identity      []byte // this socket's routing id
}
