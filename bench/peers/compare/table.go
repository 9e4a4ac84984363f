package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// cpuRow is a throughput cell's runs, for the table of CPU time per
// message.
type cpuRow struct {
	c        cell
	outcomes map[string][]result
}

// cpuMedians are the medians of the receivers' and the senders' CPU time
// per message over the runs that worked and printed it; NaN where none did.
func cpuMedians(runs []result) (recv, send float64) {
	var rs, ss []float64
	for _, r := range runs {
		if !r.ok {
			continue
		}
		if v, err := strconv.ParseFloat(r.cpuRecv, 64); err == nil {
			rs = append(rs, v)
		}
		if v, err := strconv.ParseFloat(r.cpuSend, 64); err == nil {
			ss = append(ss, v)
		}
	}
	recv, send = math.NaN(), math.NaN()
	if m, ok := median(rs); ok {
		recv = m
	}
	if m, ok := median(ss); ok {
		send = m
	}
	return recv, send
}

// cpuText is an implementation's entry in the CPU table: "recv, send ns",
// "-" for a side that printed nothing, and with withRatio the ratios to
// libzmq's medians.
func cpuText(runs []result, baseRecv, baseSend float64, withRatio bool) string {
	recv, send := cpuMedians(runs)
	if math.IsNaN(recv) && math.IsNaN(send) {
		return "-"
	}
	ns := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return sig3(v)
	}
	ratio := func(v, base float64) string {
		if math.IsNaN(v) || math.IsNaN(base) || base <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", v/base)
	}
	t := ns(recv) + ", " + ns(send) + " ns"
	if withRatio && !(math.IsNaN(baseRecv) && math.IsNaN(baseSend)) {
		t += " (" + ratio(recv, baseRecv) + ", " + ratio(send, baseSend) + ")"
	}
	return t
}

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
