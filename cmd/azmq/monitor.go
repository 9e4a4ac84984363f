package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/azmq/azmq"
)

const monitorHelp = `Usage: azmq monitor [flags] ENDPOINT

Connects a socket to ENDPOINT (or binds it, with --bind) and prints each
of its connection events as it happens, until Ctrl-C or --timeout (both
exit 0): Listening, BindFailed, Accepted, AcceptFailed, Connected,
ConnectDelayed, ConnectRetried, HandshakeSucceeded, HandshakeFailed,
Disconnected, Closed, with the endpoint (or the peer's address) and, for
failures and disconnections, why.

The socket is --type, by default DEALER: it sends nothing, and a ROUTER,
REP or DEALER accepts it. Against other types choose a matching one (SUB
for a PUB, PUSH for a PULL, CLIENT for a SERVER...); a mismatch shows as HandshakeFailed, which
is worth knowing too. Whatever arrives on the socket is read and dropped.
A SUB subscribes to --subscribe topics, or to everything.

Each event is one line:
  text: time=2025-01-02T15:04:05.000Z event=Connected endpoint=tcp://127.0.0.1:5555
        (and error="..." for a failure)
  json: {"time":"...","event":"HandshakeFailed","endpoint":"...","error":"..."}

Examples:
  azmq monitor tcp://127.0.0.1:5555
  azmq monitor --type SUB tcp://127.0.0.1:5556 --timeout 10s
  azmq monitor --bind 'tcp://*:5555' --type ROUTER      # who connects?
  azmq monitor --curve-server-public @server.key tcp://10.0.0.7:5555

` + securityHelp + `
Exit status: 0 stopped by Ctrl-C or --timeout; 1 failed (bad endpoint,
address in use, bad key); 2 bad usage.
`

func monitorCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("monitor")
	var (
		sec      secFlags
		topics   strList
		typeName = fs.String("type", "DEALER", "the socket `TYPE`")
		bind     = fs.Bool("bind", false, "bind ENDPOINT instead of connecting to it")
		format   = fs.String("format", "text", "text or json")
		timeout  = fs.Duration("timeout", 0, "stop after `DURATION` (default: run until Ctrl-C)")
		rid      = fs.String("routing-id", "", "the socket's routing `ID`")
	)
	fs.Var(&topics, "subscribe", "SUB: subscribe to `TOPIC` (repeatable; default: everything)")
	sec.register(fs)
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, monitorHelp)
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
	case len(pos) != 1:
		return usageErr("monitor: want one ENDPOINT, got %d arguments", len(pos))
	case *format != fmtText && *format != fmtJSON:
		return usageErr("monitor: --format %q: want text or json", *format)
	case len(topics) > 0 && t != azmq.SUB && t != azmq.XSUB:
		return usageErr("monitor: --subscribe is for SUB and XSUB sockets")
	case *timeout < 0:
		return usageErr("monitor: --timeout %v: must be positive", *timeout)
	}

	rc := newRunContext(*timeout)
	defer rc.stop()
	zctx := azmq.NewContext()
	defer zctx.Close()
	opts := []azmq.SocketOption{azmq.WithLinger(0)}
	if *rid != "" {
		opts = append(opts, azmq.WithRoutingID([]byte(*rid)))
	}
	s, err := newSocket(rc, zctx, t, &sec, opts...)
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
	mctx, stopMon := context.WithCancel(rc)
	defer stopMon()
	events := s.Monitor(mctx)
	if *bind {
		err = s.Bind(pos[0])
	} else {
		err = s.Connect(pos[0])
	}
	if err != nil {
		return err
	}
	if *bind {
		fmt.Fprintf(stderr, "endpoint=%s\n", s.LastEndpoint())
	}
	if canRecv(t) && t != azmq.REP {
		go func() { // drop what arrives, so that nothing backs up
			for {
				if _, err := s.Recv(rc); err != nil {
					return
				}
			}
		}()
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return nil
			}
			out.WriteString(eventLine(*format, time.Now(), e))
			if err := out.Flush(); err != nil {
				return err
			}
		case <-rc.Done():
			return nil // Ctrl-C or --timeout: the normal end of a monitor
		}
	}
}

// eventLine renders one event, newline included.
func eventLine(format string, at time.Time, e azmq.Event) string {
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	if format == fmtJSON {
		v := struct {
			Time     string `json:"time"`
			Event    string `json:"event"`
			Endpoint string `json:"endpoint"`
			Error    string `json:"error,omitempty"`
		}{ts, e.Kind.String(), e.Endpoint, ""}
		if e.Err != nil {
			v.Error = e.Err.Error()
		}
		b, _ := json.Marshal(v)
		return string(b) + "\n"
	}
	line := fmt.Sprintf("time=%s event=%s endpoint=%s", ts, e.Kind, e.Endpoint)
	if e.Err != nil {
		line += " error=" + strconv.Quote(e.Err.Error())
	}
	return line + "\n"
}
