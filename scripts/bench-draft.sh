#!/usr/bin/env bash
# `make bench-draft`: the draft patterns, azmq beside zeromq.js (libzmq
# 4.3.5 with its draft API). Not part of `make test`: a run takes a few
# minutes.
#
#   azmq: `azmq bench -patterns pushpull,clientserver,radiodish`, both sides
#   in one Go process, counts calibrated to about a second a cell.
#   zeromq.js: bench/peers/zeromqjs/bench.mjs, both sides in one node
#   process, the same measurements (CLIENT->SERVER throughput, half a
#   CLIENT/SERVER round trip with the SERVER answering by routing id,
#   RADIO->DISH throughput of what arrived); the median of REPS runs.
#
# Every zeromq.js message goes through a JavaScript promise, so its figures
# are a zeromq.js program's, not libzmq's alone: they bound what a node
# peer of azmq can take, and show the two libraries agree on the patterns.
#
# Knobs (env): REPS (3), SIZES ("16 256 4096"), TRANSPORTS ("tcp udp"),
# COUNT (zeromq.js messages a throughput run, 200000), LAT_COUNT (5000),
# OUT (build/bench-draft). zeromq.js comes from interop/node (the deps
# script's zeromqjs leg installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

REPS=${REPS:-3}
SIZES=${SIZES:-"16 256 4096"}
TRANSPORTS=${TRANSPORTS:-"tcp udp"}
COUNT=${COUNT:-200000}
LAT_COUNT=${LAT_COUNT:-5000}
OUT=${OUT:-build/bench-draft}
mkdir -p "$OUT"

section "zeromq.js"
scripts/deps.sh --strict zeromqjs

section "build build/azmq"
go build -o build/azmq ./cmd/azmq

section "azmq bench"
transports=$(tr ' ' ',' <<<"$TRANSPORTS")
sizes=$(tr ' ' ',' <<<"$SIZES")
build/azmq bench -patterns pushpull,clientserver,radiodish -transports "$transports" -sizes "$sizes" | tee "$OUT/azmq.txt"


section "zeromq.js bench (REPS=$REPS)"
table="$OUT/table.md"
{
	echo "| pattern | transport | size | azmq msgs/s | zeromq.js msgs/s | azmq latency µs | zeromq.js latency µs |"
	echo "|---|---|---|---|---|---|---|"
} >"$table"
for t in $TRANSPORTS; do
	for s in $SIZES; do
		for p in CLIENT/SERVER RADIO/DISH; do
			[ "$t" = udp ] && [ "$p" = CLIENT/SERVER ] && continue
			row=$(azmq_cell "$OUT/azmq.txt" "$t" "$s" "$p")
			athr=${row% *}
			alat=${row#* }
			if [ "$p" = CLIENT/SERVER ]; then
				zthr=$(zjs clientserver "$t" "$s" "$COUNT" msgs_per_s)
				zlat=$(zjs clientserver-lat "$t" "$s" "$LAT_COUNT" latency_us)
				[ "$zlat" = - ] || zlat=$(printf '%.2f' "$zlat")
			else
				zthr=$(zjs radiodish "$t" "$s" "$COUNT" msgs_per_s)
				zlat=-
			fi
			printf '| %s | %s | %s B | %s | %s | %s | %s |\n' "$p" "$t" "$s" "${athr:--}" "$zthr" "${alat:--}" "$zlat" | tee -a "$table"
		done
	done
done
echo "table: $table"
