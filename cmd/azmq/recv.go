package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/azmq/azmq"
)

const recvHelp = `Usage: azmq recv [flags]

Receives messages and prints each on stdout (see --format), until -n
messages have come, --timeout expires or Ctrl-C. Each endpoint bound is
printed on stderr as "endpoint=..." (useful with tcp://127.0.0.1:*).

The socket is --type (default PULL). SUB subscribes to each --subscribe
TOPIC, or to everything when none is given. With --echo, each message is
sent back as it came: a REP (which must answer every request), ROUTER,
DEALER or PAIR becomes an echo server. A ROUTER prints the routing id of
the sender as the first frame.

The draft types' messages are one frame. A SERVER or a PEER prints the
routing id of the connection the message came from, a number, as the
first frame (text "1905558843 hello", json ["1905558843","hello"]); with
--echo it replies to that id. A DISH receives the groups given with
--join (at least one) and prints the group as the first frame; it may
bind udp:// too, where RADIOs connect to send it datagrams. CLIENT,
CHANNEL and GATHER print the message alone; CLIENT and CHANNEL take --echo
too.

A STREAM talks raw bytes over tcp or ipc to programs that do not speak
ZeroMQ. It prints, as a ROUTER does, the routing id of the connection
(5 bytes) then the data, each read of at most 8 KiB a message; a
connection that comes or goes is a message too: its id and an empty
frame. With --echo it sends the data back on that connection.

Examples:
  azmq recv --bind 'tcp://*:5555'                      # PULL, prints each message
  azmq recv --type SUB --connect tcp://127.0.0.1:5556 --subscribe weather
  azmq recv --type REP --echo --bind tcp://127.0.0.1:5555
  azmq recv --bind tcp://127.0.0.1:* -n 1 --timeout 10s --format json
  azmq recv --type ROUTER --bind ipc:///tmp/svc --format hex
  azmq recv --type SERVER --echo --bind tcp://127.0.0.1:5557
  azmq recv --type DISH --join weather --join news --bind tcp://127.0.0.1:5558
  azmq recv --type DISH --join weather --bind udp://127.0.0.1:5559
  azmq recv --type STREAM --echo --bind tcp://127.0.0.1:7777 --format json   # try: nc 127.0.0.1 7777
  azmq recv --curve-keyfile server.key --bind 'tcp://*:5555'

` + formatsHelp + "\n" + securityHelp + "\n" + optionsHelp + "\n" + exitHelp

func recvCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("recv")
	var (
		eps      endpointFlags
		sec      secFlags
		c        codec
		topics   strList
		groups   strList
		typeName = fs.String("type", "PULL", "the socket `TYPE`: PULL SUB XSUB REP ROUTER DEALER PAIR XPUB STREAM SERVER CLIENT DISH GATHER PEER CHANNEL")
		count    = fs.Int("n", 0, "stop after `COUNT` messages (0: never)")
		rid      = fs.String("routing-id", "", "the socket's routing `ID` (what a ROUTER peer sees)")
		timeout  = fs.Duration("timeout", 0, "stop after `DURATION` (e.g. 5s): exit 1 if -n messages have not come by then")
		echo     = fs.Bool("echo", false, "send each message back as it came (REP, ROUTER, DEALER, PAIR, STREAM, SERVER, CLIENT, PEER, CHANNEL)")
	)
	fs.Var(&topics, "subscribe", "SUB, XSUB: subscribe to `TOPIC`, a prefix of the first frame (repeatable; SUB default: everything)")
	fs.Var(&groups, "join", "DISH: join `GROUP`, receive what RADIOs send to it (repeatable; a DISH needs one)")
	eps.register(fs)
	sec.register(fs)
	var so optFlags
	so.register(fs)
	c.register(fs)
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, recvHelp)
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
	case len(pos) > 0:
		return usageErr("recv: unexpected argument %q (recv takes flags only)", pos[0])
	case !canRecv(t):
		return usageErr("recv: a %v socket cannot receive (use azmq send)", t)
	case t == azmq.REQ:
		return usageErr("recv: a REQ socket sends first: use azmq send --type REQ")
	case t == azmq.REP && !*echo:
		return usageErr("recv: a REP socket must answer each request: add --echo")
	case *echo && !canSend(t):
		return usageErr("recv: --echo: a %v socket cannot send", t)
	case len(topics) > 0 && t != azmq.SUB && t != azmq.XSUB:
		return usageErr("recv: --subscribe is for SUB and XSUB sockets")
	case len(groups) > 0 && t != azmq.DISH:
		return usageErr("recv: --join is for DISH sockets")
	case t == azmq.DISH && len(groups) == 0:
		// A DISH that joined nothing receives nothing.
		return usageErr("recv: a DISH receives only the groups it joins: give --join GROUP")
	case t == azmq.STREAM && sec.given():
		return usageErr("recv: a STREAM carries raw bytes: PLAIN and CURVE do not apply")
	case len(eps.binds)+len(eps.connects) == 0:
		return usageErr("recv: give at least one --bind or --connect")
	case *count < 0:
		return usageErr("recv: -n %d: must be 0 or more", *count)
	case *timeout < 0:
		return usageErr("recv: --timeout %v: must be positive", *timeout)
	}
	if err := c.check(); err != nil {
		return err
	}
	joined := map[string]bool{}
	for _, g := range groups {
		if err := checkGroup("recv", "join", g); err != nil {
			return err
		}
		if joined[g] {
			return usageErr("recv: --join %q given twice", g)
		}
		joined[g] = true
	}

	rc := newRunContext(*timeout)
	defer rc.stop()
	zctx := azmq.NewContext()
	defer zctx.Close()
	opts := []azmq.SocketOption{azmq.WithLinger(2 * time.Second)} // time for the last echo
	if *rid != "" {
		opts = append(opts, azmq.WithRoutingID([]byte(*rid)))
	}
	s, err := newSocket(rc, zctx, t, &sec, &so, opts...)
	if err != nil {
		return err
	}
	if t == azmq.SUB && len(topics) == 0 {
		topics = strList{""}
	}
	for _, topic := range topics {
		if err := s.Subscribe([]byte(topic)); err != nil {
			return err
		}
	}
	for _, g := range groups {
		if err := s.Join(g); err != nil {
			return err
		}
	}
	watch := watchPeers(rc, s)
	if err := eps.attach(s, stderr); err != nil {
		return err
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	got := 0
	// Where the message's address is part of what came, it is printed
	// first, as a ROUTER's routing id is.
	addressed := t == azmq.SERVER || t == azmq.PEER || t == azmq.DISH
	for *count == 0 || got < *count {
		m, err := s.RecvMsg(rc)
		msg := m.Frames
		if err != nil {
			if rc.Err() == nil {
				return err
			}
			if *count == 0 {
				return nil // Ctrl-C or --timeout: the normal end of an open-ended recv
			}
			return fmt.Errorf("recv: %s: received %d of %d messages%s", rc.why(), got, *count, watch.hint())
		}
		got++
		shown := msg
		if addressed {
			addr := []byte(m.Group)
			if t != azmq.DISH {
				addr = strconv.AppendUint(nil, uint64(m.RoutingID), 10)
			}
			shown = append([][]byte{addr}, msg...)
		}
		out.WriteString(c.encode(shown))
		if err := out.Flush(); err != nil {
			return err
		}
		if *echo {
			switch {
			case t == azmq.SERVER || t == azmq.PEER:
				// Single-frame types: msg is one frame.
				err = s.SendTo(rc, m.RoutingID, msg[0])
			case t == azmq.STREAM && len(msg[1]) == 0:
				// A connection came or went: nothing to answer (and an
				// empty frame sent back would close it).
			case t == azmq.STREAM:
				err = s.Send(rc, msg...)
				if errors.Is(err, azmq.ErrHostUnreachable) {
					err = nil // the connection went before its answer
				}
			default:
				err = s.Send(rc, msg...)
			}
			if err != nil {
				if rc.Err() != nil {
					if *count == 0 {
						return nil
					}
					return fmt.Errorf("recv: %s echoing message %d", rc.why(), got)
				}
				return err
			}
		}
	}
	return nil
}
