package main

import (
	"flag"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/azmq/azmq"
)

// optFlags are the socket options a shell user reaches for, beside the
// security flags: every socket-making command takes them. Each is a
// With... option, so NewSocket checks the values and the socket type.
type optFlags struct {
	metadata       strList // --metadata NAME=VALUE
	conflate       bool
	xpubVerbose    bool
	xpubNoDrop     bool
	routerHandover bool
	keepalive      string // --keepalive off | on | IDLE[,INTERVAL[,COUNT]]
}

func (f *optFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.metadata, "metadata", "announce the property `NAME=VALUE` in the handshake (NAME starts with X-; repeatable); the peer reads it as a message property")
	fs.BoolVar(&f.conflate, "conflate", false, "keep only the newest message in each queue (PUSH, PULL, PUB, SUB, DEALER)")
	fs.BoolVar(&f.xpubVerbose, "xpub-verbose", false, "XPUB: pass every subscription on, not only a topic's first")
	fs.BoolVar(&f.xpubNoDrop, "xpub-nodrop", false, "PUB, XPUB: wait at a subscriber's high-water mark instead of dropping")
	fs.BoolVar(&f.routerHandover, "router-handover", false, "ROUTER: a new connection with a routing id in use takes it over")
	fs.StringVar(&f.keepalive, "keepalive", "", "TCP keepalive: off, on, or `IDLE[,INTERVAL[,COUNT]]` (e.g. 30s,10s,5; default on, 15s,15s,9)")
}

// options turns the flags into socket options.
func (f *optFlags) options() ([]azmq.SocketOption, error) {
	var opts []azmq.SocketOption
	for _, kv := range f.metadata {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usageErr("--metadata %q: want NAME=VALUE, e.g. X-Service=billing", kv)
		}
		opts = append(opts, azmq.WithMetadata(name, value))
	}
	for _, o := range []struct {
		on  bool
		opt func(bool) azmq.SocketOption
	}{
		{f.conflate, azmq.WithConflate},
		{f.xpubVerbose, azmq.WithXPubVerbose},
		{f.xpubNoDrop, azmq.WithXPubNoDrop},
		{f.routerHandover, azmq.WithRouterHandover},
	} {
		if o.on {
			opts = append(opts, o.opt(true))
		}
	}
	if f.keepalive != "" {
		cfg, err := keepAlive(f.keepalive)
		if err != nil {
			return nil, err
		}
		opts = append(opts, azmq.WithTCPKeepAlive(cfg))
	}
	return opts, nil
}

// keepAlive reads --keepalive: off, on, or IDLE[,INTERVAL[,COUNT]], the
// durations in Go's form (30s, 2m) and COUNT the probes.
func keepAlive(v string) (net.KeepAliveConfig, error) {
	switch v {
	case "off":
		return net.KeepAliveConfig{Enable: false}, nil
	case "on":
		return net.KeepAliveConfig{Enable: true}, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > 3 {
		return net.KeepAliveConfig{}, usageErr("--keepalive %q: want off, on or IDLE[,INTERVAL[,COUNT]]", v)
	}
	cfg := net.KeepAliveConfig{Enable: true}
	for i, p := range parts {
		if i == 2 {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 {
				return cfg, usageErr("--keepalive %q: COUNT %q must be a number of probes above 0", v, p)
			}
			cfg.Count = n
			continue
		}
		d, err := time.ParseDuration(p)
		if err != nil || d <= 0 {
			return cfg, usageErr("--keepalive %q: %q must be a duration above 0, e.g. 30s", v, p)
		}
		if i == 0 {
			cfg.Idle = d
		} else {
			cfg.Interval = d
		}
	}
	return cfg, nil
}

const optionsHelp = `Socket options (an option the socket's type does not have is an error):
  --metadata X-NAME=VALUE  a property announced in every handshake (repeatable);
                           the peer's libzmq reads it with zmq_msg_gets, azmq
                           with Msg.Property
  --conflate               keep only the newest message (PUSH PULL PUB SUB DEALER)
  --xpub-verbose           XPUB: every subscription, not only a topic's first
  --xpub-nodrop            PUB, XPUB: wait for a full subscriber, never drop
  --router-handover        ROUTER: a reconnecting peer takes its routing id back
  --keepalive SPEC         TCP keepalive: off, on, or IDLE[,INTERVAL[,COUNT]]
`
