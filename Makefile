# azmq: `make test` is the test command (CI runs it through .ci/run).
# The logic lives in scripts/; see the header of each script.

GO ?= go

.PHONY: test windows-test walkthrough fuzz bench bench-compare bench-peers bench-curve bench-draft bench-ws bench-fanout bench-broker bench-breakdown deps vet

## test: deps (installed first; a leg whose prerequisites this user cannot
## install is skipped with one line saying how to run it, and under CI=true
## fails), vet (linux/windows/darwin), darwin build, the walkthrough, go test
## -race with the libzmq interop tests, the salsa/poly1305/CURVE tests with
## the assembly off (purego, GODEBUG), every fuzz target (FUZZTIME, default
## 5s), the Windows leg.
test:
	FUZZTIME="$(or $(FUZZTIME),5s)" scripts/test.sh

## windows-test: the Windows leg alone: Wine made ready (installed as root),
## then the test binaries run under it.
windows-test:
	scripts/windows-test.sh

## walkthrough: the committed HEAD cloned alone into a temporary directory,
## where README's first command runs and README's Go programs are built.
walkthrough:
	scripts/walkthrough.sh

## fuzz: every fuzz target for FUZZTIME each (default 60s).
fuzz:
	FUZZTIME="$(or $(FUZZTIME),60s)" scripts/fuzz.sh

## bench: azmq's benchmark through the command-line tool.
bench:
	$(GO) run ./cmd/azmq bench

## bench-compare: azmq beside libzmq, pebbe/zmq4 and go-zeromq/zmq4, through
## the benchmark peers in bench/peers (built first, as bench-peers does);
## medians of REPS (default 5) runs, tables in build/bench-compare. Knobs:
## REPS TRANSPORTS THR_SIZES LAT_SIZES TARGET_S. Not part of `make test`.
bench-compare:
	scripts/bench-compare.sh

## bench-peers: build build/azmq and the peers (build/peers/libzmq, pebbe,
## gozeromq, compare) from bench/peers; needs libzmq3-dev, which it installs
## with apt-get when missing and root.
bench-peers:
	scripts/bench-peers.sh

## bench-curve: azmq's CURVE throughput beside libzmq's CURVE (tcp, 16 B and
## 64 KiB, bench/libzmq-curve/perf_curve.c; needs libzmq3-dev), medians of
## REPS (default 5) runs and one cross run each way; tables in
## build/bench-curve. Knobs: REPS SIZES TARGET_S NICE. Not part of `make test`.
bench-curve:
	scripts/bench-curve.sh

## bench-draft: the draft patterns (CLIENT/SERVER over tcp, RADIO/DISH over
## tcp and udp), azmq beside zeromq.js (libzmq 4.3.5 with its draft API);
## medians of REPS (default 3) zeromq.js runs, a table in build/bench-draft.
## Knobs: REPS SIZES TRANSPORTS COUNT LAT_COUNT. Not part of `make test`.
bench-draft:
	scripts/bench-draft.sh

## bench-ws: ZeroMQ over WebSocket: azmq's ws and wss beside its tcp, and
## zeromq.js's ws beside its tcp; a table in build/bench-ws. Knobs: REPS
## SIZES COUNT LAT_COUNT. Not part of `make test`.
bench-ws:
	scripts/bench-ws.sh

## bench-fanout: one PUB over tcp to 10, 100 and 1,000 SUB connections (one
## topic matching all, and a topic per subscriber), azmq beside libzmq
## (bench/workloads, bench/libzmq-workloads; needs libzmq3-dev): delivered
## msgs/s, drops, the slowest subscriber's lag and the PUB's memory per
## connection; medians of REPS (default 3) alternating runs, a table in
## build/bench-fanout. Raises ulimit -n to 8192. Knobs: REPS CONNS TOPICS
## SIZE SECS HWM PAIRS PROFILE NICE. Not part of `make test`.
bench-fanout:
	scripts/bench-fanout.sh

## bench-broker: one ROUTER over tcp with 100 and 1,000 DEALER clients doing
## request/reply, azmq beside libzmq (as bench-fanout): replies/s, p50/p99
## round trip and the ROUTER's memory per connection; medians of REPS
## (default 3) alternating runs, a table in build/bench-broker. Raises
## ulimit -n to 8192. Knobs: REPS CONNS SIZE SECS HWM PAIRS PROFILE NICE.
## Not part of `make test`.
bench-broker:
	scripts/bench-broker.sh

## bench-breakdown: where a small message's CPU time goes, receiver and
## sender, at each of REFS (default "e28d309 HEAD": before and after the
## work on small messages): each ref's azmq built into build/breakdown/REF,
## PUSH->PULL over tcp with a CPU profile on each side, REPS (default 3)
## alternating runs; getrusage's total per message split into categories
## (syscalls, ZMTP, queues, wake-ups, memory, GC, API, other) by the
## profiles, a table in build/breakdown/breakdown.md. Knobs: REFS SIZES
## COUNT REPS TIMEOUT. Not part of `make test`.
bench-breakdown:
	scripts/bench-breakdown.sh

## deps: install what make test needs beyond Go when it is missing
## (python3-zmq; node, npm and zeromq.js by npm ci in interop/node; chromium,
## and jszmq and esbuild by npm ci in interop/browser; libjeromq-java and a
## headless JDK; Wine and mingw-w64; git), or fail saying why.
deps:
	scripts/deps.sh --strict

## vet: go vet for linux, windows and darwin.
vet:
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

## soak: every pattern at once for 10 minutes with exact message accounting
## and a leak check (./bench/stress, the stress harness). Not part of
## `make test`.
.PHONY: soak
soak:
	$(GO) run ./bench/stress soak -duration 10m
