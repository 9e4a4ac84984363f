#!/usr/bin/env bash
# `make bench-broker`: a ROUTER over tcp loopback serving 100 and 1,000
# DEALER clients doing request/reply, azmq beside libzmq in the same run.
# Not part of `make test`: a full run takes about two minutes.
#
#   builds build/workloads (bench/workloads, azmq) and
#   build/workloads-libzmq (bench/libzmq-workloads/workloads.c, the same
#   command line and messages over libzmq). The ROUTER binds in one process
#   and echoes every request from one loop, as a broker does; the CONNS
#   DEALERs run in another process, each with one request of SIZE bytes
#   outstanding at a time, for SECS seconds once every client has had its
#   hello echoed. The ROUTER's resident set is measured alone: VmRSS once
#   bound and once the last hello came, the difference divided by CONNS
#   (and, for azmq, goroutines per connection).
#
#   Per cell (CONNS) the PAIRS (router/clients) alternate for REPS
#   repetitions; the summary gives medians of replies a second (over the
#   timed phase, all clients) and of the round trips' p50 and p99 (every
#   round trip of the run, timed by the client with its monotonic clock),
#   and the ROUTER's memory per connection.
#
# Knobs (env): REPS (3), CONNS ("100 1000"), SIZE (64), SECS (2), HWM
# (10000, the ROUTER's SNDHWM and RCVHWM), PAIRS ("azmq/azmq libzmq/libzmq
# libzmq/azmq azmq/libzmq": router/clients; each router meets both clients),
# TIMEOUT (60 s a run), PROFILE (1: one more azmq/azmq run per cell with a
# CPU profile of the ROUTER, its `go tool pprof -top` in
# OUT/pprof-CONNS.txt; 0: none), NICE (-5), OUT (build/bench-broker). 1,000
# connections need more file descriptors than the usual 1,024: the script
# raises `ulimit -n` to 8192 (root may; a user up to the hard limit) and
# fails when it cannot reach 4096.
#   REPS=1 CONNS=100 make bench-broker   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

REPS=${REPS:-3}
CONNS=${CONNS:-"100 1000"}
SIZE=${SIZE:-64}
SECS=${SECS:-2}
HWM=${HWM:-10000}
PAIRS=${PAIRS:-"azmq/azmq libzmq/libzmq libzmq/azmq azmq/libzmq"}
TIMEOUT=${TIMEOUT:-60}
PROFILE=${PROFILE:-1}
NICE=${NICE:--5}
OUT=${OUT:-build/bench-broker}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The file descriptors, the two builds, the priority, bin_of and kv.
. scripts/workloads-lib.sh

# run ROUTER CLIENTS CONNS [PROFILE_FILE]: one run; prints a tab-separated
# row of the fields below, or "fail" and why.
fields="replies_per_s p50_us p99_us rss_per_conn_kib goroutines_per_conn"
run() {
	local rbin cbin err rout cout pid ep i rc f row
	rbin=$(bin_of "$1")
	cbin=$(bin_of "$2")
	err=$(mktemp "$OUT/err.XXXXXX")
	rout=$(mktemp "$OUT/router.XXXXXX")
	cout=$(mktemp "$OUT/dealer.XXXXXX")
	WL_CPUPROFILE=${4:-} "${prio[@]}" timeout "$TIMEOUT" "$rbin" router "$3" "$HWM" "$TIMEOUT" >"$rout" 2>"$err" &
	pid=$!
	ep=$(announced "$err" "$pid" endpoint)
	if [ -z "$ep" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		printf 'fail\tbind\n'
		sed 's/^/  router: /' "$err" >>"$OUT/errors.log"
		rm -f "$err" "$rout" "$cout"
		return
	fi
	rc=0
	"${prio[@]}" timeout "$TIMEOUT" "$cbin" dealer "$ep" "$3" "$SIZE" "$SECS" "$TIMEOUT" >"$cout" 2>>"$OUT/errors.log" || rc=$?
	wait "$pid" || rc=$?
	row=
	for f in $fields; do
		case $f in
		rss_per_conn_kib | goroutines_per_conn) row+=$(kv "$rout" "$f") ;;
		*) row+=$(kv "$cout" "$f") ;;
		esac
		row+=$'\t'
	done
	if [ "$rc" != 0 ] || [ -z "$(kv "$cout" replies_per_s)" ] || [ -z "$(kv "$rout" rss_per_conn_kib)" ]; then
		printf 'fail\trc=%s\n' "$rc"
		sed 's/^/  router: /' "$err" >>"$OUT/errors.log"
	else
		printf 'ok\t%s\n' "${row%$'\t'}"
	fi
	rm -f "$err" "$rout" "$cout"
}

