package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/azmq/azmq/internal/benchkit"
)

// movedModes are the stress drivers that lived under "azmq bench" and are
// now the harness's (bench/stress): a user's tool does not carry them.
var movedModes = map[string]bool{
	"soak": true, "flood": true, "flood_push": true, "flood_pull": true,
	"conns_server": true, "conns_client": true,
}

// bench runs "azmq bench [flags]" (the matrix) or "azmq bench MODE ...".
func bench(args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("azmq bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	quick := fs.Bool("quick", false, "tiny fixed counts instead of calibrated ones: a few seconds in all")
	transports := fs.String("transports", "inproc,ipc,tcp", "comma-separated transports to measure: inproc, ipc, tcp, ws, wss (with a certificate made for the run), and udp (radiodish only)")
	sizes := fs.String("sizes", "16,256,4k,64k", "comma-separated message sizes in bytes (k = KiB)")
	patterns := fs.String("patterns", "pushpull", "comma-separated patterns to measure: pushpull, clientserver, radiodish (more than pushpull adds a pattern column to the table)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this `file` (go tool pprof)")
	release := fs.Bool("release", true, "receive into one reused azmq.Msg (RecvInto) or give each message back with azmq.Release, as libzmq's perf tools reuse or close theirs; false keeps every message (Recv) for the garbage collector")
	cpu := fs.Bool("cpu", false, "add a column to the table: the process's user+system CPU time per message of each throughput run (both sides, as both run in this process)")
	copySend := fs.Bool("copy", false, "send with Send, which copies every message, instead of SendNoCopy, which hands the payload over as libzmq's perf tools hand over each zmq_msg_t")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, benchUsage)
			fs.PrintDefaults()
			return nil
		}
		return usageErr("bench: %v", err)
	}

	benchkit.SetRelease(*release)
	benchkit.SetCopy(*copySend)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one ends the process at once.
	context.AfterFunc(ctx, stop)

	var m *benchkit.Matrix
	if fs.NArg() == 0 {
		var err error
		if m, err = benchkit.NewMatrix(*transports, *sizes, *patterns, *quick); err != nil {
			return usageErr("bench: %v", err)
		}
		m.SetCPU(*cpu)
	} else if mode := fs.Arg(0); movedModes[mode] {
		return usageErr("bench %s: the stress drivers are a command of their own: go run ./bench/stress %s (in azmq's source tree)", mode, mode)
	}
	if *cpuProfile != "" {
		stopProfile, err := benchkit.StartCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer func() {
			if perr := stopProfile(); perr != nil && err == nil {
				err = perr
			}
		}()
	}
	if m == nil {
		err = benchkit.Perf(ctx, fs.Args(), stdout, stderr)
	} else {
		err = m.Run(ctx, stdout, stderr)
	}
	if errors.Is(err, benchkit.ErrUsage) {
		return errUsage{err.Error()}
	}
	return err
}

const benchUsage = `Usage:
  azmq bench [-quick] [-transports LIST] [-sizes LIST] [-patterns LIST] [-cpu] [-cpuprofile FILE] [-release=false] [-copy]
  azmq bench [-cpuprofile FILE] [-release=false] [-copy] local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT
  azmq bench inproc_thr|inproc_lat SIZE COUNT

Without a mode, bench measures PUSH->PULL throughput and REQ/REP latency
for every transport and size in this process, about half a second a cell,
and prints a table. With a mode, it is one side of the two-process
benchmark of libzmq's perf tools: start local_thr (or local_lat) first,
then remote_thr (or remote_lat) with the same ENDPOINT, SIZE and COUNT.
local_thr prints "msgs_per_s=N mb_per_s=N cpu_ns_per_msg=N", timed from
the first message received to the last; remote_thr prints
"cpu_ns_per_msg=N" once every message is written; remote_lat prints
"rtt_us=N latency_us=N" over all COUNT round trips. cpu_ns_per_msg is the
process's user+system CPU time (getrusage; GetProcessTimes on Windows)
from before its socket is made to the end of its side, over COUNT; the
inproc modes leave it out (both sides share the process). A local side given a wildcard endpoint such as
tcp://127.0.0.1:* prints the endpoint it bound as "endpoint=..." on stderr.
The stress drivers (soak, flood, conns_server, conns_client) are a
command of their own in azmq's source tree: go run ./bench/stress --help.

-patterns chooses the pairs of socket types the table measures (default
pushpull, the table as it has always been):
  pushpull      PUSH->PULL throughput, REQ/REP latency
  clientserver  CLIENT->SERVER throughput; latency of a CLIENT whose
                SERVER answers with SendTo
  radiodish     RADIO->DISH throughput, one group, no latency (one way).
                A RADIO drops what its DISH has no room for, as a PUB
                does: the DISH counts what arrived, stops waiting 100ms
                after the last message was sent, and the table gives the
                share lost. It runs over udp too (-transports udp: the
                DISH binds, the RADIO connects), which drops more, with
                sizes up to what one datagram holds (8185 B).
With more than pushpull, the table has a pattern column and a lost column.
SendTo and SendGroup copy each message (they have no SendNoCopy): -copy
changes the other senders only.

CURVE: with AZMQ_BENCH_CURVE_SERVER_SECRET (the binding side) and
AZMQ_BENCH_CURVE_SERVER_PUBLIC (the connecting side) set to a key pair in
Z85 (azmq keygen), local_thr, remote_thr, local_lat and remote_lat run over
CURVE: the binding side is the server, the connecting side a client with a
key pair made for the run. The inproc modes and the matrix ignore them.
-cpu adds a column to the matrix's table: the process's user+system CPU
time per message over each throughput run, both sides together (they run
in this one process) with the sockets' set-up.
-cpuprofile FILE writes a CPU profile of the run (go tool pprof).
The receiving sides receive into one azmq.Msg with RecvInto, which gives
the last message's memory back, as libzmq's perf tools receive into one
zmq_msg_t, or give every message back with azmq.Release once they have
checked it; with -release=false they keep every message (Recv) and leave
it to the garbage collector instead. The
sending sides hand their payload over with SendNoCopy, as libzmq's perf
tools send each zmq_msg_t without a copy; with -copy they use Send, which
copies every message, as a program refilling one buffer must.

Examples:
  azmq bench                                   the whole matrix, in under a minute
  azmq bench -quick -transports tcp -sizes 16,64k
  azmq bench -quick -patterns pushpull,clientserver,radiodish
  azmq bench -patterns radiodish -transports tcp,udp -sizes 16,4k
  azmq bench -cpuprofile pull.prof local_thr tcp://127.0.0.1:5555 64 1000000
  azmq bench local_thr tcp://127.0.0.1:5555 16 1000000 &
  azmq bench remote_thr tcp://127.0.0.1:5555 16 1000000

Flags:
`
