// Package benchkit is the benchmark code that "azmq bench" fronts and the
// stress harness (bench/stress) shares: the in-process throughput and
// latency matrix, and the modes of libzmq's perf tools (local_thr,
// remote_thr, local_lat, remote_lat, inproc_thr, inproc_lat), whose output
// lines are the protocol bench/peers/compare reads.
package benchkit

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
)

// ErrUsage marks a mistake in a benchmark's command line (a command exits
// 2 on it): match it with errors.Is.
var ErrUsage = errors.New("bad usage")

// usageError is a command-line mistake, with a message that says which.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usageErr(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// SetRelease chooses whether the receiving sides give each message's
// memory back, receiving into one Msg with RecvInto or calling
// azmq.Release (the default, as libzmq's perf tools reuse or close their
// zmq_msg_t), or keep each one (Recv) for the garbage collector.
func SetRelease(on bool) { noRelease.Store(!on) }

// SetCopy chooses whether the sending sides send with Send, which copies
// each message, instead of SendNoCopy (the default).
func SetCopy(on bool) { withCopy.Store(on) }

// StartCPUProfile profiles the process into path until the returned stop.
func StartCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		return nil
	}, nil
}
