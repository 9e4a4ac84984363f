#!/usr/bin/env bash
# `make bench-curve`: azmq's CURVE throughput beside libzmq's CURVE, PUSH->PULL
# in two processes over tcp loopback. Not part of `make test`: a run takes
# about a minute.
#
#   builds build/azmq (`azmq bench local_thr|remote_thr ...`) and
#   build/perf_curve (bench/libzmq-curve/perf_curve.c, the same protocol
#   over libzmq), makes a server key pair (azmq keygen) and hands it to both
#   through AZMQ_BENCH_CURVE_SERVER_SECRET / _PUBLIC. Per size, each
#   implementation's COUNT is calibrated so that a run lasts about TARGET_S;
#   then libzmq and azmq alternate for REPS repetitions, and the summary
#   gives medians, min..max and the ratio azmq/libzmq against the target
#   (>= 0.7x). Last, one cross run each way per size (azmq PULL with libzmq
#   PUSH and the reverse) shows that the two speak CURVE to each other.
#
# Knobs (env): REPS (default 5), SIZES ("16 65536"), TARGET_S (1.5),
# TIMEOUT (60 s a run), OUT (build/bench-curve), NICE (-5: the benchmark
# runs under `nice -n $NICE` when that is allowed, ahead of background jobs),
# AZMQ_BIN (another azmq binary to measure, say an older build, instead of
# build/azmq).
# libzmq's development files come from libzmq3-dev, installed with apt-get
# when missing and root.
#   REPS=1 SIZES=16 make bench-curve   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

REPS=${REPS:-5}
SIZES=${SIZES:-"16 65536"}
TARGET_S=${TARGET_S:-1.5}
TIMEOUT=${TIMEOUT:-60}
NICE=${NICE:--5}
OUT=${OUT:-build/bench-curve}
TARGET=0.7
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

section "build build/azmq and build/perf_curve"
go build -o build/azmq ./cmd/azmq
need_libzmq_dev
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -O2 -Wall -o build/perf_curve bench/libzmq-curve/perf_curve.c $(pkg-config --cflags --libs libzmq)

keys=$(build/azmq keygen)
AZMQ_BENCH_CURVE_SERVER_PUBLIC=$(printf '%s\n' "$keys" | sed -n 2p)
AZMQ_BENCH_CURVE_SERVER_SECRET=$(printf '%s\n' "$keys" | sed -n 4p)
export AZMQ_BENCH_CURVE_SERVER_PUBLIC AZMQ_BENCH_CURVE_SERVER_SECRET

prio=()
if [ "$(nice -n "$NICE" nice 2>/dev/null)" = "$(($(nice) + NICE))" ]; then
	prio=(nice -n "$NICE")
fi

cmd_of() { # implementation -> its perf-mode command
	case $1 in
	azmq) echo "${AZMQ_BIN:-$PWD/build/azmq} bench" ;;
	libzmq) echo "$PWD/build/perf_curve" ;;
	*) die "unknown implementation $1" ;;
	esac
}

# run LOCAL REMOTE SIZE COUNT: one run, PULL (LOCAL) binding a wildcard port
# and PUSH (REMOTE) connecting to it; prints msgs/s or "fail:WHY".
run() {
	local lcmd rcmd err out pid ep i rc
	lcmd=$(cmd_of "$1")
	rcmd=$(cmd_of "$2")
	err=$(mktemp "$OUT/err.XXXXXX")
	out=$(mktemp "$OUT/out.XXXXXX")
	# shellcheck disable=SC2086 # the commands are words
	"${prio[@]}" timeout "$TIMEOUT" $lcmd local_thr 'tcp://127.0.0.1:*' "$3" "$4" >"$out" 2>"$err" &
	pid=$!
	ep=$(announced "$err" "$pid" endpoint)
	if [ -z "$ep" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		echo "fail:bind"
		sed 's/^/  local: /' "$err" >>"$OUT/errors.log"
		rm -f "$err" "$out"
		return
	fi
	rc=0
	# shellcheck disable=SC2086
	# The sending side's own line (azmq's cpu_ns_per_msg) is not the run's.
	"${prio[@]}" timeout "$TIMEOUT" $rcmd remote_thr "$ep" "$3" "$4" >/dev/null 2>>"$OUT/errors.log" || rc=$?
	wait "$pid" || rc=$?
	local v
	v=$(sed -n 's/^msgs_per_s=\([0-9.]*\) .*/\1/p' "$out")
	if [ "$rc" != 0 ] || [ -z "$v" ]; then
		echo "fail:rc=$rc"
		sed 's/^/  local: /' "$err" >>"$OUT/errors.log"
	else
		echo "$v"
	fi
	rm -f "$err" "$out"
}

# calibrate IMPL SIZE: a COUNT for a run of about TARGET_S.
calibrate() {
	local count v s
	count=$(($2 >= 4096 ? 2000 : 100000))
	for _ in 1 2 3; do
		v=$(run "$1" "$1" "$2" "$count")
		case $v in fail:*) die "calibration of $1 at $2 B failed ($v): see $OUT/errors.log" ;; esac
		# Seconds of this probe; scale COUNT to the target and probe again
		# if the probe was too short to trust.
		s=$(awk -v n="$count" -v r="$v" 'BEGIN { print (r > 0 ? n / r : 0) }')
		count=$(awk -v n="$count" -v r="$v" -v t="$TARGET_S" 'BEGIN { c = int(r * t); if (c < 10) c = 10; print c }')
		awk -v s="$s" 'BEGIN { exit !(s >= 0.4) }' && break
	done
	echo "$count"
}

