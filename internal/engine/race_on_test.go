//go:build race

package engine

// raceEnabled: the race detector makes sync.Pool drop a quarter of what
// it is given, so reuse through pools shows as allocations.
const raceEnabled = true
