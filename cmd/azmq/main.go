// Command azmq is the azmq command-line tool.
//
//	azmq bench                         a throughput and latency matrix, in one process
//	azmq bench MODE ENDPOINT SIZE COUNT one side of a two-process benchmark
//	azmq keygen                        a new CURVE key pair in Z85
//	azmq send [flags] [FRAME...]       send messages (from the arguments or stdin)
//	azmq recv [flags]                  receive and print messages (or echo them)
//	azmq proxy FRONTEND BACKEND        a queue, forwarder or streamer proxy
//	azmq monitor ENDPOINT              print a socket's connection events
//	azmq version                       the version of azmq and Go
//
// Run "azmq --help" or "azmq CMD --help" for the details.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

const usage = `azmq is the command-line tool of azmq, ZeroMQ in pure Go.

Usage:
  azmq bench [-quick] [-transports LIST] [-sizes LIST] [-patterns LIST]
        measure PUSH->PULL throughput and REQ/REP latency over inproc, ipc
        and tcp in this process, and print a table; -patterns adds
        CLIENT/SERVER (clientserver) and RADIO/DISH (radiodish)
  azmq bench MODE ...
        one side of a benchmark, as libzmq's perf tools:
          local_thr  ENDPOINT SIZE COUNT   PULL binds, receives COUNT messages
          remote_thr ENDPOINT SIZE COUNT   PUSH connects, sends COUNT messages
          local_lat  ENDPOINT SIZE COUNT   REP binds, echoes COUNT messages
          remote_lat ENDPOINT SIZE COUNT   REQ connects, makes COUNT round trips
          inproc_thr SIZE COUNT            both throughput sides in one process
          inproc_lat SIZE COUNT            both latency sides in one process
  azmq keygen [--out NAME]
        print a new CURVE key pair in Z85 (as libzmq's curve_keygen), or write
        it as certificate files NAME.key and NAME.key_secret (as pyzmq, czmq)
  azmq send [--type T] (--bind EP | --connect EP)... [FRAME...]
        send one message of FRAMEs, or one per line of stdin; REQ prints replies;
        a RADIO sends to --group G; T is any type that sends, draft ones and
        STREAM (raw bytes to a program that does not speak ZeroMQ) too
  azmq recv [--type T] (--bind EP | --connect EP)... [-n COUNT] [--echo]
        print the messages received (text, hex or json); --echo answers them;
        a DISH receives the groups given with --join G
  azmq proxy [--type queue|forwarder|streamer] [--capture EP] FRONTEND BACKEND
        run a proxy (zmq_proxy) between two bound endpoints until Ctrl-C
  azmq monitor [--type T] [--bind] ENDPOINT
        connect (or bind) and print the socket's connection events
  azmq version
        print the version
  azmq --help, azmq CMD --help
        print this help, or a command's, with examples

Examples:
  azmq recv --type REP --echo --bind tcp://127.0.0.1:5555 &
  azmq send --type REQ --connect tcp://127.0.0.1:5555 hello      # prints hello
  azmq keygen > server.key
  azmq recv --curve-keyfile server.key --bind 'tcp://*:5556'
  azmq send --curve-server-public @server.key --connect tcp://127.0.0.1:5556 secret
  azmq proxy --type forwarder 'tcp://*:5570' 'tcp://*:5571'

Exit status: 0 done, 1 failed, 2 bad usage. Ctrl-C ends recv (without
-n), proxy and monitor normally: exit 0.
`

// errUsage marks a command-line mistake: exit status 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usageErr(format string, args ...any) error {
	return errUsage{fmt.Sprintf(format, args...)}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes a command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	err := dispatch(args, stdout, stderr)
	if err == nil {
		return 0
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "azmq: ") { // the library's errors say it already
		msg = "azmq: " + msg
	}
	var ue errUsage
	if errors.As(err, &ue) {
		help := "azmq --help"
		if commands[args[0]] {
			help = "azmq " + args[0] + " --help"
		}
		fmt.Fprintf(stderr, "%s (usage: see '%s')\n", msg, help)
		return 2
	}
	fmt.Fprintln(stderr, msg)
	return 1
}

// commands are the subcommands, each with a --help of its own.
var commands = map[string]bool{"bench": true, "keygen": true, "send": true, "recv": true, "proxy": true, "monitor": true}

func dispatch(args []string, stdout, stderr io.Writer) error {
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return nil
	case "bench":
		return bench(args[1:], stdout, stderr)
	case "keygen":
		return keygen(args[1:], stdout)
	case "send":
		return sendCmd(args[1:], os.Stdin, stdout, stderr)
	case "recv":
		return recvCmd(args[1:], stdout, stderr)
	case "proxy":
		return proxyCmd(args[1:], stdout, stderr)
	case "monitor":
		return monitorCmd(args[1:], stdout, stderr)
	}
	return usageErr("unknown command %q", args[0])
}

// version names the module's version (a tagged release, or "devel" with
// the commit when built from a work tree) and the Go toolchain.
func version() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if m := bi.Main.Version; m != "" && m != "(devel)" {
			v = m
		} else {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v += " " + s.Value[:12]
				}
			}
		}
	}
	return fmt.Sprintf("azmq %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
