package main

import (
	"flag"
	"strings"

	"github.com/azmq/azmq"
)

// optFlags are the socket options a shell user reaches for, beside the
// security flags: every socket-making command takes them.
type optFlags struct {
	metadata strList // --metadata NAME=VALUE
}

func (f *optFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.metadata, "metadata", "announce the property `NAME=VALUE` in the handshake (NAME starts with X-; repeatable); the peer reads it as a message property")
}

// options turns the flags into socket options. NewSocket checks their
// values and says what is wrong.
func (f *optFlags) options() ([]azmq.SocketOption, error) {
	var opts []azmq.SocketOption
	for _, kv := range f.metadata {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usageErr("--metadata %q: want NAME=VALUE, e.g. X-Service=billing", kv)
		}
		opts = append(opts, azmq.WithMetadata(name, value))
	}
	return opts, nil
}

const optionsHelp = `Socket options:
  --metadata X-NAME=VALUE  a property announced in every handshake (repeatable);
                           the peer's libzmq reads it with zmq_msg_gets, azmq
                           with Msg.Property
`
