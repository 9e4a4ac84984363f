package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

Examples:
  azmq send --connect tcp://127.0.0.1:5555 hello world      # one message, 2 frames
  printf 'a|b\nc\n' | azmq send --connect tcp://127.0.0.1:5555 --delim '|'
  azmq send --type REQ --connect tcp://127.0.0.1:5555 ping   # prints the reply
  azmq send --type PUB --bind 'tcp://*:5556' -n 10 weather sunny
  azmq send --format hex --connect ipc:///tmp/feed 00ff 6869
  azmq send --curve-server-public @server.key --connect tcp://10.0.0.7:5555 secret

` + formatsHelp + "\n" + securityHelp + "\n" + exitHelp

func sendCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("send")
	var (
		eps      endpointFlags
		sec      secFlags
		c        codec
		typeName = fs.String("type", "PUSH", "the socket `TYPE`: PUSH PUB XPUB REQ DEALER ROUTER PAIR XSUB")
		count    = fs.Int("n", 1, "send each message `COUNT` times")
		rid      = fs.String("routing-id", "", "the socket's routing `ID` (what a ROUTER peer sees)")
		timeout  = fs.Duration("timeout", 0, "give up after `DURATION` (e.g. 5s): exit 1 if not everything was sent (and answered)")
		reply    = fs.Bool("reply", false, "DEALER, PAIR, ROUTER: wait for one reply to each message and print it (REQ always does)")
		delay    optDuration
	)
	fs.Var(&delay, "delay", "wait `DURATION` once connected, before the first message (default: 200ms for PUB and XPUB, else 0)")
	eps.register(fs)
	sec.register(fs)
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
	switch {
	case !canSend(t):
		return usageErr("send: a %v socket cannot send (use azmq recv)", t)
	case t == azmq.REP:
		return usageErr("send: a REP socket answers requests: use azmq recv --type REP --echo")
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
	wantReply := t == azmq.REQ || *reply
	if *reply && !(t == azmq.DEALER || t == azmq.PAIR || t == azmq.ROUTER || t == azmq.REQ) {
		return usageErr("send: --reply is for DEALER, PAIR and ROUTER (a %v gets no replies)", t)
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
	if !delay.set && (t == azmq.PUB || t == azmq.XPUB) {
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
	opts := []azmq.SocketOption{azmq.WithImmediate(true), azmq.WithLinger(linger)}
	if t == azmq.ROUTER {
		opts = append(opts, azmq.WithRouterMandatory(true))
	}
	if *rid != "" {
		opts = append(opts, azmq.WithRoutingID([]byte(*rid)))
	}
	s, err := newSocket(rc, zctx, t, &sec, opts...)
	if err != nil {
		return err
	}
	watch := watchPeers(rc, s)
	if err := eps.attach(s, stderr); err != nil {
		return err
	}

	if t == azmq.PUB || t == azmq.XPUB {
		select {
		case <-watch.ready:
		case <-rc.Done():
			return fmt.Errorf("send: %s waiting for a subscriber%s", rc.why(), watch.hint())
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
			err := s.Send(rc, msg...)
			if errors.Is(err, azmq.ErrHostUnreachable) {
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
		rep, err := s.Recv(rc)
		if err != nil {
			if rc.Err() != nil {
				return fmt.Errorf("send: %s waiting for the reply to message %d%s", rc.why(), sent, watch.hint())
			}
			return err
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

	if argMsg != nil {
		return repeat(argMsg)
	}
	readCtx, stopReading := context.WithCancel(rc)
	defer stopReading()
	for in := range c.readMessages(readCtx, stdin) {
		if in.err != nil {
			return fmt.Errorf("send: %v", in.err)
		}
		if err := repeat(in.msg); err != nil {
			return err
		}
	}
	if rc.Err() != nil { // stdin had more to say
		return fmt.Errorf("send: %s after sending %d messages", rc.why(), sent)
	}
	return nil
}
