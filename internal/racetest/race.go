//go:build race

package racetest

// Enabled: the race detector makes sync.Pool drop a quarter of what it is
// given, so tests of memory reuse through pools see allocations; make
// test runs them once more without -race.
const Enabled = true
