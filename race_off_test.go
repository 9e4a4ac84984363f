//go:build !race

package azmq_test

const raceEnabled = false
