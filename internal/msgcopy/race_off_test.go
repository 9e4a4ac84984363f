//go:build !race

package msgcopy

const raceEnabled = false
