package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// tsv is a runs file: the header and rows of "phase remote kind transport
// size value" (local = remote; the other columns filled in).
func tsv(rows ...string) string {
	var b strings.Builder
	b.WriteString("phase\tremote\tlocal\tkind\ttransport\tsize\tcount\tvalue\tseconds\tmax_rss_kb\toutput\n")
	for _, r := range rows {
		f := strings.Fields(r)
		local := f[1]
		if f[0] == "cross" { // "cross REMOTE:LOCAL ..."
			f[1], local, _ = strings.Cut(f[1], ":")
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\t100\t%s\t0.1\t1\tx\n", f[0], f[1], local, f[2], f[3], f[4], f[5])
	}
	return b.String()
}

func mustThroughput(t *testing.T, runs string) *throughput {
	t.Helper()
	cells, impls, err := read(strings.NewReader(runs))
	if err != nil {
		t.Fatal(err)
	}
	th, err := throughputOf(cells, impls)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func TestThroughputOf(t *testing.T) {
	tests := []struct {
		name       string
		runs       string
		transports []string
		sizes      []int
		shown      []string
		want       map[sampleKey]sample
	}{
		{
			name: "median of an odd count; probes left out",
			runs: tsv("probe libzmq thr tcp 16 9", "rep libzmq thr tcp 16 100", "rep libzmq thr tcp 16 300", "rep libzmq thr tcp 16 200"),
			want: map[sampleKey]sample{{"tcp", "libzmq", 16}: {msgs: 200, runs: 3}},
		},
		{
			name: "median of an even count",
			runs: tsv("rep azmq thr ipc 256 100", "rep azmq thr ipc 256 400"),
			want: map[sampleKey]sample{{"ipc", "azmq", 256}: {msgs: 250, runs: 2}},
		},
		{
			name: "a failed run among good ones: the median of the good ones",
			runs: tsv("rep libzmq thr ipc 16 100", "rep libzmq thr ipc 16 hang", "rep libzmq thr ipc 16 300"),
			want: map[sampleKey]sample{{"ipc", "libzmq", 16}: {msgs: 200, runs: 2}},
		},
		{
			name: "every run failed: the failure, no figure",
			runs: tsv("probe pebbe thr ipc 16 3", "rep pebbe thr ipc 16 hang", "rep pebbe thr ipc 16 hang"),
			want: map[sampleKey]sample{{"ipc", "pebbe", 16}: {failed: "hang"}},
		},
		{
			name: "a failed probe and no runs",
			runs: tsv("rep gozeromq thr inproc 16 150", "probe gozeromq thr inproc 256 panic"),
			want: map[sampleKey]sample{
				{"inproc", "gozeromq", 16}:  {msgs: 150, runs: 1},
				{"inproc", "gozeromq", 256}: {failed: "panic"},
			},
		},
		{
			name:  "a size an implementation was not run at has no sample",
			runs:  tsv("rep azmq thr tcp 16 10", "rep libzmq thr tcp 256 20", "rep azmq thr tcp 4096 30"),
			sizes: []int{16, 256, 4096},
			shown: []string{"azmq", "libzmq"},
			want: map[sampleKey]sample{
				{"tcp", "azmq", 16}:    {msgs: 10, runs: 1},
				{"tcp", "libzmq", 256}: {msgs: 20, runs: 1},
				{"tcp", "azmq", 4096}:  {msgs: 30, runs: 1},
			},
		},
		{
			name:       "latency and cross runs left out; sizes sorted; transports in order",
			runs:       tsv("rep libzmq lat tcp 8 30", "rep libzmq thr ipc 4096 5", "cross libzmq:azmq thr tcp 16 7", "rep libzmq thr tcp 16 6", "rep azmq lat tcp 16 9"),
			transports: []string{"ipc", "tcp"},
			sizes:      []int{16, 4096},
			shown:      []string{"libzmq"},
			want: map[sampleKey]sample{
				{"ipc", "libzmq", 4096}: {msgs: 5, runs: 1},
				{"tcp", "libzmq", 16}:   {msgs: 6, runs: 1},
			},
		},
		{
			name: "a rate no log scale can place is said, not drawn",
			runs: tsv("rep azmq thr tcp 16 0", "rep libzmq thr tcp 16 NaN", "rep pebbe thr tcp 16 +Inf"),
			want: map[sampleKey]sample{
				{"tcp", "azmq", 16}:   {failed: "value 0"},
				{"tcp", "libzmq", 16}: {failed: "value NaN"},
				{"tcp", "pebbe", 16}:  {failed: "value +Inf"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := mustThroughput(t, tt.runs)
			if !maps.Equal(th.at, tt.want) {
				t.Errorf("samples\n got %v\nwant %v", th.at, tt.want)
			}
			if tt.transports != nil && !slices.Equal(th.transports, tt.transports) {
				t.Errorf("transports %v, want %v", th.transports, tt.transports)
			}
			if tt.sizes != nil && !slices.Equal(th.sizes, tt.sizes) {
				t.Errorf("sizes %v, want %v", th.sizes, tt.sizes)
			}
			if tt.shown != nil && !slices.Equal(th.shown, tt.shown) {
				t.Errorf("shown %v, want %v", th.shown, tt.shown)
			}
		})
	}
}

func TestThroughputOfNone(t *testing.T) {
	for _, runs := range []string{
		tsv("rep libzmq lat tcp 16 30"),
		tsv("cross libzmq:azmq thr tcp 16 7"),
		tsv(),
	} {
		cells, impls, err := read(strings.NewReader(runs))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := throughputOf(cells, impls); !errors.Is(err, errNoThroughput) {
			t.Errorf("%q: err %v, want errNoThroughput", runs, err)
		}
		if err := drawBySize(&bytes.Buffer{}, cells, impls); !errors.Is(err, errNoThroughput) {
			t.Errorf("%q: drawBySize err %v, want errNoThroughput", runs, err)
		}
	}
}

func TestThroughputOfBadSize(t *testing.T) {
	for _, size := range []string{"0", "-16"} {
		cells, impls, err := read(strings.NewReader(tsv("rep azmq thr tcp 16 5", "rep azmq thr tcp "+size+" 5")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := throughputOf(cells, impls); err == nil || !strings.Contains(err.Error(), "size "+size) {
			t.Errorf("size %s: err %v, want one naming the size", size, err)
		}
	}
}

func TestScales(t *testing.T) {
	sizes := []int{16, 256, 4096, 65536, 1 << 20}
	tests := []struct {
		name   string
		s      logScale
		values []float64 // ascending
		ends   [2]float64
	}{
		{"sizes", sizeScale(sizes, 10, 230), []float64{16, 256, 4096, 65536, 1 << 20}, [2]float64{10, 230}},
		{"two sizes", sizeScale([]int{16, 17}, 0, 100), []float64{16, 17}, [2]float64{0, 100}},
		{"msgs/s, y grows downwards", decadeScale(184, 8.5e6, 200, 20), []float64{100, 184, 1e3, 36080, 8.5e6, 1e7}, [2]float64{200, 20}},
		{"bytes/s over seven decades", decadeScale(5.7e5, 4e12, 200, 20), []float64{1e5, 5.7e5, 1e9, 4e12, 1e13}, [2]float64{200, 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := tt.s.pos(tt.values[0]), tt.s.pos(tt.values[len(tt.values)-1]); a != tt.ends[0] || b != tt.ends[1] {
				t.Errorf("ends at %v, %v; want %v", a, b, tt.ends)
			}
			dir := math.Copysign(1, tt.ends[1]-tt.ends[0])
			for i := 1; i < len(tt.values); i++ {
				a, b := tt.s.pos(tt.values[i-1]), tt.s.pos(tt.values[i])
				if (b-a)*dir <= 0 {
					t.Errorf("%g at %v, %g at %v: not monotonic", tt.values[i-1], a, tt.values[i], b)
				}
			}
		})
	}
	// Equal factors are equal distances: 16 B to 256 B as 64 KiB to 1 MiB.
	s := sizeScale(sizes, 0, 400)
	if d1, d2 := s.pos(256)-s.pos(16), s.pos(1<<20)-s.pos(65536); math.Abs(d1-d2) > 1e-9 || d1 != 100 {
		t.Errorf("steps %v and %v, want 100 each", d1, d2)
	}
	// One size, or one decade of values, still makes a scale.
	if p := sizeScale([]int{4096}, 0, 100).pos(4096); p != 50 {
		t.Errorf("a single size at %v, want the middle", p)
	}
	if d := decadeScale(1000, 1000, 100, 0); d.lo != 3 || d.hi != 4 {
		t.Errorf("one value: decades %v..%v, want 3..4", d.lo, d.hi)
	}
	if d := decadeScale(120, 9e5, 100, 0); d.lo != 2 || d.hi != 6 {
		t.Errorf("decades %v..%v, want 2..6", d.lo, d.hi)
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		f    func(float64) string
		v    float64
		want string
	}{
		{rateLabel, 100, "100"},
		{rateLabel, 1e3, "1k"},
		{rateLabel, 1e4, "10k"},
		{rateLabel, 1e5, "100k"},
		{rateLabel, 1e6, "1M"},
		{rateLabel, 1e7, "10M"},
		{rateLabel, 265844, "266k"},
		{rateLabel, 999.7, "1k"},
		{byteRateLabel, 100, "100 B/s"},
		{byteRateLabel, 1e5, "100 kB/s"},
		{byteRateLabel, 1e6, "1 MB/s"},
		{byteRateLabel, 1.09e9, "1.09 GB/s"},
		{byteRateLabel, 1e13, "10 TB/s"},
		{func(v float64) string { return sizeName(int(v)) }, 16, "16 B"},
		{func(v float64) string { return sizeName(int(v)) }, 4096, "4 KiB"},
		{func(v float64) string { return sizeName(int(v)) }, 65536, "64 KiB"},
		{func(v float64) string { return sizeName(int(v)) }, 1 << 20, "1 MiB"},
	}
	for _, tt := range tests {
		if got := tt.f(tt.v); got != tt.want {
			t.Errorf("%g: %q, want %q", tt.v, got, tt.want)
		}
	}
}

// node is any element of a parsed SVG.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all is every element under n (n included) of class class.
func (n *node) all(class string) []*node {
	var out []*node
	if n.attr("class") == class {
		out = append(out, n)
	}
	for i := range n.Nodes {
		out = append(out, n.Nodes[i].all(class)...)
	}
	return out
}

func parseSVG(t *testing.T, svg []byte) *node {
	t.Helper()
	var root node
	if err := xml.Unmarshal(svg, &root); err != nil {
		t.Fatalf("the picture is not XML: %v\n%s", err, svg)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root %v", root.XMLName)
	}
	return &root
}

// point is a marker of the picture: its size, value and place.
type point struct {
	size int
	v    float64
	x, y float64
}

func points(t *testing.T, series *node) []point {
	t.Helper()
	var ps []point
	for _, p := range series.all("point") {
		var pt point
		var err1, err2 error
		pt.size, err1 = strconv.Atoi(p.attr("data-size"))
		pt.v, err2 = strconv.ParseFloat(p.attr("data-value"), 64)
		_, err3 := fmt.Sscanf(p.attr("transform"), "translate(%g,%g)", &pt.x, &pt.y)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("point %v: %v", p.Attrs, err)
		}
		ps = append(ps, pt)
	}
	return ps
}

// byRun is a run with, at tcp: libzmq at every size; azmq at every size
// but 4096, where each run hung; pebbe at 16 and 4096 only; at inproc,
// gozeromq at 16 and a panic at 256; latency rows beside.
var byRun = tsv(
	"rep libzmq thr tcp 16 2000000", "rep libzmq thr tcp 16 2200000", "rep libzmq thr tcp 16 1800000",
	"rep libzmq thr tcp 256 900000",
	"rep libzmq thr tcp 4096 40000",
	"rep libzmq thr tcp 65536 2500",
	"rep azmq thr tcp 16 2100000",
	"rep azmq thr tcp 256 1300000",
	"probe azmq thr tcp 4096 300", "rep azmq thr tcp 4096 hang", "rep azmq thr tcp 4096 hang",
	"rep azmq thr tcp 65536 15000",
	"rep pebbe thr tcp 16 1000000",
	"rep pebbe thr tcp 4096 45000",
	"rep gozeromq thr inproc 16 150000",
	"probe gozeromq thr inproc 256 panic",
	"rep libzmq thr inproc 16 6000000", "rep libzmq thr inproc 256 4000000",
	"rep libzmq lat tcp 16 30", "rep azmq lat tcp 16 28",
)

func TestDrawBySize(t *testing.T) {
	cells, impls, err := read(strings.NewReader(byRun))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := drawBySize(&b, cells, impls); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
		t.Errorf("picture has NaN or Inf:\n%s", s)
	}
	root := parseSVG(t, b.Bytes())

	// The legend: every implementation with a thr cell, in read's order,
	// in the colors of the other picture.
	var old bytes.Buffer
	if err := draw(&old, cells, impls); err != nil {
		t.Fatal(err)
	}
	oldColor := map[string]string{} // the other picture's legend: a swatch, then the name
	oldRoot := parseSVG(t, old.Bytes())
	for i := 1; i < len(oldRoot.Nodes); i++ {
		if sw, name := &oldRoot.Nodes[i-1], &oldRoot.Nodes[i]; sw.XMLName.Local == "rect" && sw.attr("y") == "28" && name.XMLName.Local == "text" {
			oldColor[name.Text] = sw.attr("fill")
		}
	}
	var legend []string
	for _, l := range root.all("legend") {
		impl := l.attr("data-impl")
		legend = append(legend, impl)
		if c := l.attr("fill"); c == "" || c != oldColor[impl] {
			t.Errorf("%s: color %q, the other picture's %q", impl, c, oldColor[impl])
		}
	}
	if want := []string{"libzmq", "azmq", "pebbe", "gozeromq"}; !slices.Equal(legend, want) {
		t.Errorf("legend %v, want %v", legend, want)
	}

	type panelKey struct {
		row       string
		transport string
	}
	panels := map[panelKey]*node{}
	for _, p := range root.all("panel") {
		panels[panelKey{p.attr("data-row"), p.attr("data-transport")}] = p
	}
	if len(panels) != 4 {
		t.Fatalf("%d panels, want 2 rows of tcp and inproc", len(panels))
	}

	tests := []struct {
		row, transport, impl string
		sizes                []int    // of the points, in order
		moves                int      // the line's pieces ("M" commands)
		failed               []string // the failure labels, "size word"
	}{
		{"0", "tcp", "libzmq", []int{16, 256, 4096, 65536}, 1, nil},
		{"0", "tcp", "azmq", []int{16, 256, 65536}, 2, []string{"4096 × hang"}},
		{"0", "tcp", "pebbe", []int{16, 4096}, 2, nil},
		{"0", "inproc", "gozeromq", []int{16}, 1, []string{"256 × panic"}},
		{"0", "inproc", "libzmq", []int{16, 256}, 1, nil},
		{"1", "tcp", "azmq", []int{16, 256, 65536}, 2, []string{"4096 × hang"}},
		{"1", "inproc", "gozeromq", []int{16}, 1, []string{"256 × panic"}},
		{"0", "tcp", "gozeromq", nil, 0, nil},
		{"0", "inproc", "azmq", nil, 0, nil},
	}
	for _, tt := range tests {
		name := tt.row + " " + tt.transport + " " + tt.impl
		var series *node
		for _, s := range panels[panelKey{tt.row, tt.transport}].all("series") {
			if s.attr("data-impl") == tt.impl {
				series = s
			}
		}
		if series == nil {
			if tt.sizes != nil || tt.failed != nil {
				t.Errorf("%s: no series", name)
			}
			continue
		}
		if tt.sizes == nil && tt.failed == nil {
			t.Errorf("%s: a series for an implementation not run there", name)
			continue
		}
		ps := points(t, series)
		var sizes []int
		for i, p := range ps {
			sizes = append(sizes, p.size)
			if i > 0 && p.x <= ps[i-1].x {
				t.Errorf("%s: %d B at x %v, left of %d B at %v", name, p.size, p.x, ps[i-1].size, ps[i-1].x)
			}
		}
		if !slices.Equal(sizes, tt.sizes) {
			t.Errorf("%s: points at %v, want %v", name, sizes, tt.sizes)
		}
		moves := 0
		for _, l := range series.all("line") {
			moves += strings.Count(l.attr("d"), "M")
		}
		if moves != tt.moves {
			t.Errorf("%s: line in %d pieces, want %d", name, moves, tt.moves)
		}
		var failed []string
		for _, f := range series.all("failed") {
			failed = append(failed, f.attr("data-size")+" "+strings.TrimSpace(f.Text))
		}
		if !slices.Equal(failed, tt.failed) {
			t.Errorf("%s: failures %q, want %q", name, failed, tt.failed)
		}
	}

	// Values: the medians, msgs/s on the first row and bytes/s on the
	// second; and within a row, the higher the value, the higher the point.
	want := map[string]float64{"0 tcp 16 libzmq": 2e6, "1 tcp 16 libzmq": 32e6, "0 tcp 65536 azmq": 15000, "1 tcp 65536 azmq": 15000 * 65536}
	for _, row := range []string{"0", "1"} {
		var all []point
		for _, tr := range []string{"tcp", "inproc"} {
			for _, s := range panels[panelKey{row, tr}].all("series") {
				for _, p := range points(t, s) {
					all = append(all, p)
					key := fmt.Sprintf("%s %s %d %s", row, tr, p.size, s.attr("data-impl"))
					if w, ok := want[key]; ok && p.v != w {
						t.Errorf("%s: value %v, want %v", key, p.v, w)
					}
					delete(want, key)
				}
			}
		}
		slices.SortFunc(all, func(a, b point) int { return int(math.Copysign(1, a.v-b.v)) })
		for i := 1; i < len(all); i++ {
			if all[i].v > all[i-1].v && all[i].y >= all[i-1].y {
				t.Errorf("row %s: %g at y %v, not above %g at y %v", row, all[i].v, all[i].y, all[i-1].v, all[i-1].y)
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("no points for %v", want)
	}
}

// Many sizes: the size labels thin out rather than overlap; five sizes
// are all labelled.
func TestDrawBySizeLabels(t *testing.T) {
	for _, n := range []int{1, 5, 17} {
		var rows []string
		var sizes []string
		for i := range n {
			size := 16 << i
			for _, tr := range []string{"tcp", "ipc", "inproc"} { // three panels: narrow ones
				rows = append(rows, fmt.Sprintf("rep azmq thr %s %d %d", tr, size, 1000000>>i))
			}
			sizes = append(sizes, sizeName(size))
		}
		cells, impls, err := read(strings.NewReader(tsv(rows...)))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := drawBySize(&b, cells, impls); err != nil {
			t.Fatal(err)
		}
		ticks := parseSVG(t, b.Bytes()).all("xtick")
		var labels []string
		for i, tick := range ticks[:len(ticks)/6] { // the first panel
			labels = append(labels, tick.Text)
			x, _ := strconv.ParseFloat(tick.attr("x"), 64)
			if i > 0 {
				prev, _ := strconv.ParseFloat(ticks[i-1].attr("x"), 64)
				if x-prev < sMinLabelDX-0.1 {
					t.Errorf("%d sizes: labels %q and %q %v apart", n, ticks[i-1].Text, tick.Text, x-prev)
				}
			}
		}
		if n <= 5 && !slices.Equal(labels, sizes) {
			t.Errorf("%d sizes: labels %q, want %q", n, labels, sizes)
		}
		if n > 5 && (len(labels) < 4 || labels[0] != "16 B") {
			t.Errorf("%d sizes: labels %q", n, labels)
		}
	}
}

// Names come from a file: whatever they hold, the picture stays XML and
// says them as they are.
func TestDrawBySizeEscapes(t *testing.T) {
	name := `a<b&"c'`
	runs := strings.ReplaceAll(tsv("rep X thr tcp 16 100", "rep X thr t<&p 16 200", "rep X thr tcp 256 50"), "X", name)
	cells, impls, err := read(strings.NewReader(runs))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := drawBySize(&b, cells, impls); err != nil {
		t.Fatal(err)
	}
	root := parseSVG(t, b.Bytes())
	if l := root.all("legend"); len(l) != 1 || l[0].attr("data-impl") != name {
		t.Errorf("legend %v", l)
	}
	var trs []string
	for _, p := range root.all("panel") {
		trs = append(trs, p.attr("data-transport"))
	}
	if want := []string{"tcp", "t<&p", "tcp", "t<&p"}; !slices.Equal(trs, want) {
		t.Errorf("panels %q, want %q", trs, want)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.tsv")
	if err := os.WriteFile(path, []byte(byRun), 0o644); err != nil {
		t.Fatal(err)
	}
	latOnly := filepath.Join(dir, "lat.tsv")
	if err := os.WriteFile(latOnly, []byte(tsv("rep libzmq lat tcp 16 30")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		usage bool   // errUsage
		err   string // in the error, "" for none
		out   string // in the picture
	}{
		{args: []string{path}, out: "Speed against libzmq"},
		{args: []string{"-by-size", path}, out: `class="panel"`},
		{args: []string{"-by-size", latOnly}, err: "no throughput"},
		{args: []string{"-by-size", filepath.Join(dir, "none.tsv")}, err: "none.tsv"},
		{args: nil, usage: true},
		{args: []string{"-by-size"}, usage: true},
		{args: []string{"-nope", path}, usage: true},
		{args: []string{path, path}, usage: true},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := run(tt.args, &out, &errOut)
		switch {
		case tt.usage:
			if !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "usage: chart") {
				t.Errorf("%q: err %v, stderr %q; want the usage", tt.args, err, errOut.String())
			}
		case tt.err != "":
			if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want one about %q", tt.args, err, tt.err)
			}
		default:
			if err != nil || !strings.Contains(out.String(), tt.out) {
				t.Errorf("%q: err %v, picture without %q", tt.args, err, tt.out)
			}
			parseSVG(t, out.Bytes())
		}
	}
}
