//go:build !windows

// Package interop tests azmq against libzmq, through a pyzmq peer process
// (peer.py, run by Debian's /usr/bin/python3 with python3-zmq), and for
// the draft socket types (CLIENT/SERVER, RADIO/DISH with udp,
// SCATTER/GATHER), which Debian's libzmq lacks, through a zeromq.js peer
// (peer.mjs, run by node, with zeromq.js installed in interop/node by
// `npm ci`). Every scenario runs both ways round (azmq binds and libzmq
// connects, and the reverse), over tcp on 127.0.0.1 and over ipc in a
// temporary directory.
//
// A real browser, headless Chromium, runs jszmq (ZWS 2.0 in JavaScript,
// installed in interop/browser by `npm ci`) in a page that the tests serve
// on 127.0.0.1 (browser_test.go).
//
// Without a peer (or the browser) its tests skip; with AZMQ_INTEROP=1 (as `make test` sets
// it) they fail instead.
package interop

import (
	"flag"
	"os"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

// defaultParallel is how many scenarios run at once when -test.parallel is
// not given: they mostly wait on a peer process, so more than GOMAXPROCS
// (often 2 in CI) keeps the package quick. AZMQ_INTEROP_PARALLEL overrides it.
const defaultParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			set = true
		}
	})
	if !set {
		n := defaultParallel
		if v, err := strconv.Atoi(os.Getenv("AZMQ_INTEROP_PARALLEL")); err == nil && v > 0 {
			n = v
		}
		_ = flag.Set("test.parallel", strconv.Itoa(n))
	}
	goleak.VerifyTestMain(m)
}
