//go:build !unix && !windows

package benchkit

import "time"

// processCPU: no process CPU time here (js, wasip1, plan9); the perf lines
// leave the field out.
func processCPU() (time.Duration, bool) { return 0, false }
