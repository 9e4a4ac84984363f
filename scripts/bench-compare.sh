#!/usr/bin/env bash
# `make bench-compare`: azmq side by side with libzmq (C), pebbe/zmq4 (cgo)
# and go-zeromq/zmq4 (pure Go), with the benchmark peers in bench/peers.
# Not part of `make test`: a full run takes about 15-20 minutes.
#
#   scripts/bench-peers.sh builds build/azmq (whose `azmq bench MODE ...`
#   speaks the perf tools' command line) and the peers in build/peers/:
#   libzmq (bench/peers/libzmq/perf.c), pebbe, gozeromq and the runner,
#   compare. It needs libzmq's development files (libzmq3-dev: installed
#   with apt-get when missing and root) and downloads the Go peers'
#   modules on the first build. Then build/peers/compare runs with
#   IMPLS="libzmq azmq pebbe gozeromq": every implementation is calibrated
#   per cell, the implementations alternate within each repetition, and
#   every figure is a median. compare prints its table (results.md) as it
#   goes; this script then prints a summary computed from the raw runs
#   (runs.tsv): per cell msgs/s and MB/s (throughput) or latency, the ratio
#   azmq/libzmq against the performance targets, the spread of azmq's runs,
#   and azmq's speed-up over go-zeromq/zmq4; then each implementation's CPU
#   time per message, receiver and sender (thr over tcp and ipc). Last,
#   build/peers/chart draws two pictures of runs.tsv: chart.svg (each
#   implementation against libzmq, per cell) and throughput.svg
#   (throughput against message size, a panel per transport).
#
# Knobs (env), passed to compare (`go doc ./compare` in bench/peers):
# REPS (default 5), TRANSPORTS ("tcp ipc inproc"), THR_SIZES ("16 256 4096
# 65536 1048576"), LAT_SIZES ("16 4096"), TARGET_S (1.5 s a run), OUT
# (build/bench-compare), and compare's others (TIMEOUT, CROSS, RSS, IMPLS,
# CMD_<impl>).
#   REPS=1 TRANSPORTS=tcp THR_SIZES=16 LAT_SIZES= make bench-compare   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
root=$(pwd)

export IMPLS=${IMPLS:-"libzmq azmq pebbe gozeromq"}
export REPS=${REPS:-5}
export TRANSPORTS=${TRANSPORTS-"tcp ipc inproc"}
export THR_SIZES=${THR_SIZES-"16 256 4096 65536 1048576"}
export LAT_SIZES=${LAT_SIZES-"16 4096"}
[ -n "${TARGET_S:-}" ] && export TARGET_S
OUT=${OUT:-build/bench-compare}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export OUT
export CMD_azmq=${CMD_azmq:-"$root/build/azmq bench"}

scripts/bench-peers.sh

rm -f "$OUT/runs.tsv" "$OUT/results.md" "$OUT/err/errors.log" "$OUT/summary.md"

section "build/peers/compare (IMPLS=\"$IMPLS\" REPS=$REPS TARGET_S=${TARGET_S:-1.5})"
build/peers/compare

[ -s "$OUT/results.md" ] || die "compare wrote no table ($OUT/results.md)"
[ -s "$OUT/runs.tsv" ] || die "compare recorded no runs ($OUT/runs.tsv)"