: >"$OUT/runs.tsv"
: >"$OUT/errors.log"
printf 'local\tremote\tsize\tcount\tmsgs_per_s\n' >"$OUT/runs.tsv"
record() { # LOCAL REMOTE SIZE COUNT VALUE
	printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT/runs.tsv"
	printf '  %-7s <- %-7s %6s B  n=%-8s %s msgs/s\n' "$1" "$2" "$3" "$4" "$5"
}

section "runs (REPS=$REPS TARGET_S=$TARGET_S${prio[*]:+, under ${prio[*]}})"
declare -A counts
for size in $SIZES; do
	for impl in libzmq azmq; do
		counts[$impl]=$(calibrate "$impl" "$size")
	done
	for ((rep = 1; rep <= REPS; rep++)); do
		for impl in libzmq azmq; do
			record "$impl" "$impl" "$size" "${counts[$impl]}" "$(run "$impl" "$impl" "$size" "${counts[$impl]}")"
		done
	done
	# Interoperation: each side's PULL with the other's PUSH.
	record azmq libzmq "$size" "${counts[azmq]}" "$(run azmq libzmq "$size" "${counts[azmq]}")"
	record libzmq azmq "$size" "${counts[azmq]}" "$(run libzmq azmq "$size" "${counts[azmq]}")"
done

summary() {
	awk -F'\t' -v target="$TARGET" '
	NR == 1 { next }
	'"$awk_median"'
	function lo(list,    a, n, i, m) { n = split(list, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
	function hi(list,    a, n, i, m) { n = split(list, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }
	function si(v) {
		if (v >= 1e6) return sprintf("%.3gM", v / 1e6)
		if (v >= 1e3) return sprintf("%.3gk", v / 1e3)
		return sprintf("%.3g", v)
	}
	function mb(v, size) { v = v * size / 1e6; return v >= 100 ? sprintf("%.0f", v) : sprintf("%.3g", v) }
	function cell(l, size) {
		if (l == "") return "-"
		return si(median(l)) " msg/s, " mb(median(l), size) " MB/s (" si(lo(l)) ".." si(hi(l)) ")"
	}
	{
		key = $3
		if (!(key in seen)) { seen[key] = 1; order[++n] = key }
		if ($5 !~ /^[0-9.]+$/) { bad[key, $1, $2] = bad[key, $1, $2] " " $5; next }
		vals[key, $1, $2] = vals[key, $1, $2] " " $5
	}
	END {
		print "| size | libzmq CURVE | azmq CURVE | azmq/libzmq | target | azmq PULL <- libzmq PUSH | libzmq PULL <- azmq PUSH |"
		print "|---|---|---|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			k = order[i]
			l = vals[k, "libzmq", "libzmq"]; a = vals[k, "azmq", "azmq"]
			ratio = "-"; verdict = "-"
			if (l != "" && a != "" && median(l) > 0) {
				r = median(a) / median(l)
				ratio = sprintf("%.2fx", r)
				verdict = sprintf(">=%.1fx %s", target, r >= target ? "met" : "MISSED")
			}
			lc = cell(l, k); ac = cell(a, k)
			if (bad[k, "libzmq", "libzmq"] != "") lc = lc " failed:" bad[k, "libzmq", "libzmq"]
			if (bad[k, "azmq", "azmq"] != "") ac = ac " failed:" bad[k, "azmq", "azmq"]
			x1 = vals[k, "azmq", "libzmq"]; x2 = vals[k, "libzmq", "azmq"]
			x1 = (x1 != "") ? si(median(x1)) " msg/s" : "FAILED" bad[k, "azmq", "libzmq"]
			x2 = (x2 != "") ? si(median(x2)) " msg/s" : "FAILED" bad[k, "libzmq", "azmq"]
			printf "| %s B | %s | %s | %s | %s | %s | %s |\n", k, lc, ac, ratio, verdict, x1, x2
		}
	}' "$OUT/runs.tsv"
}

{
	echo "## azmq CURVE beside libzmq CURVE (PUSH->PULL, tcp loopback, two processes)"
	echo
	machine libzmq
	echo "medians of $REPS runs of about ${TARGET_S} s (min..max); msgs/s timed from the first message received to the last"
	echo
	summary
} >"$OUT/summary.md"

section "summary ($OUT/summary.md)"
cat "$OUT/summary.md"
if [ -s "$OUT/errors.log" ]; then
	echo
	echo "stderr of the runs: $OUT/errors.log"
fi
grep -q FAILED "$OUT/summary.md" && die "a cross run failed: azmq and libzmq did not interoperate over CURVE"
exit 0
