package main

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The -by-size picture: PUSH->PULL throughput against the message size,
// one panel per transport, one line with markers per implementation
// through the medians of its "rep" runs.
//
// Both axes are logarithmic: the sizes go by factors of 16 (16 B to
// 1 MiB), and the rates span four to seven decades (a thousand to ten
// million messages a second), so a linear axis would flatten all but the
// fastest point of each panel. The panels of a row share their y scale,
// so that transports compare by eye.
//
// Two rows: messages/s on top, bytes/s (size × messages/s, decimal units
// as compare's mb_per_s) below. On a log scale the second is the first
// sheared by log(size), so it adds no figure, but it answers the question
// the first hides: messages/s falls with the size for everyone, and only
// the bytes/s row shows whether that fall is the bandwidth limit (the line
// flattens) or a cost per message (the line keeps climbing), and where a
// zero-copy transport (inproc) leaves the copying ones behind.
//
// A cell where every run of an implementation failed has no point and
// breaks its line; the failure's word (hang, panic, fail, n/a) is written
// under the panel at that size, with a ×, in the implementation's color.
// A size an implementation was not run at breaks its line too, unmarked.

// errNoThroughput: a runs file without a single thr cell has nothing to draw.
var errNoThroughput = errors.New("runs file has no throughput (thr) runs")

// sample is one implementation's figure at one (transport, size).
type sample struct {
	msgs   float64 // median msgs/s; 0 when failed
	runs   int     // how many runs the median is of
	failed string  // how every run failed; "" for a median
}

type sampleKey struct {
	transport, impl string
	size            int
}

// throughput is what the -by-size picture shows.
type throughput struct {
	transports []string // in the order the runs file has them
	sizes      []int    // ascending
	impls      []string // read's list: an implementation's index is its color
	shown      []string // those of impls with a thr cell, for the legend
	at         map[sampleKey]sample
}

// throughputOf takes the thr cells out of read's cells.
func throughputOf(cells []*cell, impls []string) (*throughput, error) {
	t := &throughput{impls: impls, at: map[sampleKey]sample{}}
	inThr := map[string]bool{}
	for _, c := range cells {
		if c.kind != "thr" {
			continue
		}
		if !slices.Contains(t.transports, c.transport) {
			t.transports = append(t.transports, c.transport)
		}
		if !slices.Contains(t.sizes, c.size) {
			t.sizes = append(t.sizes, c.size)
		}
		for _, impl := range impls {
			k := sampleKey{c.transport, impl, c.size}
			if m, ok := c.median[impl]; ok {
				inThr[impl] = true
				if m > 0 && !math.IsInf(m, 0) {
					t.at[k] = sample{msgs: m, runs: c.runs[impl]}
				} else {
					// Not a rate a log scale can place (0, NaN, Inf): said, not drawn.
					t.at[k] = sample{failed: "value " + strconv.FormatFloat(m, 'g', 3, 64)}
				}
			} else if why := c.failed[impl]; why != "" {
				inThr[impl] = true
				t.at[k] = sample{failed: why}
			}
		}
	}
	if len(t.sizes) == 0 {
		return nil, errNoThroughput
	}
	for _, s := range t.sizes {
		if s <= 0 {
			return nil, fmt.Errorf("thr size %d: a log scale needs sizes above 0", s)
		}
	}
	slices.Sort(t.sizes)
	for _, impl := range impls {
		if inThr[impl] {
			t.shown = append(t.shown, impl)
		}
	}
	return t, nil
}

// quantity is what a row of panels plots.
type quantity struct {
	name  string                               // the row's axis title
	value func(msgs float64, size int) float64 // from a sample's msgs/s
	label func(v float64) string               // a tick's text
}

var quantities = []quantity{
	{"messages/s", func(m float64, _ int) float64 { return m }, rateLabel},
	{"bytes/s (size × messages/s)", func(m float64, size int) float64 { return m * float64(size) }, byteRateLabel},
}

// logScale maps a positive value to a pixel: log10(v) from lo to hi onto
// p0 to p1 (p1 < p0 for a y axis, which grows downwards).
type logScale struct {
	lo, hi float64 // log10 of the values at p0 and p1
	p0, p1 float64
}

func (s logScale) pos(v float64) float64 {
	return s.p0 + (math.Log10(v)-s.lo)/(s.hi-s.lo)*(s.p1-s.p0)
}

// decadeScale is the scale from the decade at or below min to the one at
// or above max (one decade at least), whose ends are gridlines.
func decadeScale(min, max, p0, p1 float64) logScale {
	lo, hi := math.Floor(math.Log10(min)), math.Ceil(math.Log10(max))
	if hi <= lo {
		hi = lo + 1
	}
	return logScale{lo, hi, p0, p1}
}

