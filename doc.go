// Package azmq is ZeroMQ for Go, written in Go: the ZMTP 3.1 wire protocol
// (with 3.0 fallback), the ZeroMQ socket types, and the tcp, ipc and inproc
// transports, with no cgo and no libzmq. It talks on the wire to libzmq,
// pyzmq and every other ZeroMQ peer.
//
// The seed example, a request and its reply:
//
//	ctx := context.Background()
//	zctx := azmq.NewContext()
//	defer zctx.Close()
//	rep, _ := zctx.NewSocket(azmq.REP)
//	rep.Bind("tcp://127.0.0.1:5555")
//	req, _ := zctx.NewSocket(azmq.REQ)
//	req.Connect("tcp://127.0.0.1:5555")
//	req.Send(ctx, []byte("hello"))
//	msg, _ := rep.Recv(ctx) // [][]byte{[]byte("hello")}
//	rep.Send(ctx, []byte("world"))
//	msg, _ = req.Recv(ctx) // [][]byte{[]byte("world")}
//
// # Contexts instead of timeouts
//
// Every call that can block takes a [context.Context]: its deadline or
// cancellation ends the call, which then returns ctx.Err() and has sent or
// taken nothing. There are no timeout options and no Poller: wait for many
// sockets with goroutines and select.
//
// # Messages and ownership
//
// A message is a list of frames ([][]byte), delivered whole or not at all.
// [Socket.Send] copies the frames, so the caller may refill its buffers as
// soon as it returns (io.Writer's rule, and libzmq's zmq_send).
// [Socket.SendNoCopy] hands them over instead, as zmq_msg_send does: the
// caller must not modify them afterwards (inproc gives the receiver those
// very slices, and tcp writes large frames from where they are). It saves
// a copy of large messages, and of messages that are the program's to give
// away anyway, such as those [Socket.Recv] returned. The slices returned
// by [Socket.Recv] belong to the caller.
//
// A receiver of large messages may give each one back with [Release] once
// done with it: azmq then reads later frames of 1 KiB and more into that
// memory instead of allocating, and the garbage collector has far less to
// do. It is optional (what is not released is collected as usual) and
// safe against mistakes of provenance: only frames azmq received over tcp
// or ipc come back, each once. The caller must not touch a frame after
// releasing it.
//
// A loop that handles one message at a time and keeps nothing of it can
// receive with [Socket.RecvInto] into one [Msg], as a C program receives
// into one zmq_msg_t: small messages are copied into the Msg's memory,
// and the memory they arrived in goes round to carry the next ones, so
// the loop allocates next to nothing.
//
// # Blocking and dropping
//
// Each peer has a queue bounded by a high-water mark ([WithSendHWM],
// [WithRecvHWM], default 1000 messages). PUSH, DEALER, REQ and PAIR block
// Send when the queues are full or when there is no peer; PUB, XPUB and
// ROUTER drop instead. A connecting socket has its queue from the moment
// of [Socket.Connect], so messages sent before the peer is up wait for it.
//
// # Draft socket types
//
// Beside the classic types azmq has libzmq's draft ones, whose messages
// are a single frame (a multipart Send is [ErrMultipart]):
//
//   - CLIENT and SERVER (RFC 41): a CLIENT load-balances to its SERVERs;
//     a SERVER's [Socket.RecvMsg] gives each message's [Msg.RoutingID],
//     and [Socket.SendTo] replies to that connection ([ErrHostUnreachable]
//     once it is gone).
//   - RADIO and DISH (RFC 48): [Socket.SendGroup] sends to the DISHes that
//     [Socket.Join]ed the group (at most 255 bytes; [Socket.Leave] undoes
//     it); [Msg.Group] tells a DISH which group a message came in. Like
//     PUB, a RADIO drops rather than waits. Over tcp, ipc and inproc the
//     DISH tells the RADIO its groups; over udp (unicast or multicast) the
//     RADIO sends every group and the DISH keeps those it joined.
//   - SCATTER and GATHER (RFC 49): PUSH and PULL with single frames.
//   - PEER (RFC 51): [Socket.ConnectPeer] connects and returns the routing
//     id to SendTo; a message received tells its sender's id.
//   - CHANNEL: a PAIR with single frames.
//
// Each talks only to its partner type (a CLIENT to a SERVER, a PEER to a
// PEER...), as in libzmq, which has them when built with its draft API.
//
// # When a peer dies
//
// A connection that ends loses what was in flight on it (as in libzmq);
// what a connecting socket still had queued goes to the next connection.
// In flight includes what was sent after the peer closed its end but
// before this side noticed: the ending connection may take it and fail to
// write it. [EventDisconnected] from [Socket.Monitor] says this side has
// noticed; what is sent after it waits for the next connection.
// A REQ whose request was taken by a peer that then went away gets
// [ErrState] from Recv (the request is lost) and may send again, where
// libzmq's REQ would wait forever. A REQ whose peer is alive but never
// answers stays waiting: end Recv with its ctx, then Close the REQ and
// open a new one (Send in that state is ErrState).
//
// # Closing
//
// [Socket.Close] sends what is still queued for up to the linger
// ([WithLinger], default 5 s, unlike libzmq's forever) and returns when every
// goroutine of the socket has ended. [Context.Close] closes all its sockets.
//
// # Security
//
// Sockets speak NULL (no security) unless given [WithPlainServer] or
// [WithPlainClient] (user name and password, in clear), or
// [WithCurveServer] or [WithCurveClient] (CurveZMQ: encryption and
// authentication with Curve25519 keys in Z85, made by [NewCurveKeyPair]).
// As in libzmq, a server asks the ZAP handler bound on
// inproc://zeromq.zap.01 in its Context about every client; package
// github.com/azmq/azmq/zap is a ready one:
//
//	h := zap.NewHandler()
//	h.AllowCurveKey(clientPublicKey)
//	go h.Serve(ctx, zctx)
//
// A PLAIN server with no handler refuses every client; a CURVE server with
// none accepts every client that knows its public key. The Context sends
// its handshakes' requests to the handler pipelined, each under a request
// id of its own, so a slow answer for one client holds up no other; a
// handshake stops waiting when its handshake timeout ([WithHandshakeTimeout])
// expires, and a handler that closes or is replaced fails the requests it
// left unanswered. Package github.com/azmq/azmq/cert reads and writes key
// pairs in the certificate files of czmq and pyzmq, and the zap handler
// can admit the clients whose certificates are in a directory
// (zap.Handler.AllowCurveDir). [WithMetadata] announces properties of the
// application's own ("X-…") that the peer reads with [Msg.Property].
//
// # Options and counters
//
// Options are given to [NewSocket] and checked there: a bad value, or an
// option the socket's type does not have (libzmq's EINVAL), is an error
// naming it. Beside the basics they cover libzmq's options that real
// systems use (XPUB verbose, manual, nodrop and welcome; conflate; ROUTER
// handover and notify; probe router; REQ correlate and relaxed; TCP
// keepalive, buffers and TOS; connect timeout and reconnect stop; SOCKS5);
// docs/MIGRATING.md maps each libzmq option to its form. [Socket.Stats]
// counts messages and bytes in and out, drops at the high-water mark,
// reconnects and handshake failures, always on.
//
// # Endpoints
//
//	tcp://127.0.0.1:5555   tcp://[::1]:5555   tcp://*:5555   tcp://127.0.0.1:*  (any free port: see LastEndpoint)
//	tcp://127.0.0.2:0;10.0.0.7:5555   (Connect from a source address, or an interface: eth1:0;host:5555)
//	ipc:///tmp/feed.sock   ipc://@name (Linux abstract namespace)
//	ipc://\\.\pipe\feed     ipc://pipe:feed (Windows named pipes)
//	inproc://name          (sockets of one Context; connect before bind works)
//	ws://127.0.0.1:5555/zmq   ws://*:*/zmq   wss://example.com:443/zmq
//	                       (ZeroMQ over WebSocket, ZWS 2.0; path "/" when none is
//	                       given; wss needs WithTLSConfig; Socket.ServeHTTP mounts
//	                       a socket on an existing http.Server)
//	udp://127.0.0.1:5555   udp://*:5555   udp://239.1.2.3:5555   udp://eth0;239.1.2.3:5555
//	                       (RADIO connects, DISH binds: one datagram of at most
//	                       8192 bytes per message, lost if the network loses it)
package azmq
