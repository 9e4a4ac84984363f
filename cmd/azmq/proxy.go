package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/azmq/azmq"
)

const proxyHelp = `Usage: azmq proxy [flags] FRONTEND BACKEND

Runs azmq.Proxy (libzmq's zmq_proxy) between two sockets until Ctrl-C
(or --timeout), then closes them and exits 0.

  --type queue      ROUTER on FRONTEND (clients: REQ or DEALER), DEALER on
                    BACKEND (workers: REP or ROUTER); the default
  --type forwarder  XSUB on FRONTEND (publishers), XPUB on BACKEND
                    (subscribers); subscriptions travel upstream
  --type streamer   PULL on FRONTEND (pushers), PUSH on BACKEND (pullers)

Both sockets bind their endpoint, as in libzmq's examples: clients,
workers, publishers and subscribers connect to the proxy. Write >ENDPOINT
to connect instead (e.g. an XSUB connecting to an existing publisher), or
@ENDPOINT to say bind explicitly. Each endpoint is printed on stderr as
frontend=..., backend=... and capture=... (useful with tcp://127.0.0.1:*).

--capture ENDPOINT adds a PUB socket that gets a copy of every message
the proxy passes, both ways (bound, or connected with >); watch it with
  azmq recv --type SUB --connect ENDPOINT
A capture nobody reads from costs nothing and never slows the proxy.

The security flags (below) secure the sockets --secure names: frontend,
backend and capture, comma-separated (default: all three), with the same
mechanism and keys; the others speak NULL. A proxy in front of a trusted
network secures its public side only, e.g. a CURVE server for clients:
  azmq proxy --secure frontend --curve-keyfile proxy.key 'tcp://*:5559' ipc:///tmp/workers
The socket option flags (--metadata...) apply to the frontend and backend.

Examples:
  azmq proxy 'tcp://*:5559' 'tcp://*:5560'                  # a shared queue
  azmq proxy --type forwarder 'tcp://*:5570' 'tcp://*:5571'
  azmq proxy --type forwarder '>tcp://10.0.0.5:5556' 'tcp://*:5571'
  azmq proxy --type streamer --capture tcp://127.0.0.1:5999 ipc:///tmp/in ipc:///tmp/out

` + securityHelp + "\n" + optionsHelp + `
Exit status: 0 stopped by Ctrl-C or --timeout; 1 a socket failed (bad
endpoint, address in use, bad key...); 2 bad usage.
`

// proxyKinds are the socket types of each kind of proxy.
var proxyKinds = map[string][2]azmq.SocketType{
	"queue":     {azmq.ROUTER, azmq.DEALER},
	"forwarder": {azmq.XSUB, azmq.XPUB},
	"streamer":  {azmq.PULL, azmq.PUSH},
}

// attachSpec binds ENDPOINT or @ENDPOINT, or connects >ENDPOINT, and
// prints what it did as NAME=ENDPOINT on stderr.
func attachSpec(s *azmq.Socket, name, spec string, stderr io.Writer) error {
	if ep, ok := strings.CutPrefix(spec, ">"); ok {
		if err := s.Connect(ep); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(stderr, "%s=%s\n", name, ep)
		return nil
	}
	ep := strings.TrimPrefix(spec, "@")
	if err := s.Bind(ep); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(stderr, "%s=%s\n", name, s.LastEndpoint())
	return nil
}

func proxyCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("proxy")
	kind := fs.String("type", "queue", "the kind of proxy: queue, forwarder or streamer")
	capture := fs.String("capture", "", "send a copy of every message to a PUB socket bound on `ENDPOINT` (>ENDPOINT: connected)")
	timeout := fs.Duration("timeout", 0, "stop after `DURATION` (default: run until Ctrl-C)")
	secure := fs.String("secure", "frontend,backend,capture", "the sockets the security flags apply to: a comma-separated `LIST` of frontend, backend, capture")
	var (
		sec secFlags
		so  optFlags
	)
	sec.register(fs)
	so.register(fs)
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, proxyHelp)
		return nil
	}
	if err != nil {
		return err
	}
	types, ok := proxyKinds[*kind]
	switch {
	case !ok:
		return usageErr("proxy: --type %q: want queue, forwarder or streamer", *kind)
	case len(pos) != 2:
		return usageErr("proxy: want FRONTEND and BACKEND endpoints, got %d arguments", len(pos))
	case *timeout < 0:
		return usageErr("proxy: --timeout %v: must be positive", *timeout)
	}
	secured := map[string]bool{}
	for side := range strings.SplitSeq(*secure, ",") {
		switch side = strings.TrimSpace(side); side {
		case "frontend", "backend", "capture":
			secured[side] = true
		default:
			return usageErr("proxy: --secure %q: want frontend, backend or capture, comma-separated", side)
		}
	}
	secOpts, handler, err := sec.options()
	if err != nil {
		return err
	}
	opts, err := so.options()
	if err != nil {
		return err
	}
	// sockOpts are a socket's options: its linger, the option flags, and
	// the security flags where --secure says.
	sockOpts := func(side string, base ...azmq.SocketOption) []azmq.SocketOption {
		if side != "capture" {
			base = append(base, opts...)
		}
		if secured[side] {
			base = append(base, secOpts...)
		}
		return base
	}

	rc := newRunContext(*timeout)
	defer rc.stop()
	zctx := azmq.NewContext()
	defer zctx.Close()
	if handler != nil {
		// One handler serves every socket of the context that asks ZAP.
		if _, err := handler.Start(rc, zctx); err != nil {
			return err
		}
	}
	linger := azmq.WithLinger(time.Second)
	frontend, err := zctx.NewSocket(types[0], sockOpts("frontend", linger)...)
	if err != nil {
		return fmt.Errorf("frontend: %w", err)
	}
	backend, err := zctx.NewSocket(types[1], sockOpts("backend", linger)...)
	if err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	if err := attachSpec(frontend, "frontend", pos[0], stderr); err != nil {
		return err
	}
	if err := attachSpec(backend, "backend", pos[1], stderr); err != nil {
		return err
	}
	var capSock *azmq.Socket
	if *capture != "" {
		if capSock, err = zctx.NewSocket(azmq.PUB, sockOpts("capture", azmq.WithLinger(0))...); err != nil {
			return fmt.Errorf("capture: %w", err)
		}
		if err := attachSpec(capSock, "capture", *capture, stderr); err != nil {
			return err
		}
	}
	err = azmq.Proxy(rc, frontend, backend, capSock)
	if rc.Err() != nil {
		return nil // Ctrl-C or --timeout: the normal end of a proxy
	}
	return err
}
