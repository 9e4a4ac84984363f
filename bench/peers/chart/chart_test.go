package main

import (
	"bytes"
	"strings"
	"testing"
)

const runs = "phase\tremote\tlocal\tkind\ttransport\tsize\tcount\tvalue\tseconds\tmax_rss_kb\toutput\n" +
	"probe\tlibzmq\tlibzmq\tthr\ttcp\t16\t100\t9\t0.1\t1\tx\n" +
	"rep\tlibzmq\tlibzmq\tthr\ttcp\t16\t100\t100\t0.1\t1\tx\n" +
	"rep\tlibzmq\tlibzmq\tthr\ttcp\t16\t100\t300\t0.1\t1\tx\n" +
	"rep\tlibzmq\tlibzmq\tthr\ttcp\t16\t100\t200\t0.1\t1\tx\n" +
	"rep\tazmq\tazmq\tthr\ttcp\t16\t100\t400\t0.1\t1\tx\n" +
	"rep\tazmq\tazmq\tthr\ttcp\t16\t100\tfail\t0.1\t1\tx\n" +
	"rep\tazmq\tazmq\tthr\ttcp\t16\t100\t600\t0.1\t1\tx\n" +
	"probe\tgozeromq\tgozeromq\tthr\tinproc\t256\t100\tpanic\t0.1\t1\tx\n" +
	"rep\tlibzmq\tlibzmq\tlat\ttcp\t16\t100\t30\t0.1\t1\tx\n" +
	"rep\tazmq\tazmq\tlat\ttcp\t16\t100\t10\t0.1\t1\tx\n" +
	"cross\tlibzmq\tazmq\tthr\ttcp\t16\t100\t1\t0.1\t1\tx\n"

func TestRead(t *testing.T) {
	cells, impls, err := read(strings.NewReader(runs))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(impls, " ") != "libzmq azmq gozeromq" {
		t.Errorf("impls %q", impls)
	}
	if len(cells) != 3 {
		t.Fatalf("%d cells", len(cells))
	}
	thr, inproc, lat := cells[0], cells[1], cells[2]
	if thr.median["libzmq"] != 200 || thr.median["azmq"] != 500 || thr.relative("azmq") != 2.5 {
		t.Errorf("thr tcp 16: %v, relative %v", thr.median, thr.relative("azmq"))
	}
	if inproc.failed["gozeromq"] != "panic" || inproc.relative("gozeromq") != 0 {
		t.Errorf("inproc: %v %v", inproc.failed, inproc.median)
	}
	if lat.relative("azmq") != 3 { // a third of the latency: three times as fast
		t.Errorf("lat relative %v", lat.relative("azmq"))
	}
}

func TestDraw(t *testing.T) {
	cells, impls, _ := read(strings.NewReader(runs))
	var b bytes.Buffer
	if err := draw(&b, cells, impls); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	for _, want := range []string{"<svg", "thr tcp 16 B", "lat tcp 16 B", "azmq: 2.50x libzmq", "gozeromq: panic", "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("picture lacks %q", want)
		}
	}
}
