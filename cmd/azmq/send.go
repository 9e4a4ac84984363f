package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/azmq/azmq"
)

const sendHelp = `Usage: azmq send [flags] [FRAME...]

Sends messages. With FRAME arguments, one message of those frames (sent
-n times); without, one message per line of stdin (see --delim,
--frame-per-line and --format). Flags may come before or after the frames;
"--" ends the flags (for frames that begin with "-").

The socket (--type, default PUSH) waits for a peer before it sends (it
has no queue until a connection is up), and after the last message it
stays up to 5 s (or --timeout) to deliver what is queued. REQ prints the
reply to each request; DEALER, PAIR and ROUTER do the same with --reply.
A ROUTER's first frame is the routing id of the peer to send to: send
waits for that peer to connect. PUB and XPUB wait for the first
subscriber to connect, then --delay (default 200ms) for its subscriptions
to arrive: a PUB drops what nobody has subscribed to yet.

The draft types' messages are one frame: more than one FRAME, or a line
of stdin that makes more than one, is a usage error. CLIENT, SCATTER and
CHANNEL send as PUSH and PAIR do; CLIENT, CHANNEL and PEER take --reply.
A RADIO sends to the --group given (required), and waits for a DISH as a
PUB waits for a subscriber (a RADIO drops what no DISH joined); over udp
(a RADIO connects, a DISH binds) it sends at once: there is no
connection, and what no DISH receives is lost. A PEER sends to the one
PEER given with --connect (by the routing id ConnectPeer gave), once the
connection is up. A SERVER cannot be the sender here: it sends only to a
CLIENT that wrote to it first, by the routing id that connection got;
azmq recv --type SERVER --echo answers CLIENTs.

A STREAM talks raw bytes over tcp or ipc to programs that do not speak
ZeroMQ. Its routing ids are made for each connection, so send waits for
the first connection (the one --connect makes, or the first accepted on
--bind) and writes each message, one frame of data, to it; --reply
prints the next read from it (at most 8 KiB, maybe part of the answer).
After the last message it closes the connection. An empty message would
close it early: it is a usage error. Lines of stdin lose their newline:
use --format hex or json for exact bytes.

Examples:
  azmq send --connect tcp://127.0.0.1:5555 hello world      # one message, 2 frames
  printf 'a|b\nc\n' | azmq send --connect tcp://127.0.0.1:5555 --delim '|'
  azmq send --type REQ --connect tcp://127.0.0.1:5555 ping   # prints the reply
  azmq send --type PUB --bind 'tcp://*:5556' -n 10 weather sunny
  azmq send --format hex --connect ipc:///tmp/feed 00ff 6869
  azmq send --type CLIENT --reply --connect tcp://127.0.0.1:5557 ping
  azmq send --type RADIO --group weather --connect tcp://127.0.0.1:5558 sunny
  azmq send --type RADIO --group weather --connect udp://127.0.0.1:5559 sunny
  azmq send --type STREAM --reply --connect tcp://127.0.0.1:8080 $'GET / HTTP/1.0\r\n\r\n'
  azmq send --curve-server-public @server.key --connect tcp://10.0.0.7:5555 secret

` + formatsHelp + "\n" + securityHelp + "\n" + optionsHelp + "\n" + exitHelp

func sendCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("send")
	var (
		eps      endpointFlags
		sec      secFlags
		c        codec
		typeName = fs.String("type", "PUSH", "the socket `TYPE`: PUSH PUB XPUB REQ DEALER ROUTER PAIR XSUB STREAM CLIENT RADIO SCATTER PEER CHANNEL")
		count    = fs.Int("n", 1, "send each message `COUNT` times")
		rid      = fs.String("routing-id", "", "the socket's routing `ID` (what a ROUTER peer sees)")
		timeout  = fs.Duration("timeout", 0, "give up after `DURATION` (e.g. 5s): exit 1 if not everything was sent (and answered)")
		reply    = fs.Bool("reply", false, "DEALER, PAIR, ROUTER, STREAM, CLIENT, CHANNEL, PEER: wait for one reply to each message and print it (REQ always does)")
		group    = fs.String("group", "", "RADIO: send to `GROUP` (required there)")
		delay    optDuration
	)
	fs.Var(&delay, "delay", "wait `DURATION` once connected, before the first message (default: 200ms for PUB, XPUB and RADIO, else 0)")
	eps.register(fs)
	sec.register(fs)
	var so optFlags
	so.register(fs)
	c.register(fs)
	frames, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, sendHelp)
		return nil
	}
	if err != nil {
		return err
	}
	t, err := parseType(*typeName)
	if err != nil {
		return err
	}
	groupSet := false
	fs.Visit(func(f *flag.Flag) { groupSet = groupSet || f.Name == "group" })
	switch {
	case !canSend(t):
		return usageErr("send: a %v socket cannot send (use azmq recv)", t)
	case t == azmq.REP:
		return usageErr("send: a REP socket answers requests: use azmq recv --type REP --echo")
	case t == azmq.SERVER:
		// Its routing ids are made by the SERVER for each connection:
		// there is no id to give it before a CLIENT has written.
		return usageErr("send: a SERVER sends only to a CLIENT that wrote to it first, by the routing id that connection got: use azmq recv --type SERVER --echo, or send from a CLIENT")
	case t == azmq.RADIO && !groupSet:
		return usageErr("send: a RADIO sends to a group: give --group GROUP")
	case groupSet && t != azmq.RADIO:
		return usageErr("send: --group is for RADIO sockets")
	case t == azmq.PEER && (len(eps.connects) != 1 || len(eps.binds) > 0):
		// ConnectPeer gives the id to send to; a bound PEER learns ids
		// only from messages.
		return usageErr("send: a PEER sends to the PEER it connects to: give one --connect and no --bind (azmq recv --type PEER --echo answers PEERs that connect)")
	case t == azmq.STREAM && sec.given():
		return usageErr("send: a STREAM carries raw bytes: PLAIN and CURVE do not apply")
	case len(eps.binds)+len(eps.connects) == 0:
		return usageErr("send: give at least one --bind or --connect")
	case *count < 1:
		return usageErr("send: -n %d: must be at least 1", *count)
	case *timeout < 0:
		return usageErr("send: --timeout %v: must be positive", *timeout)
	}
	if err := c.check(); err != nil {
		return err
	}
	if err := checkGroup("send", "group", *group); err != nil {
		return err
	}
	wantReply := t == azmq.REQ || *reply
	switch t {
	case azmq.DEALER, azmq.PAIR, azmq.ROUTER, azmq.REQ, azmq.STREAM, azmq.CLIENT, azmq.CHANNEL, azmq.PEER:
	default:
		if *reply {
			return usageErr("send: --reply is for DEALER, PAIR, ROUTER, STREAM, CLIENT, CHANNEL and PEER (a %v gets no replies)", t)
		}
	}
	// The message from the arguments, if any, decoded now: a bad frame
	// is an error before anything is sent.
	var argMsg [][]byte
	for _, a := range frames {
		f, err := c.decodeFrame(a)
		if err != nil {
			return usageErr("send: %v", err)
		}
		argMsg = append(argMsg, f)
	}
	if err := checkFrames(t, argMsg, "the arguments", " (quote a text with spaces to send it as one frame)"); err != nil {
		return err
	}
	// PUB, XPUB and RADIO drop what they send before the peer's
	// subscriptions or joins have come. A RADIO whose endpoints are all
	// udp has no peer to wait for: a udp path has no handshake and no
	// JOINs (the DISH filters), and sends at once.
	waitFirst := t == azmq.PUB || t == azmq.XPUB || (t == azmq.RADIO && !allUDP(eps.connects))
	if !delay.set && waitFirst {
		delay.d = 200 * time.Millisecond
	}

	rc := newRunContext(*timeout)
	defer rc.stop()
	zctx := azmq.NewContext()
	defer zctx.Close() // delivers what is queued, up to the linger

	linger := 5 * time.Second
	if *timeout > 0 && *timeout < linger {
		linger = *timeout
	}
	opts := []azmq.SocketOption{azmq.WithLinger(linger)}
	if t != azmq.PEER { // ConnectPeer refuses it: a PEER waits for its handshake instead
		opts = append(opts, azmq.WithImmediate(true))
	}
	if t == azmq.ROUTER {
		opts = append(opts, azmq.WithRouterMandatory(true))
	}
	if *rid != "" {
		opts = append(opts, azmq.WithRoutingID([]byte(*rid)))
	}
	s, err := newSocket(rc, zctx, t, &sec, &so, opts...)
	if err != nil {
		return err
	}
	watch := watchPeers(rc, s)
	var peerID uint32
	if t == azmq.PEER {
		if peerID, err = s.ConnectPeer(eps.connects[0]); err != nil {
			return err
		}
	} else if err := eps.attach(s, stderr); err != nil {
		return err
	}

	// A STREAM learns the routing id of its connection from the
	// notification that it came, the first message it receives.
	var streamID []byte
	if t == azmq.STREAM {
		first, err := s.Recv(rc)
		if err != nil {
			if rc.Err() != nil {
				return fmt.Errorf("send: %s waiting for a connection%s", rc.why(), watch.hint())
			}
			return err
		}
		streamID = first[0]
	}
	if waitFirst || t == azmq.PEER {
		what := "a subscriber"
		switch t {
		case azmq.RADIO:
			what = "a DISH"
		case azmq.PEER:
			what = "the PEER"
		}
		select {
		case <-watch.ready:
		case <-rc.Done():
			return fmt.Errorf("send: %s waiting for %s%s", rc.why(), what, watch.hint())
		}
	}
	if delay.d > 0 {
		select {
		case <-time.After(delay.d):
		case <-rc.Done():
			return fmt.Errorf("send: %s before sending%s", rc.why(), watch.hint())
		}
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	sent := 0
	sendOne := func(msg [][]byte) error {
		for {
			var err error
			switch t { // msg is one frame for these: checkFrames saw to it
			case azmq.RADIO:
				err = s.SendGroup(rc, *group, msg[0])
			case azmq.PEER:
				err = s.SendTo(rc, peerID, msg[0])
			case azmq.STREAM:
				err = s.Send(rc, streamID, msg[0])
				if errors.Is(err, azmq.ErrHostUnreachable) {
					return fmt.Errorf("send: the connection closed after %d messages", sent)
				}
			default:
				err = s.Send(rc, msg...)
			}
			if t == azmq.ROUTER && errors.Is(err, azmq.ErrHostUnreachable) {
				// ROUTER: that peer is not connected (yet).
				select {
				case <-time.After(20 * time.Millisecond):
					continue
				case <-rc.Done():
					return fmt.Errorf("send: %s: no peer with routing id %q%s", rc.why(), msg[0], watch.hint())
				}
			}
			if err != nil {
				if rc.Err() != nil {
					return fmt.Errorf("send: %s after sending %d messages%s", rc.why(), sent, watch.hint())
				}
				return err
			}
			sent++
			break
		}
		if !wantReply {
			return nil
		}
		var rep [][]byte
		for {
			var err error
			if rep, err = s.Recv(rc); err != nil {
				if rc.Err() != nil {
					return fmt.Errorf("send: %s waiting for the reply to message %d%s", rc.why(), sent, watch.hint())
				}
				return err
			}
			if t != azmq.STREAM {
				break
			}
			// A STREAM's [id, data]: only its connection's data is the
			// reply; an empty frame says the connection went.
			if !bytes.Equal(rep[0], streamID) {
				continue
			}
			if len(rep[1]) == 0 {
				return fmt.Errorf("send: the connection closed before the reply to message %d", sent)
			}
			rep = rep[1:]
			break
		}
		out.WriteString(c.encode(rep))
		return out.Flush()
	}
	repeat := func(msg [][]byte) error {
		for range *count {
			if err := sendOne(msg); err != nil { // Send copies: msg stays ours
				return err
			}
		}
		return nil
	}

	// A STREAM closes its connection once what it sent is written.
	closeStream := func() error {
		if t != azmq.STREAM {
			return nil
		}
		if err := s.Send(rc, streamID, nil); err != nil && !errors.Is(err, azmq.ErrHostUnreachable) {
			return err
		}
		return nil
	}
	if argMsg != nil {
		if err := repeat(argMsg); err != nil {
			return err
		}
		return closeStream()
	}
	readCtx, stopReading := context.WithCancel(rc)
	defer stopReading()
	read := 0
	for in := range c.readMessages(readCtx, stdin) {
		if in.err != nil {
			return fmt.Errorf("send: %v", in.err)
		}
		read++
		if err := checkFrames(t, in.msg, fmt.Sprintf("message %d of stdin", read), ""); err != nil {
			return err
		}
		if err := repeat(in.msg); err != nil {
			return err
		}
	}
	if rc.Err() != nil { // stdin had more to say
		return fmt.Errorf("send: %s after sending %d messages", rc.why(), sent)
	}
	return closeStream()
}

// allUDP tells whether every endpoint is a udp one.
func allUDP(eps []string) bool {
	for _, ep := range eps {
		if !strings.HasPrefix(ep, "udp://") {
			return false
		}
	}
	return len(eps) > 0
}

// checkFrames refuses a message of more than one frame for the draft
// types, as a usage error: the socket would refuse it (ErrMultipart).
func checkFrames(t azmq.SocketType, msg [][]byte, what, hint string) error {
	switch {
	case singleFrame(t) && len(msg) > 1:
		return usageErr("send: %s: %d frames, but a %v message is one frame%s", what, len(msg), t, hint)
	case t == azmq.STREAM && len(msg) > 1:
		// The routing id is the connection's, which send adds.
		return usageErr("send: %s: %d frames, but a STREAM sends one frame of data to its connection%s", what, len(msg), hint)
	case t == azmq.STREAM && len(msg) == 1 && len(msg[0]) == 0:
		return usageErr("send: %s: an empty message would close the STREAM's connection", what)
	}
	return nil
}
