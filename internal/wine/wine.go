// Package wine tells tests whether they run under Wine, whose Windows
// differs from Microsoft's in ways a few tests must allow for (and say so).
package wine

// Running reports whether this is a Windows program under Wine.
func Running() bool { return running() }
