package azmq

import (
	"context"
	"errors"
	"fmt"

	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

// zapEndpoint is where a ZAP handler binds, in the same Context (RFC 27).
const zapEndpoint = "zeromq.zap.01"

// askZAP sends one request to the Context's ZAP handler and waits for its
// reply (RFC 27), through a DEALER of its own.
func (z *Context) askZAP(ctx context.Context, req security.ZAPRequest) (security.ZAPReply, error) {
	z.mu.Lock()
	_, bound := z.inproc[zapEndpoint]
	z.mu.Unlock()
	if !bound {
		return security.ZAPReply{}, security.ErrNoZAPHandler
	}
	d, err := z.NewSocket(DEALER, WithLinger(0))
	if err != nil {
		return security.ZAPReply{}, err
	}
	defer d.Close()
	if err := d.Connect("inproc://" + zapEndpoint); err != nil {
		return security.ZAPReply{}, err
	}
	frames := [][]byte{{}, []byte("1.0"), []byte("1"), []byte(req.Domain), []byte(req.Address),
		req.Identity, []byte(req.Mechanism)}
	frames = append(frames, req.Credentials...)
	if err := d.Send(ctx, frames...); err != nil {
		return security.ZAPReply{}, fmt.Errorf("azmq: ZAP request: %w", err)
	}
	rep, err := d.Recv(ctx)
	if err != nil {
		return security.ZAPReply{}, fmt.Errorf("azmq: ZAP reply: %w", err)
	}
	return parseZAPReply(rep)
}

var errZAPReply = errors.New("azmq: malformed ZAP reply")

func parseZAPReply(f [][]byte) (security.ZAPReply, error) {
	if len(f) != 7 || len(f[0]) != 0 {
		return security.ZAPReply{}, fmt.Errorf("%w: %d frames", errZAPReply, len(f))
	}
	if string(f[1]) != "1.0" || string(f[2]) != "1" {
		return security.ZAPReply{}, fmt.Errorf("%w: version %q, request id %q", errZAPReply, f[1], f[2])
	}
	st := string(f[3])
	if len(st) != 3 || st[0] < '2' || st[0] > '5' || st[1:] != "00" {
		return security.ZAPReply{}, fmt.Errorf("%w: status %q", errZAPReply, st)
	}
	md, err := wire.ParseMetadata(f[6])
	if err != nil {
		return security.ZAPReply{}, fmt.Errorf("%w: metadata: %v", errZAPReply, err)
	}
	return security.ZAPReply{Status: st, Text: string(f[4]), UserID: string(f[5]), Metadata: md}, nil
}
