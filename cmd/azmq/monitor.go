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

With --stats INTERVAL the socket's counters (Socket.Stats) are printed
every INTERVAL, and once more at the end:
  text: time=... event=Stats msgs_in=12 bytes_in=480 msgs_out=0 bytes_out=0
        dropped=0 accepted=0 connected=1 reconnects=0 handshakes=1
        handshake_failures=0 disconnects=0   (on one line)
  json: {"time":"...","event":"Stats","stats":{"MsgsOut":0,...}}

Examples:
  azmq monitor tcp://127.0.0.1:5555
  azmq monitor --type SUB tcp://127.0.0.1:5556 --timeout 10s
  azmq monitor --bind 'tcp://*:5555' --type ROUTER      # who connects?
  azmq monitor --curve-server-public @server.key tcp://10.0.0.7:5555

` + securityHelp + "\n" + optionsHelp + `
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
		every    = fs.Duration("stats", 0, "also print the socket's counters every `INTERVAL`, and at the end")
	)
	fs.Var(&topics, "subscribe", "SUB: subscribe to `TOPIC` (repeatable; default: everything)")
	sec.register(fs)
	var so optFlags
	so.register(fs)
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
	case *every < 0:
		return usageErr("monitor: --stats %v: must be positive", *every)
	}

	rc := newRunContext(*timeout)
	defer rc.stop()
	zctx := azmq.NewContext()
	defer zctx.Close()
	opts := []azmq.SocketOption{azmq.WithLinger(0)}
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
	var tick <-chan time.Time
	if *every > 0 {
		tk := time.NewTicker(*every)
		defer tk.Stop()
		tick = tk.C
		defer func() { out.WriteString(counterLine(*format, time.Now(), s.Stats())) }()
	}
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return nil
			}
			out.WriteString(eventLine(*format, time.Now(), e))
		case now := <-tick:
			out.WriteString(counterLine(*format, now, s.Stats()))
		case <-rc.Done():
			return nil // Ctrl-C or --timeout: the normal end of a monitor
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// counterLine renders the socket's counters, newline included.
func counterLine(format string, at time.Time, st azmq.Stats) string {
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	if format == fmtJSON {
		b, _ := json.Marshal(struct {
			Time  string     `json:"time"`
			Event string     `json:"event"`
			Stats azmq.Stats `json:"stats"`
		}{ts, "Stats", st})
		return string(b) + "\n"
	}
	return fmt.Sprintf("time=%s event=Stats msgs_in=%d bytes_in=%d msgs_out=%d bytes_out=%d dropped=%d accepted=%d connected=%d reconnects=%d handshakes=%d handshake_failures=%d disconnects=%d\n",
		ts, st.MsgsIn, st.BytesIn, st.MsgsOut, st.BytesOut, st.Dropped, st.Accepted, st.Connected,
		st.Reconnects, st.Handshakes, st.HandshakeFailures, st.Disconnects)
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
