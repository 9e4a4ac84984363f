// Command chart draws the side-by-side comparison that compare recorded
// in runs.tsv as an SVG picture. By default: for every cell, each
// implementation's speed relative to libzmq's in the same run, on a
// logarithmic scale (throughput: msgs/s over libzmq's; latency: libzmq's
// latency over its own, so that longer bars are better either way).
// With -by-size: each implementation's throughput against the message
// size, one panel per transport (see drawBySize).
//
//	chart runs.tsv > chart.svg
//	chart -by-size runs.tsv > throughput.svg
//
// A cell's figure is the median of its repetitions ("rep" runs of an
// implementation against itself); an implementation whose runs all failed
// is shown by how they failed (panic, hang, ...). An implementation has
// the same color in both pictures.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, errUsage) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run is the command, args without the program's name.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bySize := fs.Bool("by-size", false, "draw throughput against message size, one panel per transport")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: chart [-by-size] runs.tsv > picture.svg")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	cells, impls, err := read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if *bySize {
		return drawBySize(stdout, cells, impls)
	}
	return draw(stdout, cells, impls)
}

// cell is one measured cell: its name and each implementation's median
// (or, when none worked, how its runs failed).
type cell struct {
	kind, transport string
	size            int
	median          map[string]float64
	runs            map[string]int // the rep runs behind a median
	failed          map[string]string
}

func (c *cell) name() string {
	return fmt.Sprintf("%s %s %s", c.kind, c.transport, sizeName(c.size))
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// read takes the repetitions out of runs.tsv, in the order the cells and
// implementations first appear.
func read(r io.Reader) ([]*cell, []string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() {
		return nil, nil, fmt.Errorf("empty runs file")
	}
	col := map[string]int{}
	for i, h := range strings.Split(sc.Text(), "\t") {
		col[h] = i
	}
	for _, h := range []string{"phase", "remote", "local", "kind", "transport", "size", "value"} {
		if _, ok := col[h]; !ok {
			return nil, nil, fmt.Errorf("runs file has no %q column", h)
		}
	}
	byName := map[string]*cell{}
	var cells []*cell
	var impls []string
	values := map[string][]float64{}
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < len(col) || f[col["remote"]] != f[col["local"]] {
			continue
		}
		phase, impl := f[col["phase"]], f[col["remote"]]
		if phase != "rep" && phase != "probe" {
			continue
		}
		size, err := strconv.Atoi(f[col["size"]])
		if err != nil {
			return nil, nil, fmt.Errorf("size %q: %v", f[col["size"]], err)
		}
		c := &cell{kind: f[col["kind"]], transport: f[col["transport"]], size: size}
		if old, ok := byName[c.name()]; ok {
			c = old
		} else {
			c.median, c.runs, c.failed = map[string]float64{}, map[string]int{}, map[string]string{}
			byName[c.name()] = c
			cells = append(cells, c)
		}
		if !slices.Contains(impls, impl) {
			impls = append(impls, impl)
		}
		v, err := strconv.ParseFloat(f[col["value"]], 64)
		key := c.name() + "\x00" + impl
		switch {
		case err != nil:
			c.failed[impl] = f[col["value"]] // hang, panic, fail, n/a
		case phase == "rep":
			values[key] = append(values[key], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	for _, c := range cells {
		for _, impl := range impls {
			if vs := values[c.name()+"\x00"+impl]; len(vs) > 0 {
				slices.Sort(vs)
				m := vs[len(vs)/2]
				if len(vs)%2 == 0 {
					m = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
				}
				c.median[impl], c.runs[impl] = m, len(vs)
				delete(c.failed, impl)
			}
		}
	}
	return cells, impls, nil
}

// figure writes a median as the cell's unit.
func (c *cell) figure(m float64) string {
	if c.kind == "lat" {
		return fmt.Sprintf("%.3g µs", m)
	}
	switch {
	case m >= 1e6:
		return fmt.Sprintf("%.3gM msg/s", m/1e6)
	case m >= 1e3:
		return fmt.Sprintf("%.3gk msg/s", m/1e3)
	}
	return fmt.Sprintf("%.3g msg/s", m)
}

// relative is impl's speed over libzmq's in c (0: not known).
func (c *cell) relative(impl string) float64 {
	m, base := c.median[impl], c.median["libzmq"]
	if m <= 0 || base <= 0 {
		return 0
	}
	if c.kind == "lat" {
		return base / m
	}
	return m / base
}

var colors = []string{"#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"}

// color is the color of the i-th implementation of read's list, the same
// in every picture.
func color(i int) string { return colors[i%len(colors)] }

// draw writes the picture: a row of bars per cell, one bar per
// implementation, on a log scale from 1/100 to 1000 times libzmq.
func draw(w io.Writer, cells []*cell, impls []string) error {
	const (
		left, right = 150, 30
		width       = 760
		barH, gap   = 9, 8
		top         = 56
		lo, hi      = -2.0, 3.0 // log10 of the scale's ends
	)
	plotW := float64(width - left - right)
	x := func(ratio float64) float64 {
		l := math.Log10(ratio)
		l = max(lo, min(hi, l))
		return float64(left) + (l-lo)/(hi-lo)*plotW
	}
	rowH := len(impls)*barH + gap
	height := top + len(cells)*rowH + 40
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="18" font-size="13" font-weight="bold">Speed against libzmq (log scale; longer is better)</text>`+"\n", left)
	for i, impl := range impls {
		fmt.Fprintf(b, `<rect x="%d" y="28" width="10" height="10" fill="%s"/><text x="%d" y="37">%s</text>`+"\n",
			left+i*110, color(i), left+i*110+14, impl)
	}
	for _, tick := range []float64{0.01, 0.1, 1, 10, 100, 1000} {
		tx := x(tick)
		stroke := "#ddd"
		if tick == 1 {
			stroke = "#444"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", tx, top-4, tx, height-30, stroke)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%gx</text>`+"\n", tx, height-16, tick)
	}
	for ci, c := range cells {
		y := top + ci*rowH
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+rowH/2+2, c.name())
		for i, impl := range impls {
			by := y + i*barH
			if r := c.relative(impl); r > 0 {
				fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %.2fx libzmq</title></rect>`+"\n",
					left, by, x(r)-float64(left), barH-1, color(i), c.name(), impl, r)
			} else if why := c.failed[impl]; why != "" {
				fmt.Fprintf(b, `<text x="%d" y="%d" font-size="9" fill="%s">%s: %s</text>`+"\n", left+2, by+barH-1, color(i), impl, why)
			} else if m := c.median[impl]; m > 0 {
				// No libzmq figure to measure it against: the figure itself.
				fmt.Fprintf(b, `<text x="%d" y="%d" font-size="9" fill="%s">%s: %s (no libzmq figure)</text>`+"\n", left+2, by+barH-1, color(i), impl, c.figure(m))
			}
		}
	}
	fmt.Fprintln(b, "</svg>")
	return b.Flush()
}
