// Command pebbe measures github.com/pebbe/zmq4, the cgo bindings to
// libzmq, with the command line of libzmq's perf tools (see package perf):
//
//	pebbe local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT
//	pebbe inproc_thr|inproc_lat SIZE COUNT
//
// It uses the bindings as a Go program would: SendBytes hands libzmq a Go
// slice, which libzmq copies; RecvBytes returns a new Go slice per message.
package main

import (
	"fmt"

	zmq "github.com/pebbe/zmq4"

	"github.com/azmq/azmq/bench/peers/internal/perf"
)

// ctx holds every socket, so that inproc endpoints reach each other and
// Term can wait for the messages still queued.
var ctx *zmq.Context

var types = map[perf.Kind]zmq.Type{perf.PUSH: zmq.PUSH, perf.PULL: zmq.PULL, perf.REQ: zmq.REQ, perf.REP: zmq.REP}

type socket struct{ s *zmq.Socket }

func (s socket) Send(b []byte) error {
	_, err := s.s.SendBytes(b, 0)
	return err
}

func (s socket) Recv() ([]byte, error) { return s.s.RecvBytes(0) }

// Close closes the socket; with linger -1 on the sending kinds, Term then
// waits until everything queued is written.
func (s socket) Close() error { return s.s.Close() }

func open(k perf.Kind) (*zmq.Socket, error) {
	s, err := ctx.NewSocket(types[k])
	if err != nil {
		return nil, err
	}
	if k == perf.PUSH || k == perf.REP {
		if err := s.SetLinger(-1); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func bind(k perf.Kind, ep string) (perf.Socket, string, error) {
	s, err := open(k)
	if err != nil {
		return nil, "", err
	}
	if err := s.Bind(ep); err != nil {
		s.Close()
		return nil, "", err
	}
	bound, err := s.GetLastEndpoint()
	if err != nil {
		s.Close()
		return nil, "", err
	}
	return socket{s}, bound, nil
}

func connect(k perf.Kind, ep string) (perf.Socket, error) {
	s, err := open(k)
	if err != nil {
		return nil, err
	}
	if err := s.Connect(ep); err != nil {
		s.Close()
		return nil, err
	}
	return socket{s}, nil
}

func main() {
	var err error
	if ctx, err = zmq.NewContext(); err != nil {
		panic(fmt.Sprintf("pebbe: new context: %v", err))
	}
	perf.Main(perf.Library{Name: "pebbe", Bind: bind, Connect: connect, Term: ctx.Term})
}
