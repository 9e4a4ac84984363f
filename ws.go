package azmq

import (
	"errors"
	"net/http"

	"github.com/azmq/azmq/internal/transport"
)

// errStreamWS refuses ws and wss to a STREAM: its raw bytes have no
// ZWS framing.
var errStreamWS = errors.New("azmq: STREAM sockets do not speak ws:// or wss://")

// ServeHTTP makes the socket an http.Handler: it upgrades the request to
// ZeroMQ over WebSocket (ZWS 2.0, the subprotocol chosen by the socket's
// mechanism) and runs the connection as one accepted by Bind, with the
// same Monitor events. So a program serves its web pages and its ZeroMQ
// socket on one port:
//
//	mux.Handle("/zmq", sock)
//
// The request's Origin header, when present, must match its Host (a page
// of another site cannot connect through a visitor's browser); a dedicated
// Bind("ws://...") takes any Origin, as libzmq does. A request that is no
// upgrade, or offers no subprotocol for the socket's mechanism, gets an
// HTTP error and an EventAcceptFailed saying why. With TLS, serve the
// http.Server over TLS: the socket's WithTLSConfig is for Bind and Connect.
func (s *Socket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	where := "ws://" + r.Host + r.URL.Path
	if s.typ == STREAM {
		http.Error(w, errStreamWS.Error(), http.StatusNotImplemented)
		return
	}
	if s.isClosed() {
		http.Error(w, "socket closed", http.StatusServiceUnavailable)
		return
	}
	c, err := transport.Upgrade(w, r, s.transportOptions())
	if err != nil {
		s.emit(EventAcceptFailed, where, err)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	e := s.newLink(c)
	s.engines[e] = nil
	s.wg.Add(1)
	s.mu.Unlock()
	addr := c.RemoteAddr().String()
	s.emit(EventAccepted, addr, nil)
	go s.serve(e, addr)
}
