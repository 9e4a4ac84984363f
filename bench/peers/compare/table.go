package main

import (
	"fmt"
	"slices"
	"strings"
)

// figures returns the figures of the runs that worked.
func figures(runs []result) []float64 {
	var out []float64
	for _, r := range runs {
		if r.ok {
			out = append(out, r.figure)
		}
	}
	return out
}

// median of vs; false when there is none.
func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// cellText is one implementation's entry in a cell: the median, with MB/s
// for throughput, how many runs failed and how, the calibrated count
// (when count > 0), and the ratio to base (libzmq's median) when withRatio.
func cellText(c cell, runs []result, count int, base float64, withRatio bool) string {
	m, ok := median(figures(runs))
	if !ok {
		return failures(runs)
	}
	var b strings.Builder
	if c.kind == "thr" {
		fmt.Fprintf(&b, "%s msg/s, %s MB/s", si(m), sig3(m*float64(c.size)/1e6))
	} else {
		fmt.Fprintf(&b, "%s µs", sig3(m))
	}
	if good := len(figures(runs)); good < len(runs) {
		fmt.Fprintf(&b, " (%d/%d: %s)", good, len(runs), failures(runs))
	}
	if count > 0 {
		fmt.Fprintf(&b, " n=%d", count)
	}
	if withRatio && base > 0 {
		fmt.Fprintf(&b, " %.2fx", m/base)
	}
	return b.String()
}

// failures names the ways the failed runs failed, each once, in order.
func failures(runs []result) string {
	var seen []string
	for _, r := range runs {
		if !r.ok && !slices.Contains(seen, r.value) {
			seen = append(seen, r.value)
		}
	}
	if len(seen) == 0 {
		return "-"
	}
	return strings.Join(seen, ",")
}

// si writes a rate with three significant digits and k or M.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return sig3(v/1e6) + "M"
	case v >= 1e3:
		return sig3(v/1e3) + "k"
	}
	return sig3(v)
}

// sig3 writes v with three significant digits, or as an integer from 100 up.
func sig3(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
