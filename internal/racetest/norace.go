//go:build !race

// Package racetest tells tests whether the race detector is on.
package racetest

// Enabled is false: see race.go.
const Enabled = false
