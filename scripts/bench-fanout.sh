#!/usr/bin/env bash
# `make bench-fanout`: one PUB over tcp loopback publishing to 10, 100 and
# 1,000 SUB connections, azmq beside libzmq in the same run. Not part of
# `make test`: a full run takes about five minutes.
#
#   builds build/workloads (bench/workloads, azmq) and
#   build/workloads-libzmq (bench/libzmq-workloads/workloads.c, the same
#   command line and messages over libzmq). The publisher binds in one
#   process, the CONNS subscribers run in another, so that the publisher's
#   resident set is measured alone: VmRSS once bound and once every
#   subscriber has heard it, the difference divided by CONNS (and, for azmq,
#   goroutines per connection). Two topic layouts: "one" (every subscriber
#   subscribes to the one topic published) and "distinct" (subscriber i to
#   its own topic; the publisher sends to each in turn). The publisher sends
#   64-byte messages as fast as it can for SECS seconds; each carries its
#   topic's sequence number and its send time (wall clock, CLOCK_REALTIME:
#   both processes share it on one machine).
#
#   Per cell (CONNS x TOPICS) the PAIRS (publisher/subscribers) alternate
#   for REPS repetitions; the summary gives medians of: messages delivered a
#   second in total (over all subscribers, from the first data message
#   received to the last), drops (sent to a subscriber's topic and not
#   received: the PUB drops at SNDHWM, as libzmq's does), the slowest
#   subscriber's lag (the largest, over subscribers, of the lag of the last
#   message each received: how far behind the publisher the slowest one
#   finished) and the publisher's memory per connection.
#
# Knobs (env): REPS (3), CONNS ("10 100 1000"), TOPICS ("one distinct"),
# SIZE (64), SECS (2), HWM (10000, SNDHWM and RCVHWM), PAIRS ("azmq/azmq
# libzmq/libzmq libzmq/azmq": publisher/subscribers; azmq's subscribers are
# the same client for both publishers), TIMEOUT (60 s a run), PROFILE (1:
# one more azmq/azmq run per cell with a CPU profile of the publisher, its
# `go tool pprof -top` in OUT/pprof-CELL.txt; 0: none), NICE (-5), OUT
# (build/bench-fanout). 1,000 connections need more file descriptors than
# the usual 1,024: the script raises `ulimit -n` to 8192 (root may; a user
# up to the hard limit) and fails when it cannot reach 4096.
#   REPS=1 CONNS=100 make bench-fanout   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

REPS=${REPS:-3}
CONNS=${CONNS:-"10 100 1000"}
TOPICS=${TOPICS:-"one distinct"}
SIZE=${SIZE:-64}
SECS=${SECS:-2}
HWM=${HWM:-10000}
PAIRS=${PAIRS:-"azmq/azmq libzmq/libzmq libzmq/azmq"}
TIMEOUT=${TIMEOUT:-60}
PROFILE=${PROFILE:-1}
NICE=${NICE:--5}
OUT=${OUT:-build/bench-fanout}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The file descriptors, the two builds, the priority, bin_of and kv.
. scripts/workloads-lib.sh

# run PUB SUB CONNS TOPICS [PROFILE_FILE]: one run; prints a tab-separated
# row of the fields below, or "fail" and why.
fields="delivered_per_s drops lag_end_ms lag_max_ms min_delivered sent_per_s rss_per_conn_kib goroutines_per_conn"
run() {
	local pbin sbin err pout sout pid ep ctl i rc f row
	pbin=$(bin_of "$1")
	sbin=$(bin_of "$2")
	err=$(mktemp "$OUT/err.XXXXXX")
	pout=$(mktemp "$OUT/pub.XXXXXX")
	sout=$(mktemp "$OUT/sub.XXXXXX")
	WL_CPUPROFILE=${5:-} "${prio[@]}" timeout "$TIMEOUT" "$pbin" pub "$3" "$4" "$SIZE" "$SECS" "$HWM" "$TIMEOUT" >"$pout" 2>"$err" &
	pid=$!
	ep=$(announced "$err" "$pid" endpoint)
	ctl=$(announced "$err" "$pid" control)
	if [ -z "$ep" ] || [ -z "$ctl" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		printf 'fail\tbind\n'
		sed 's/^/  pub: /' "$err" >>"$OUT/errors.log"
		rm -f "$err" "$pout" "$sout"
		return
	fi
	rc=0
	"${prio[@]}" timeout "$TIMEOUT" "$sbin" sub "$ep" "$ctl" "$3" "$4" "$HWM" "$TIMEOUT" >"$sout" 2>>"$OUT/errors.log" || rc=$?
	wait "$pid" || rc=$?
	row=
	for f in $fields; do
		case $f in
		sent_per_s | rss_per_conn_kib | goroutines_per_conn) row+=$(kv "$pout" "$f") ;;
		*) row+=$(kv "$sout" "$f") ;;
		esac
		row+=$'\t'
	done
	if [ "$rc" != 0 ] || [ -z "$(kv "$sout" delivered_per_s)" ] || [ -z "$(kv "$pout" rss_per_conn_kib)" ]; then
		printf 'fail\trc=%s\n' "$rc"
		sed 's/^/  pub: /' "$err" >>"$OUT/errors.log"
	else
		printf 'ok\t%s\n' "${row%$'\t'}"
	fi
	rm -f "$err" "$pout" "$sout"
}