// sizeScale puts the smallest size at p0 and the largest at p1; a single
// size sits in the middle.
func sizeScale(sizes []int, p0, p1 float64) logScale {
	lo, hi := math.Log10(float64(sizes[0])), math.Log10(float64(sizes[len(sizes)-1]))
	if hi <= lo {
		lo, hi = lo-1, hi+1
	}
	return logScale{lo, hi, p0, p1}
}

// si writes v with 3 significant digits and a decimal prefix (k, M, G...).
func si(v float64) string {
	const prefixes = "kMGTPE"
	p := ""
	for i := 0; v >= 999.5 && i < len(prefixes); i++ {
		v /= 1000
		p = prefixes[i : i+1]
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + p
}

// rateLabel is a messages/s tick: 100, 10k, 1M.
func rateLabel(v float64) string { return si(v) }

// byteRateLabel is a bytes/s tick: 100 kB/s, 1 GB/s.
func byteRateLabel(v float64) string {
	s := si(v)
	if n := len(s); n > 0 && (s[n-1] < '0' || s[n-1] > '9') {
		return s[:n-1] + " " + s[n-1:] + "B/s"
	}
	return s + " B/s"
}

// esc makes a name from the runs file safe in SVG text and attributes.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // writes to a Builder: no error
	return b.String()
}

// marker is the shape of the i-th implementation, drawn around (0, 0):
// a second cue beside the color, for whoever tells the colors apart badly.
func marker(i int) string {
	shapes := []string{
		`<circle r="3.6"/>`,
		`<rect x="-3.2" y="-3.2" width="6.4" height="6.4"/>`,
		`<path d="M0,-4.4L4,2.6H-4Z"/>`,
		`<path d="M0,-4.6L4.6,0L0,4.6L-4.6,0Z"/>`,
		`<path d="M0,4.4L4,-2.6H-4Z"/>`,
		`<path d="M-1.4,-4.4H1.4V-1.4H4.4V1.4H1.4V4.4H-1.4V1.4H-4.4V-1.4H-1.4Z"/>`,
	}
	return shapes[i%len(shapes)]
}

// The picture's layout, in pixels. 880 wide fits GitHub's page column
// without being scaled down much; three panels of about 250 each leave
// some 60 pixels between the 16x steps of the sizes, room for "64 KiB".
const (
	sWidth      = 880
	sLeft       = 80 // the y ticks and the row's title
	sRight      = 14
	sPanelGap   = 18
	sMinPanelW  = 150
	sTop        = 76 // below the title, the note and the legend
	sPlotH      = 180
	sFailRowH   = 12
	sMinLabelDX = 44 // between the centres of two size labels
	sInset      = 22 // a panel's side to its first or last size: room for "× panic"
)