# The summary, from runs.tsv alone (phase, remote, local, kind, transport,
# size, count, value, seconds, max_rss_kb, output; a header line first).
# The "rep" runs of an implementation against itself are a cell's
# repetitions; an implementation with none failed its calibration probe,
# whose value (hang, panic, ...) stands for the cell.
#
# Targets, as ratios azmq/libzmq from the same run: PUSH->PULL throughput
# over tcp and ipc >= 1.0x at 16 and 256 B, >= 0.9x at 4 and 64 KiB,
# >= 0.8x at 1 MiB; inproc throughput >= 1.0x; REQ/REP latency <= 1.3x at
# 16 B and 4 KiB; and at least 10x go-zeromq/zmq4's throughput wherever it runs.
summary() {
	awk -F'\t' -v impls="$IMPLS" '
	function num(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ }
	'"$awk_median"'
	function minmax(list,    a, n, i, lo, hi) {
		n = split(list, a, " ")
		lo = hi = a[1] + 0
		for (i = 2; i <= n; i++) { if (a[i] + 0 < lo) lo = a[i] + 0; if (a[i] + 0 > hi) hi = a[i] + 0 }
		return lo " " hi
	}
	function si(v) { # 3 significant digits with k/M
		if (v >= 1e6) return sprintf("%.3gM", v / 1e6)
		if (v >= 1e3) return sprintf("%.3gk", v / 1e3)
		return sprintf("%.3g", v)
	}
	function mb(v) { return v >= 100 ? sprintf("%.0f", v) : sprintf("%.3g", v) }
	function us(v) { return v >= 100 ? sprintf("%.0f", v) : sprintf("%.3g", v) }
	function show(kind, size, v) { # a median -> the cell text
		if (kind == "thr") return si(v) " msg/s, " mb(v * size / 1e6) " MB/s"
		return us(v) " µs"
	}
	function target(kind, tr, size) { # "" = none; "+X" = at least X; "-X" = at most X
		if (kind == "lat") return (size == 16 || size == 4096) ? "-1.3" : ""
		if (tr == "inproc") return "+1.0"
		if (size == 16 || size == 256) return "+1.0"
		if (size == 4096 || size == 65536) return "+0.9"
		if (size == 1048576) return "+0.8"
		return ""
	}
	NR == 1 { nimpl = split(impls, impl, " "); next }
	($1 != "probe" && $1 != "rep") || $2 != $3 { next }
	{
		key = $4 " " $5 " " $6
		if (!(key in seen)) { seen[key] = 1; cells[++ncell] = key }
		if ($1 == "probe") { if (!num($8)) status[key, $2] = $8; next }
		taken[key, $2]++
		if (num($8)) vals[key, $2] = vals[key, $2] " " $8
		else if (index(bad[key, $2] " ", " " $8 " ") == 0) bad[key, $2] = bad[key, $2] " " $8
	}
	END {
		printf "| cell | libzmq | azmq | azmq/libzmq | target | azmq min..max | pebbe | gozeromq | azmq over gozeromq (thr target >=10x) |\n"
		printf "|---|---|---|---|---|---|---|---|---|\n"
		for (ci = 1; ci <= ncell; ci++) {
			key = cells[ci]; split(key, k, " "); kind = k[1]; tr = k[2]; size = k[3]
			line = "| " kind " " tr " " size "B |"
			for (i = 1; i <= nimpl; i++) {
				m = impl[i]; med[m] = ""
				if (!((key, m) in taken)) { txt[m] = status[key, m]; continue }
				if (vals[key, m] == "") { txt[m] = substr(bad[key, m], 2); continue }
				med[m] = median(vals[key, m])
				txt[m] = show(kind, size, med[m])
				nok = split(vals[key, m], tmp, " ")
				if (nok < taken[key, m]) txt[m] = txt[m] " (" nok "/" taken[key, m] ":" bad[key, m] ")"
			}
			ratio = ""; tgt = target(kind, tr, size); verdict = "-"
			if (med["azmq"] != "" && med["libzmq"] != "" && med["libzmq"] > 0) {
				ratio = med["azmq"] / med["libzmq"]
				if (tgt != "") {
					want = substr(tgt, 2) + 0
					ok = (substr(tgt, 1, 1) == "+") ? (ratio >= want) : (ratio <= want)
					verdict = sprintf("%s%.1fx %s", substr(tgt, 1, 1) == "+" ? ">=" : "<=", want, ok ? "met" : "MISSED")
				}
				ratio = sprintf("%.2fx", ratio)
			} else ratio = "-"
			spread = "-"
			if (vals[key, "azmq"] != "") {
				split(minmax(vals[key, "azmq"]), mm, " ")
				spread = (kind == "thr") ? si(mm[1]) ".." si(mm[2]) : us(mm[1]) ".." us(mm[2]) " µs"
			}
			gz = "-"
			if (med["azmq"] != "" && med["gozeromq"] != "" && med["gozeromq"] > 0 && med["azmq"] > 0) {
				f = (kind == "thr") ? med["azmq"] / med["gozeromq"] : med["gozeromq"] / med["azmq"]
				# The 10x target is for throughput; latency gets the ratio alone.
				gz = (kind == "thr") ? sprintf("%.1fx %s", f, f >= 10 ? "met" : "MISSED") : sprintf("%.1fx", f)
			} else if (txt["gozeromq"] != "" && med["gozeromq"] == "") {
				gz = "- (gozeromq: " txt["gozeromq"] ")"
			}
			line = line " " txt["libzmq"] " | " txt["azmq"] " | " ratio " | " (tgt == "" ? "-" : verdict) " | " spread " | " txt["pebbe"] " | " txt["gozeromq"] " | " gz " |"
			print line
			delete txt
		}
	}' "$OUT/runs.tsv"
}

