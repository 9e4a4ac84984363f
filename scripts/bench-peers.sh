#!/usr/bin/env bash
# `make bench-peers`: builds what `make bench-compare` runs, from this
# repository alone, into build/:
#
#   build/azmq            the command-line tool (`azmq bench MODE ...`)
#   build/peers/libzmq    bench/peers/libzmq/perf.c over the system's libzmq
#   build/peers/pebbe     bench/peers/pebbe (pebbe/zmq4, cgo)
#   build/peers/gozeromq  bench/peers/gozeromq (go-zeromq/zmq4)
#   build/peers/compare   the runner (bench/peers/compare)
#   build/peers/chart     the pictures of a run (bench/peers/chart)
#
# The peers speak the command line of libzmq's perf tools, as azmq does:
#   build/peers/libzmq local_thr tcp://127.0.0.1:5555 16 1000000 &
#   build/peers/libzmq remote_thr tcp://127.0.0.1:5555 16 1000000
# libzmq's development files come from libzmq3-dev (installed with apt-get
# when missing and root). The Go peers live in their own module
# (bench/peers/go.mod), so their dependencies stay out of azmq's go.mod;
# the first build downloads them through the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
root=$(pwd)

section "build build/azmq and build/peers"
need_libzmq_dev
mkdir -p build/peers
go build -o build/azmq ./cmd/azmq
# shellcheck disable=SC2046 # pkg-config's flags are words
${CC:-cc} -O2 -Wall -Wextra -o build/peers/libzmq bench/peers/libzmq/perf.c $(pkg-config --cflags --libs libzmq) -lpthread
go build -C bench/peers -o "$root/build/peers/" ./pebbe ./gozeromq ./compare ./chart
echo "built build/azmq and build/peers/{libzmq,pebbe,gozeromq,compare,chart} (libzmq $(pkg-config --modversion libzmq))"