// drawBySize writes the -by-size picture of the thr cells.
func drawBySize(w io.Writer, cells []*cell, impls []string) error {
	t, err := throughputOf(cells, impls)
	if err != nil {
		return err
	}
	n := len(t.transports)
	width := max(sWidth, sLeft+sRight+n*sMinPanelW+(n-1)*sPanelGap)
	panelW := float64(width-sLeft-sRight-(n-1)*sPanelGap) / float64(n)

	// Failure labels stack under a panel, as many rows as the most
	// implementations that failed at one size of any panel.
	failRows := 0
	for _, tr := range t.transports {
		for _, size := range t.sizes {
			k := 0
			for _, impl := range t.shown {
				if t.at[sampleKey{tr, impl, size}].failed != "" {
					k++
				}
			}
			failRows = max(failRows, k)
		}
	}
	band := 0
	if failRows > 0 {
		band = 4 + failRows*sFailRowH
	}
	rowH := 20 + sPlotH + band + 18 + 14
	height := sTop + len(quantities)*rowH + 22

	// Which sizes get a label: every step-th, so that labels do not overlap.
	xs := sizeScale(t.sizes, sInset, panelW-sInset)
	step := 1
	for len(t.sizes) > 1 {
		dx := (xs.pos(float64(t.sizes[len(t.sizes)-1])) - xs.pos(float64(t.sizes[0]))) / float64(len(t.sizes)-1) * float64(step)
		if dx >= sMinLabelDX {
			break
		}
		step++
	}

	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="20" font-size="14" font-weight="bold">Throughput against message size (PUSH→PULL; higher is better)</text>`+"\n", sLeft)
	fmt.Fprintf(b, `<text x="%d" y="38" fill="#555">each implementation against itself; a point is the median of its runs; log scales; × = every run failed</text>`+"\n", sLeft)
	for i, impl := range t.shown {
		ci := slices.Index(t.impls, impl)
		lx := sLeft + i*120
		fmt.Fprintf(b, `<g class="legend" data-impl="%s" fill="%s" stroke="%s"><line x1="%d" y1="56" x2="%d" y2="56" stroke-width="2"/><g transform="translate(%d,56)">%s</g><text x="%d" y="60" stroke="none" fill="#222">%s</text></g>`+"\n",
			esc(impl), color(ci), color(ci), lx, lx+24, lx+12, marker(ci), lx+30, esc(impl))
	}

	for r, q := range quantities {
		rowTop := sTop + r*rowH
		plotTop := float64(rowTop + 20)
		plotBottom := plotTop + sPlotH
		lo, hi := math.Inf(1), math.Inf(-1)
		for k, s := range t.at {
			if s.failed == "" {
				v := q.value(s.msgs, k.size)
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		if math.IsInf(lo, 1) {
			lo, hi = 1, 10 // every cell failed: an empty scale for the labels
		}
		ys := decadeScale(lo, hi, plotBottom, plotTop)
		mid := (plotTop + plotBottom) / 2
		fmt.Fprintf(b, `<text transform="translate(14,%.1f) rotate(-90)" text-anchor="middle" font-weight="bold">%s</text>`+"\n", mid, esc(q.name))
		for pi, tr := range t.transports {
			px := float64(sLeft) + float64(pi)*(panelW+sPanelGap)
			fmt.Fprintf(b, `<g class="panel" data-row="%d" data-transport="%s">`+"\n", r, esc(tr))
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold" font-size="12">%s</text>`+"\n", px+panelW/2, plotTop-7, esc(tr))
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="none" stroke="#999"/>`+"\n", px, plotTop, panelW, sPlotH)
			for d := ys.lo; d <= ys.hi; d++ {
				y := ys.pos(math.Pow(10, d))
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", px, y, px+panelW, y)
				if pi == 0 {
					fmt.Fprintf(b, `<text class="ytick" x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", sLeft-5, y+4, q.label(math.Pow(10, d)))
				}
			}
			for j, size := range t.sizes {
				x := px + xs.pos(float64(size))
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", x, plotTop, x, plotBottom)
				if j%step == 0 {
					fmt.Fprintf(b, `<text class="xtick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, plotBottom+float64(band)+14, sizeName(size))
				}
			}
			if pi == 0 && band > 0 {
				fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555" font-size="10">failed</text>`+"\n", sLeft-5, plotBottom+4+sFailRowH-2)
			}
			failed := map[int]int{} // size -> failure labels already under it
			for _, impl := range t.shown {
				ci := slices.Index(t.impls, impl)
				var path strings.Builder
				var points strings.Builder
				pen := false // a path is under way: the previous size had a point
				for _, size := range t.sizes {
					x := px + xs.pos(float64(size))
					s, ok := t.at[sampleKey{tr, impl, size}]
					if !ok || s.failed != "" {
						pen = false
						if ok {
							y := plotBottom + 4 + float64(failed[size]+1)*sFailRowH - 2
							failed[size]++
							fmt.Fprintf(&points, `<text class="failed" data-size="%d" x="%.1f" y="%.1f" text-anchor="middle" font-size="10" stroke="none"><title>%s %s %s: %s</title>× %s</text>`+"\n",
								size, x, y, esc(impl), esc(tr), sizeName(size), esc(s.failed), esc(s.failed))
						}
						continue
					}
					v := q.value(s.msgs, size)
					y := ys.pos(v)
					if pen {
						fmt.Fprintf(&path, "L%.1f,%.1f", x, y)
					} else {
						fmt.Fprintf(&path, "M%.1f,%.1f", x, y)
					}
					pen = true
					fmt.Fprintf(&points, `<g class="point" data-size="%d" data-value="%g" transform="translate(%.1f,%.1f)"><title>%s %s %s: %s msg/s, %s (median of %d)</title>%s</g>`+"\n",
						size, v, x, y, esc(impl), esc(tr), sizeName(size), si(s.msgs), byteRateLabel(s.msgs*float64(size)), s.runs, marker(ci))
				}
				if path.Len() == 0 && points.Len() == 0 {
					continue
				}
				fmt.Fprintf(b, `<g class="series" data-impl="%s" fill="%s" stroke="%s">`+"\n", esc(impl), color(ci), color(ci))
				if path.Len() > 0 {
					fmt.Fprintf(b, `<path class="line" d="%s" fill="none" stroke-width="1.8"/>`+"\n", path.String())
				}
				b.WriteString(points.String())
				fmt.Fprintln(b, "</g>")
			}
			fmt.Fprintln(b, "</g>")
		}
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">message size (log scale)</text>`+"\n", float64(sLeft+width-sRight)/2, height-8)
	fmt.Fprintln(b, "</svg>")
	return b.Flush()
}