# CPU time per message, from runs.tsv's last two columns (cpu_ns_recv,
# cpu_ns_send: what local_thr and remote_thr printed, "-" for none): the
# medians of the "rep" runs of each implementation against itself, thr over
# tcp and ipc, receiver and sender, and azmq/libzmq on each side. Target:
# azmq at most libzmq's at 16 B, on each side.
cpu_summary() {
	awk -F'\t' -v impls="$IMPLS" '
	function num(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ }
	'"$awk_median"'
	function ns(v) { return v == "" ? "-" : (v >= 100 ? sprintf("%.0f", v) : sprintf("%.3g", v)) }
	function ratio(a, b) { return (a == "" || b == "" || b <= 0) ? "-" : sprintf("%.2fx", a / b) }
	NR == 1 { nimpl = split(impls, impl, " "); next }
	$1 != "rep" || $2 != $3 || $4 != "thr" || $5 == "inproc" || !num($8) { next }
	{
		key = $4 " " $5 " " $6
		if (!(key in seen)) { seen[key] = 1; cells[++ncell] = key }
		if (num($12)) recv[key, $2] = recv[key, $2] " " $12
		if (num($13)) send[key, $2] = send[key, $2] " " $13
	}
	END {
		if (ncell == 0) exit
		head = "| cell |"; rule = "|---|"
		for (i = 1; i <= nimpl; i++) { head = head " " impl[i] " CPU/msg recv, send |"; rule = rule "---|" }
		print head " azmq/libzmq recv, send | target |"
		print rule "---|---|"
		for (ci = 1; ci <= ncell; ci++) {
			key = cells[ci]; split(key, k, " "); size = k[3]
			line = "| " key "B |"
			for (i = 1; i <= nimpl; i++) {
				m = impl[i]
				r[m] = median(recv[key, m]); s[m] = median(send[key, m])
				line = line " " ((r[m] == "" && s[m] == "") ? "-" : ns(r[m]) ", " ns(s[m]) " ns") " |"
			}
			rr = ratio(r["azmq"], r["libzmq"]); rs = ratio(s["azmq"], s["libzmq"])
			verdict = "-"
			if (size == 16 && rr != "-" && rs != "-")
				verdict = "<=1.0x each side " ((r["azmq"] <= r["libzmq"] && s["azmq"] <= s["libzmq"]) ? "met" : "MISSED")
			print line " " rr ", " rs " | " verdict " |"
		}
	}' "$OUT/runs.tsv"
}

{
	echo "## azmq beside libzmq, pebbe/zmq4 and go-zeromq/zmq4"
	echo
	machine libzmq
	echo "medians of $REPS runs; thr = PUSH->PULL msgs/s first..last message (MB/s); lat = REQ/REP latency (RTT/2)."
	echo "azmq/libzmq: >1 is faster for thr, <1 is faster for lat; \"azmq over gozeromq\" is a speed-up either way."
	echo
	summary
	cpu=$(cpu_summary)
	if [ -n "$cpu" ]; then
		echo
		echo "### CPU time per message, thr (ns, medians)"
		echo
		echo "user+system CPU time of the receiving (local_thr) and the sending (remote_thr) process, getrusage RUSAGE_SELF over every thread, from before its socket is made to the end of its side, divided by the count."
		echo
		echo "$cpu"
	fi
} >"$OUT/summary.md"

section "summary ($OUT/summary.md)"
cat "$OUT/summary.md"
build/peers/chart "$OUT/runs.tsv" >"$OUT/chart.svg"
# Throughput against message size; a run without thr cells (THR_SIZES= or
# TRANSPORTS=) has none to draw.
pictures="$OUT/chart.svg"
if [ -n "$THR_SIZES" ] && [ -n "$TRANSPORTS" ]; then
	build/peers/chart -by-size "$OUT/runs.tsv" >"$OUT/throughput.svg"
	pictures="$pictures, $OUT/throughput.svg (throughput against message size)"
fi
echo
echo "compare's table: $OUT/results.md; raw runs: $OUT/runs.tsv; failures: $OUT/err/errors.log; pictures: $pictures"
