package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// single makes a classic strategy one of the draft types whose messages
// are a single frame: CLIENT on DEALER's, SCATTER on PUSH's, GATHER on
// PULL's, CHANNEL on PAIR's (libzmq client.cpp, scatter.cpp, gather.cpp,
// channel.cpp do the same over lb, fq and a single pipe).
type single struct{ Socket }

// Send refuses a multipart message, as libzmq refuses ZMQ_SNDMORE.
func (s single) Send(ctx context.Context, m pipe.Msg) error {
	if len(m.Frames) != 1 {
		return ErrMultipart
	}
	return s.Socket.Send(ctx, m)
}

// Recv drops multipart messages, as libzmq does, and returns the next
// single-frame one.
func (s single) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	for {
		m, p, err := s.Socket.Recv(ctx)
		if err != nil || len(m.Frames) == 1 {
			return m, p, err
		}
	}
}
