// Command azmq is the azmq command-line tool.
//
//	azmq bench                         a throughput and latency matrix, in one process
//	azmq bench MODE ENDPOINT SIZE COUNT one side of a two-process benchmark
//	azmq keygen                        a new CURVE key pair in Z85
//	azmq version                       the version of azmq and Go
//
// Run "azmq --help" or "azmq bench --help" for the details.
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
  azmq bench [-quick] [-transports LIST] [-sizes LIST]
        measure PUSH->PULL throughput and REQ/REP latency over inproc, ipc
        and tcp in this process, and print a table
  azmq bench MODE ...
        one side of a benchmark, as libzmq's perf tools:
          local_thr  ENDPOINT SIZE COUNT   PULL binds, receives COUNT messages
          remote_thr ENDPOINT SIZE COUNT   PUSH connects, sends COUNT messages
          local_lat  ENDPOINT SIZE COUNT   REP binds, echoes COUNT messages
          remote_lat ENDPOINT SIZE COUNT   REQ connects, makes COUNT round trips
          inproc_thr SIZE COUNT            both throughput sides in one process
          inproc_lat SIZE COUNT            both latency sides in one process
  azmq keygen
        print a new CURVE key pair in Z85 (as libzmq's curve_keygen)
  azmq version
        print the version
  azmq --help
        print this help

Exit status: 0 done, 1 failed, 2 bad usage.
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
		fmt.Fprintf(stderr, "%s (usage: see 'azmq --help')\n", msg)
		return 2
	}
	fmt.Fprintln(stderr, msg)
	return 1
}

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
