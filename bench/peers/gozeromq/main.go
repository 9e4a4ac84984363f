// Command gozeromq measures github.com/go-zeromq/zmq4, a pure-Go ZeroMQ,
// with the command line of libzmq's perf tools (see package perf):
//
//	gozeromq local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT
//	gozeromq inproc_thr|inproc_lat SIZE COUNT
//
// The library panics on inproc messages of 256 bytes and more (its own
// "makeslice: len out of range"); the runner reports that cell as "panic".
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	zmq "github.com/go-zeromq/zmq4"

	"github.com/azmq/azmq/bench/peers/internal/perf"
)

// settle is how long a sending socket waits before Close. The library has
// no linger: closing right after the last Send can lose what the peer has
// not read yet (a REP's last reply, in practice). The wait is outside
// every timed span.
const settle = 300 * time.Millisecond

type socket struct {
	s      zmq.Socket
	sender bool
}

func (s socket) Send(b []byte) error { return s.s.Send(zmq.NewMsg(b)) }

func (s socket) Recv() ([]byte, error) {
	m, err := s.s.Recv()
	if err != nil {
		return nil, err
	}
	if len(m.Frames) != 1 {
		return nil, fmt.Errorf("message of %d frames, want 1", len(m.Frames))
	}
	return m.Frames[0], nil
}

// Close closes the socket. A connection the peer closed first (a libzmq
// PUSH does so once its last message is written) makes the library's
// Close report net.ErrClosed: nothing is lost then, so it is no error.
func (s socket) Close() error {
	if s.sender {
		time.Sleep(settle)
	}
	if err := s.s.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

func open(k perf.Kind) socket {
	ctx := context.Background()
	switch k {
	case perf.PUSH:
		return socket{zmq.NewPush(ctx), true}
	case perf.PULL:
		return socket{zmq.NewPull(ctx), false}
	case perf.REQ:
		return socket{zmq.NewReq(ctx), false}
	default:
		return socket{zmq.NewRep(ctx), true}
	}
}

func bind(k perf.Kind, ep string) (perf.Socket, string, error) {
	s := open(k)
	if err := s.s.Listen(ep); err != nil {
		s.s.Close()
		return nil, "", err
	}
	bound := ep
	// A wildcard tcp port: the listener knows the one it got.
	if strings.HasPrefix(ep, "tcp://") && strings.HasSuffix(ep, ":*") {
		bound = "tcp://" + s.s.Addr().String()
	}
	return s, bound, nil
}

func connect(k perf.Kind, ep string) (perf.Socket, error) {
	s := open(k)
	if err := s.s.Dial(ep); err != nil {
		s.s.Close()
		return nil, err
	}
	return s, nil
}

func main() {
	perf.Main(perf.Library{Name: "gozeromq", Bind: bind, Connect: connect})
}
