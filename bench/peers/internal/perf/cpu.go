package perf

import (
	"fmt"
	"time"
)

// cpuMeter is the process's user+system CPU time at a start.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	t, ok := processCPU()
	return cpuMeter{t, ok}
}

// field is " cpu_ns_per_msg=N" over count messages since the start, or ""
// where the process's CPU time cannot be read.
func (m cpuMeter) field(count int) string {
	now, ok := processCPU()
	if !m.ok || !ok || count < 1 {
		return ""
	}
	return fmt.Sprintf(" cpu_ns_per_msg=%.0f", float64(now-m.start)/float64(count))
}