: >"$OUT/errors.log"
printf 'router\tclients\tconns\trep\tstatus\t%s\n' "${fields// /$'\t'}" >"$OUT/runs.tsv"

section "runs (REPS=$REPS SECS=$SECS SIZE=$SIZE HWM=$HWM, ulimit -n $(ulimit -n)${prio[*]:+, under ${prio[*]}})"
for conns in $CONNS; do
	for ((rep = 1; rep <= REPS; rep++)); do
		for pair in $PAIRS; do
			row=$(run "${pair%/*}" "${pair#*/}" "$conns")
			printf '%s\t%s\t%s\t%s\t%s\n' "${pair%/*}" "${pair#*/}" "$conns" "$rep" "$row" >>"$OUT/runs.tsv"
			printf '  %-6s <- %-6s %5s conns #%s  %s\n' "${pair%/*}" "${pair#*/}" "$conns" "$rep" "$(printf '%s' "$row" | tr '\t' ' ')"
		done
	done
	if [ "$PROFILE" = 1 ]; then
		prof="$OUT/cpu-$conns.pprof"
		row=$(run azmq azmq "$conns" "$prof")
		if [ -s "$prof" ]; then
			go tool pprof -top -nodecount=25 build/workloads "$prof" >"$OUT/pprof-$conns.txt" 2>/dev/null || true
			echo "  profile of the azmq ROUTER: $OUT/pprof-$conns.txt"
		fi
	fi
done

summary() {
	awk -F'\t' '
	NR == 1 { for (i = 6; i <= NF; i++) col[$i] = i; next }
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
		cell = $3
		if (!(cell in seen)) { seen[cell] = 1; cells[++nc] = cell }
		pair = $1 "/" $2
		if (!((cell, pair) in pseen)) { pseen[cell, pair] = 1; pairs[cell, ++np[cell]] = pair }
		if ($5 != "ok") { fails[cell, pair]++; next }
		for (f in col) vals[cell, pair, f] = vals[cell, pair, f] " " $(col[f])
	}
	END {
		print "| clients | ROUTER <- DEALERs | replies/s | p50 (µs) | p99 (µs) | ROUTER RSS/conn (KiB) | goroutines/conn |"
		print "|---|---|---|---|---|---|---|"
		for (c = 1; c <= nc; c++) {
			for (p = 1; p <= np[cells[c]]; p++) {
				pr = pairs[cells[c], p]; k = cells[c] SUBSEP pr
				printf "| %s | %s | %s | %s | %s | %s | %s |%s\n", cells[c], pr,
					si(med(k, "replies_per_s")), si(med(k, "p50_us")), si(med(k, "p99_us")),
					dash(med(k, "rss_per_conn_kib")), (pr ~ /^azmq/) ? dash(med(k, "goroutines_per_conn")) : "-",
					fails[k] ? " " fails[k] " failed" : ""
			}
		}
		print ""
		print "| clients | azmq/libzmq ROUTER, own clients | with azmq clients | with libzmq clients |"
		print "|---|---|---|---|"
		for (c = 1; c <= nc; c++) {
			k = cells[c] SUBSEP
			printf "| %s | %s | %s | %s |\n", cells[c],
				ratio(med(k "azmq/azmq", "replies_per_s"), med(k "libzmq/libzmq", "replies_per_s")),
				ratio(med(k "azmq/azmq", "replies_per_s"), med(k "libzmq/azmq", "replies_per_s")),
				ratio(med(k "azmq/libzmq", "replies_per_s"), med(k "libzmq/libzmq", "replies_per_s"))
		}
	}
	function ratio(a, l) { return (a != "" && l > 0) ? sprintf("%.2fx %s", a / l, a >= l ? "(>= met)" : "(below)") : "-" }
	' "$OUT/runs.tsv"
}

{
	echo "## Broker: one ROUTER, many DEALER clients (tcp loopback; ROUTER in one process, the DEALERs in another)"
	echo
	machine libzmq
	echo "medians of $REPS runs of $SECS s; $SIZE B requests, one outstanding per client; ROUTER <- DEALERs names each side's implementation"
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
