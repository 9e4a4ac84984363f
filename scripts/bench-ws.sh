#!/usr/bin/env bash
# `make bench-ws`: ZeroMQ over WebSocket, azmq's ws and wss beside its tcp,
# and zeromq.js's (libzmq 4.3.5's) ws beside its tcp. Not part of `make
# test`: a run takes a few minutes.
#
#   azmq: `azmq bench -transports tcp,ws,wss` (PUSH->PULL throughput, half
#   a REQ/REP round trip), both sides in one Go process.
#   zeromq.js: bench/peers/zeromqjs/bench.mjs pushpull and reqrep-lat over
#   tcp and ws (its build has no wss), both sides in one node process; the
#   median of REPS runs. Each zeromq.js message goes through a JavaScript
#   promise: its figures are a node program's, and the ws/tcp ratio is the
#   part that speaks of libzmq.
#
# Knobs (env): REPS (3), SIZES ("16 256 4096 65536"), COUNT (100000),
# LAT_COUNT (3000), OUT (build/bench-ws).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

REPS=${REPS:-3}
SIZES=${SIZES:-"16 256 4096 65536"}
COUNT=${COUNT:-100000}
LAT_COUNT=${LAT_COUNT:-3000}
OUT=${OUT:-build/bench-ws}
mkdir -p "$OUT"

section "zeromq.js"
scripts/deps.sh --strict zeromqjs

section "build build/azmq"
go build -o build/azmq ./cmd/azmq

section "azmq bench"
build/azmq bench -transports tcp,ws,wss -sizes "$(tr ' ' ',' <<<"$SIZES")" | tee "$OUT/azmq.txt"

section "zeromq.js bench (REPS=$REPS)"
table="$OUT/table.md"
{
	echo "| transport | size | azmq msgs/s | zeromq.js msgs/s | azmq latency µs | zeromq.js latency µs |"
	echo "|---|---|---|---|---|---|"
} >"$table"
for t in tcp ws wss; do
	for s in $SIZES; do
		row=$(azmq_cell "$OUT/azmq.txt" "$t" "$s")
		zthr=- zlat=-
		if [ "$t" != wss ]; then
			zthr=$(zjs pushpull "$t" "$s" "$COUNT" msgs_per_s)
			zlat=$(zjs reqrep-lat "$t" "$s" "$LAT_COUNT" latency_us)
			[ "$zlat" = - ] || zlat=$(printf '%.2f' "$zlat")
		fi
		printf '| %s | %s B | %s | %s | %s | %s |\n' "$t" "$s" "${row% *}" "$zthr" "${row#* }" "$zlat" | tee -a "$table"
	done
done
echo "table: $table"
