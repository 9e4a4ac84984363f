// Command stress is azmq's stress harness: the drivers that check the
// library under load rather than measure it, kept out of the azmq tool a
// user installs.
//
//	stress soak [-duration D] [-report D]   every pattern at once, exact accounting, leak check
//	stress flood [flags]                    a PUSH floods a slow PULL, each a process; peak memory against HWM x size
//	stress conns_server ENDPOINT N          a ROUTER echoing until N peers made their round trips
//	stress conns_client ENDPOINT N          N DEALER sockets against it
//
// Run it from azmq's source tree: go run ./bench/stress --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

const usage = `stress is azmq's stress harness (go run ./bench/stress ...).

Usage:
  stress soak [-duration 10m] [-report 30s]
        every pattern at once with exact message accounting, and a check
        that goroutines and file descriptors come back (make soak)
  stress flood [-sizes LIST] [-hwm LIST] [-duration D] [-pause D] [-transports LIST]
        a PUSH flooding a slow PULL, each in a process of its own; prints
        each one's peak memory against HWM x size
  stress conns_server ENDPOINT N
        a ROUTER binds and echoes until N peers made 3 round trips each;
        a wildcard endpoint prints the one bound as "endpoint=..." on stderr
  stress conns_client ENDPOINT N
        N DEALER sockets connect and make their round trips
  The servers and clients each print what a connection costs them
  (goroutines, heap, RSS).
  stress --help, stress CMD --help
        print this help, or a command's

Examples:
  stress soak -duration 1m
  stress flood -sizes 16,64k -hwm 1000,100 -duration 5s
  stress conns_server tcp://127.0.0.1:5556 10000 &
  stress conns_client tcp://127.0.0.1:5556 10000

Exit status: 0 done, 1 failed (a message lost, a leak, an error), 2 bad usage.
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one ends the process at once.
	context.AfterFunc(ctx, stop)

	err := dispatch(ctx, args, stdout, stderr)
	if err == nil {
		return 0
	}
	msg := "stress: " + err.Error()
	var ue errUsage
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "%s (usage: see 'stress --help')\n", msg)
		return 2
	}
	fmt.Fprintln(stderr, msg)
	return 1
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	mode := args[0]
	switch mode {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "soak":
		return soakCmd(ctx, args[1:], stdout)
	case "flood":
		return floodCmd(ctx, args[1:], stdout, stderr)
	case "flood_push", "flood_pull":
		return floodChild(ctx, mode, args[1:], os.Stdin, stdout)
	case "conns_server", "conns_client":
		if len(args) == 2 && isHelp(args[1]) {
			fmt.Fprint(stdout, usage)
			return nil
		}
		if len(args) != 3 {
			return usageErr("%s: want ENDPOINT N", mode)
		}
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 1 {
			return usageErr("%s: N %q is not a positive number", mode, args[2])
		}
		if mode == "conns_server" {
			return connsServer(ctx, args[1], n, stdout, stderr)
		}
		return connsClient(ctx, args[1], n, stdout)
	}
	return usageErr("unknown command %q", mode)
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseBenchFlags parses the flags of a command that takes no positional
// argument (soak, flood). With -h or --help it prints usage, which ends
// with "Flags:", and the flags, and reports help: the command has nothing
// more to do.
func parseBenchFlags(fs *flag.FlagSet, args []string, stdout io.Writer, usage string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, usage)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
			return true, nil
		}
		return false, usageErr("%s: %v", strings.TrimPrefix(fs.Name(), "stress "), err)
	}
	if fs.NArg() > 0 {
		return false, usageErr("%s: unexpected argument %q", strings.TrimPrefix(fs.Name(), "stress "), fs.Arg(0))
	}
	return false, nil
}
