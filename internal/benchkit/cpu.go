package benchkit

import (
	"fmt"
	"time"
)

// cpuMeter is the process's user+system CPU time since it was started
// (getrusage RUSAGE_SELF; GetProcessTimes on Windows): every thread, so
// the runtime's and the garbage collector's work counts as the library's,
// as libzmq's I/O threads count in bench/peers/libzmq/perf.c.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	t, ok := processCPU()
	return cpuMeter{t, ok}
}

// since is the CPU time since the start; false where it cannot be read.
func (m cpuMeter) since() (time.Duration, bool) {
	now, ok := processCPU()
	return now - m.start, m.ok && ok
}

// field is " cpu_ns_per_msg=N" over count messages, or "" where the
// process's CPU time cannot be read.
func (m cpuMeter) field(count int) string {
	d, ok := m.since()
	if !ok || count < 1 {
		return ""
	}
	return fmt.Sprintf(" cpu_ns_per_msg=%.0f", float64(d)/float64(count))
}