: >"$OUT/errors.log"
printf 'pub\tsub\tconns\ttopics\trep\tstatus\t%s\n' "${fields// /$'\t'}" >"$OUT/runs.tsv"

section "runs (REPS=$REPS SECS=$SECS SIZE=$SIZE HWM=$HWM, ulimit -n $(ulimit -n)${prio[*]:+, under ${prio[*]}})"
for conns in $CONNS; do
	for topics in $TOPICS; do
		for ((rep = 1; rep <= REPS; rep++)); do
			for pair in $PAIRS; do
				row=$(run "${pair%/*}" "${pair#*/}" "$conns" "$topics")
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${pair%/*}" "${pair#*/}" "$conns" "$topics" "$rep" "$row" >>"$OUT/runs.tsv"
				printf '  %-6s <- %-6s %5s conns %-8s #%s  %s\n' "${pair%/*}" "${pair#*/}" "$conns" "$topics" "$rep" "$(printf '%s' "$row" | tr '\t' ' ')"
			done
		done
		if [ "$PROFILE" = 1 ]; then
			prof="$OUT/cpu-$conns-$topics.pprof"
			row=$(run azmq azmq "$conns" "$topics" "$prof")
			if [ -s "$prof" ]; then
				go tool pprof -top -nodecount=25 build/workloads "$prof" >"$OUT/pprof-$conns-$topics.txt" 2>/dev/null || true
				echo "  profile of the azmq publisher: $OUT/pprof-$conns-$topics.txt"
			fi
		fi
	done
done

summary() {
	awk -F'\t' '
	NR == 1 { for (i = 7; i <= NF; i++) col[$i] = i; next }
	'"$awk_median"'
	function si(v) {
		if (v == "") return "-"
		if (v >= 1e6) return sprintf("%.3gM", v / 1e6)
		if (v >= 1e3) return sprintf("%.3gk", v / 1e3)
		return sprintf("%.3g", v)
	}
	function med(k, f) { return median(vals[k, f]) }
	function dash(v) { return v == "" ? "-" : v }
	{
		cell = $3 SUBSEP $4
		if (!(cell in seen)) { seen[cell] = 1; cells[++nc] = cell }
		pair = $1 "/" $2
		if (!((cell, pair) in pseen)) { pseen[cell, pair] = 1; pairs[cell, ++np[cell]] = pair }
		if ($6 != "ok") { fails[cell, pair]++; next }
		for (f in col) vals[cell, pair, f] = vals[cell, pair, f] " " $(col[f])
	}
	END {
		print "| conns | topics | PUB <- SUBs | delivered msg/s | drops | slowest lag at end (ms) | max lag (ms) | PUB RSS/conn (KiB) | goroutines/conn |"
		print "|---|---|---|---|---|---|---|---|---|"
		for (c = 1; c <= nc; c++) {
			split(cells[c], cv, SUBSEP)
			for (p = 1; p <= np[cells[c]]; p++) {
				pr = pairs[cells[c], p]; k = cells[c] SUBSEP pr
				g = med(k, "goroutines_per_conn")
				printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%s\n", cv[1], cv[2], pr,
					si(med(k, "delivered_per_s")), si(med(k, "drops")),
					dash(med(k, "lag_end_ms")), dash(med(k, "lag_max_ms")), dash(med(k, "rss_per_conn_kib")),
					(pr ~ /^azmq/) ? dash(g) : "-", fails[k] ? " " fails[k] " failed" : ""
			}
		}
		print ""
		print "| conns | topics | azmq/libzmq, own subscribers | azmq/libzmq, the same (azmq) subscribers |"
		print "|---|---|---|---|"
		for (c = 1; c <= nc; c++) {
			split(cells[c], cv, SUBSEP)
			a = med(cells[c] SUBSEP "azmq/azmq", "delivered_per_s")
			l = med(cells[c] SUBSEP "libzmq/libzmq", "delivered_per_s")
			x = med(cells[c] SUBSEP "libzmq/azmq", "delivered_per_s")
			r1 = (a != "" && l > 0) ? sprintf("%.2fx %s", a / l, a >= l ? "(>= met)" : "(below)") : "-"
			r2 = (a != "" && x > 0) ? sprintf("%.2fx %s", a / x, a >= x ? "(>= met)" : "(below)") : "-"
			printf "| %s | %s | %s | %s |\n", cv[1], cv[2], r1, r2
		}
	}' "$OUT/runs.tsv"
}

{
	echo "## Fan-out: one PUB, many SUB connections (tcp loopback; PUB in one process, the SUBs in another)"
	echo
	machine libzmq
	echo "medians of $REPS runs; $SIZE B messages published for $SECS s; SNDHWM = RCVHWM = $HWM; PUB <- SUBs names each side's implementation"
	echo
	summary
} >"$OUT/summary.md"

section "summary ($OUT/summary.md)"
cat "$OUT/summary.md"
if [ -s "$OUT/errors.log" ]; then
	echo
	echo "stderr of the runs: $OUT/errors.log"
fi
grep -q ' failed$' "$OUT/summary.md" && die "a run failed: see $OUT/errors.log"
exit 0
