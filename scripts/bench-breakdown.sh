#!/usr/bin/env bash
# `make bench-breakdown`: where one small message's CPU time goes, on the
# receiving and on the sending side, at two (or more) commits: by default
# e28d309 (the last commit before the work on small messages) and HEAD.
# Not part of `make test`: the defaults take about a minute of runs.
#
#   For each ref in REFS it builds that commit's `azmq` (git archive into a
#   temporary directory, go build ./cmd/azmq) into OUT/REF/azmq. Then, REPS
#   times, for each size and each ref in turn (the order reversed every
#   other repetition, so that a drift of the machine's load favours no
#   ref), it runs libzmq's perf-tool pair over tcp loopback: `azmq bench
#   local_thr tcp://127.0.0.1:* SIZE COUNT` (PULL, bound first) and `azmq
#   bench remote_thr ENDPOINT SIZE COUNT` (PUSH), each with -cpuprofile and
#   under a timeout.
#
#   Total CPU per message, per side: the user+system time of the whole
#   process (bash's `time`, getrusage of the waited-for child, so every
#   thread: the runtime, the collector, the profiler), over COUNT. It is
#   measured around the process rather than read from the tool, as older
#   commits' `azmq bench` does not print cpu_ns_per_msg; where a ref's tool
#   prints it, its own figure is in the table too, as a check.
#
#   The split: the stacks of the REPS profiles of a ref, side and size,
#   merged (`go tool pprof -traces`), each sample given to one category
#   (below); a category's ns/msg is its share of the samples times the
#   median total. Each sample's category: GC if any frame is the
#   collector's (mark workers and assists, write barriers, sweeping,
#   scavenging); else wake-ups and scheduler if any frame is the
#   scheduler's or a channel's, a futex, netpoll or the pipe's Signal; else
#   the first frame, from the leaf up, that names one of: syscalls
#   (syscall, internal/poll, net, internal/transport), memory (mallocgc,
#   memmove/memclr, sync.Pool, msgcopy, bufpool, the engine's slab), ZMTP
#   encode/decode (internal/engine, internal/wire), queues (internal/pipe,
#   internal/pattern), the API and the benchmark loop (package azmq,
#   internal/benchkit, the tool's main); else other. Frames that name none
#   (locks, atomics, bufio, runtime.asyncPreempt) go to their caller:
#   asyncPreempt as a leaf is charged to the code it interrupted (with
#   GODEBUG=asyncpreemptoff=1 the total stays and those samples move
#   there).
#
#   OUT/breakdown.md: a table per side, category by size and ref, with the
#   median totals; under it the same split made of each run's profile
#   alone, lowest to highest (how much a category moves between runs); and
#   msgs/s (local_thr's, first message to last, median). OUT/REF/:
#   the binary, every run's profile (recv-SIZE-REP.pprof, send-...) and its
#   `go tool pprof -top` (pprof-recv-SIZE-REP.txt, ...), and the frames
#   that decided the categories with their ms (split-SIDE-SIZE.tsv, to
#   audit the rules). OUT/runs.tsv: every run; OUT/categories.tsv: every
#   split in ms of samples (rep "all": the merged one).
#
# Knobs (env): REFS ("e28d309 HEAD": commits, oldest first; the table's
# columns in that order), SIZES ("16 256"), COUNT (messages a run; default
# by size, about 2 s a run at HEAD: 10,000,000 up to 64 B, 5,000,000 up to
# 1 KiB, 1,000,000 above), REPS (3), TIMEOUT (120 s a process), OUT
# (build/breakdown).
#   REPS=1 SIZES=16 COUNT=2000000 make bench-breakdown   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

REFS=${REFS:-"e28d309 HEAD"}
SIZES=${SIZES:-"16 256"}
COUNT=${COUNT:-}
REPS=${REPS:-3}
TIMEOUT=${TIMEOUT:-120}
OUT=${OUT:-build/breakdown}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

have_cmd git || die "git is needed to build each ref"
[ "$REPS" -ge 1 ] 2>/dev/null || die "REPS=$REPS is not a positive number"
[ -n "$REFS" ] || die "REFS is empty"
for s in $SIZES; do
	[ "$s" -ge 0 ] 2>/dev/null || die "SIZES: $s is not a byte count"
done
[ -z "$COUNT" ] || [ "$COUNT" -ge 1 ] 2>/dev/null || die "COUNT=$COUNT is not a positive number"

# name_of REF: its directory under OUT (a branch's slashes would nest).
name_of() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }

# count_for SIZE: the messages of one run.
count_for() {
	if [ -n "$COUNT" ]; then
		echo "$COUNT"
	elif [ "$1" -le 64 ]; then
		echo 10000000
	elif [ "$1" -le 1024 ]; then
		echo 5000000
	else
		echo 1000000
	fi
}

# load: the load averages (1, 5, 15 minutes), as uptime gives them.
load() { uptime | sed 's/.*load average: //'; }
load_start=$(load)

tmp=
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT

# The builds. Every ref's tool must take -cpuprofile; whether it prints
# cpu_ns_per_msg itself decides only the check row.
declare -A commit selfcpu
section "build each ref's azmq into $OUT/REF/"
for ref in $REFS; do
	name=$(name_of "$ref")
	c=$(git rev-parse --verify -q "$ref^{commit}") || die "$ref is not a commit here (a shallow clone? git fetch --unshallow)"
	commit[$ref]=$(git rev-parse --short=7 "$c")
	mkdir -p "$OUT/$name"
	tmp=$(mktemp -d)
	git archive "$c" | tar -x -C "$tmp"
	(cd "$tmp" && go build -o "$OUT/$name/azmq" ./cmd/azmq) || die "go build ./cmd/azmq at $ref failed"
	rm -rf "$tmp"
	tmp=
	help=$("$OUT/$name/azmq" bench --help 2>&1) || die "azmq bench --help at $ref failed"
	grep -q -- '-cpuprofile' <<<"$help" || die "azmq bench at $ref has no -cpuprofile"
	selfcpu[$ref]=0
	if grep -q 'cpu_ns_per_msg' <<<"$help"; then selfcpu[$ref]=1; fi
	echo "  $ref = ${commit[$ref]}: $OUT/$name/azmq$([ "${selfcpu[$ref]}" = 1 ] && echo ' (prints cpu_ns_per_msg)')"
done

# kv FILE KEY: the value of KEY=... in FILE.
kv() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1; }

# kv_or_dash FILE KEY: kv, or "-" when FILE has no KEY.
kv_or_dash() {
	local v
	v=$(kv "$1" "$2")
	echo "${v:--}"
}

# cpu_ns FILE COUNT: "U S" seconds (bash's time) -> ns a message.
cpu_ns() { awk -v n="$2" 'NF == 2 { printf "%.1f", ($1 + $2) * 1e9 / n; ok = 1 } END { if (!ok) print "-" }' "$1"; }

# run REF SIZE REP: one pair of processes; prints a row of runs.tsv after
# REF SIZE REP: status msgs_per_s recv_ns send_ns recv_self send_self.
run() {
	local ref=$1 size=$2 rep=$3 name dir bin n t pid ep i rc=0
	name=$(name_of "$ref")
	dir="$OUT/$name"
	bin="$dir/azmq"
	n=$(count_for "$size")
	t="$dir/run-$size-$rep"
	rm -f "$dir/recv-$size-$rep.pprof" "$dir/send-$size-$rep.pprof"
	# The time keyword reports on the subshell's stderr, apart from the
	# tool's own stderr (where local_thr says the endpoint it bound).
	(
		TIMEFORMAT='%3U %3S'
		time timeout -k 10 "$TIMEOUT" "$bin" bench -cpuprofile "$dir/recv-$size-$rep.pprof" local_thr 'tcp://127.0.0.1:*' "$size" "$n" >"$t.recv.out" 2>"$t.recv.err"
	) 2>"$t.recv.cpu" &
	pid=$!
	ep=$(announced "$t.recv.err" "$pid" endpoint)
	if [ -z "$ep" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		sed "s/^/  $name recv $size #$rep: /" "$t.recv.err" >>"$OUT/errors.log"
		rm -f "$dir/recv-$size-$rep.pprof" "$t".*
		printf 'fail\t-\t-\t-\t-\t-\n'
		return
	fi
	(
		TIMEFORMAT='%3U %3S'
		time timeout -k 10 "$TIMEOUT" "$bin" bench -cpuprofile "$dir/send-$size-$rep.pprof" remote_thr "$ep" "$size" "$n" >"$t.send.out" 2>"$t.send.err"
	) 2>"$t.send.cpu" || rc=$?
	wait "$pid" || rc=$?
	if [ "$rc" != 0 ] || [ -z "$(kv "$t.recv.out" msgs_per_s)" ]; then
		sed "s/^/  $name recv $size #$rep: /" "$t.recv.err" >>"$OUT/errors.log"
		sed "s/^/  $name send $size #$rep: /" "$t.send.err" >>"$OUT/errors.log"
		# A failed run's profiles are no part of the split.
		rm -f "$dir/recv-$size-$rep.pprof" "$dir/send-$size-$rep.pprof"
		printf 'fail\trc=%s\t-\t-\t-\t-\n' "$rc"
	else
		printf 'ok\t%s\t%s\t%s\t%s\t%s\n' "$(kv "$t.recv.out" msgs_per_s)" \
			"$(cpu_ns "$t.recv.cpu" "$n")" "$(cpu_ns "$t.send.cpu" "$n")" \
			"$(kv_or_dash "$t.recv.out" cpu_ns_per_msg)" "$(kv_or_dash "$t.send.out" cpu_ns_per_msg)"
		go tool pprof -top "$bin" "$dir/recv-$size-$rep.pprof" >"$dir/pprof-recv-$size-$rep.txt" 2>/dev/null || true
		go tool pprof -top "$bin" "$dir/send-$size-$rep.pprof" >"$dir/pprof-send-$size-$rep.txt" 2>/dev/null || true
	fi
	rm -f "$t".*
}

: >"$OUT/errors.log"
printf 'ref\tcommit\tsize\tcount\trep\tstatus\tmsgs_per_s\trecv_ns\tsend_ns\trecv_self_ns\tsend_self_ns\n' >"$OUT/runs.tsv"
section "runs (REFS=\"$REFS\" SIZES=\"$SIZES\" REPS=$REPS, tcp loopback; load average $(load))"
read -ra refs <<<"$REFS"
for ((rep = 1; rep <= REPS; rep++)); do
	order=("${refs[@]}")
	if ((rep % 2 == 0)); then
		order=()
		for ((i = ${#refs[@]} - 1; i >= 0; i--)); do order+=("${refs[i]}"); done
	fi
	for size in $SIZES; do
		for ref in "${order[@]}"; do
			row=$(run "$ref" "$size" "$rep")
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$ref" "${commit[$ref]}" "$size" "$(count_for "$size")" "$rep" "$row" >>"$OUT/runs.tsv"
			printf '  %-10s %6s B #%s  %s\n' "$ref" "$size" "$rep" "$(printf '%s' "$row" | tr '\t' ' ')"
		done
	done
done

# classify DETAIL: `go tool pprof -traces` on stdin -> "category<TAB>ms"
# lines, one per category, in the tables' order (see the header for the
# rules); DETAIL gets "category<TAB>ms<TAB>frame" for every frame that
# decided a sample's category (the leaf for other), to audit the rules.
classify() {
	awk -v detail="$1" '
	BEGIN {
		ncat = split("syscalls|ZMTP encode/decode|queues|wake-ups and scheduler|memory|GC|API and benchmark loop|other", cats, "|")
		gc = "^gcWriteBarrier|^runtime\\.(.*(sweep|scaveng|gcDrain|gcBgMark|gcAssist|gcMark|gcStart|gcStopTheWorld|gcWriteBarrier|wbBuf|markroot|scanobject|scanObject|scanstack|scanblock|scanframe|greyobject|gcmarknewobject|SpanScan|bulkBarrier|deductAssistCredit|forcegchelper|gcWork|gcFlushBgCredit|gcParkAssist|stopTheWorld|startTheWorld|suspendG|gcControllerState|gcCPULimiter))"
		sched = "^runtime\\.(findRunnable|schedule|park_m|gopark|goparkunlock|goready|ready|wakep|startm|stopm|handoffp|notesleep|notetsleep|notetsleepg|notewakeup|futex|futexsleep|futexwakeup|netpoll|netpollBreak|netpollblock|netpollready|chansend|chansend1|chanrecv|chanrecv1|chanrecv2|closechan|selectgo|selectnbsend|selectnbrecv|semacquire|semacquire1|semrelease|semrelease1|runqget|runqput|runqgrab|runqsteal|stealWork|usleep|osyield|mPark|gosched_m|goschedImpl|Gosched|gopreempt_m|preemptPark|newproc|newproc1|goexit0|gogo|execute|mcall|sysmon|checkTimers|resetspinning|exitsyscall0|entersyscallblock|injectglist|acquirep|releasep|notifyList.*|sync_runtime_.*|poll_runtime_.*)$|^(internal/)?sync\\.(runtime_Sem.*|runtime_notifyList.*|runtime_canSpin|runtime_doSpin|\\(\\*Cond\\).*)$|^github\\.com/azmq/azmq/internal/pipe\\.\\(\\*Signal\\)"
		rule[1] = "^(internal/runtime/syscall(/linux)?|syscall|golang\\.org/x/sys/unix|internal/poll|net|os)\\.|^runtime\\.(entersyscall|exitsyscall|reentersyscall)|^github\\.com/azmq/azmq/internal/transport\\."
		rule[5] = "^runtime\\.(mallocgc|newobject|makeslice|growslice|memmove|memclr|typedmemmove|typedslicecopy|heapSetType|nextFreeFast|newarray|duff|makechan|rawbyteslice|slicebytetostring|concatstring|sysAlloc|sysUsed|persistentalloc|\\(\\*mcache\\)|\\(\\*mcentral\\)|\\(\\*mheap\\)|\\(\\*pageAlloc\\))|^sync\\.(\\(\\*Pool\\)|indexLocal|runtime_procPin|runtime_procUnpin)|^github\\.com/azmq/azmq/internal/(msgcopy|bufpool)\\.|^github\\.com/azmq/azmq/internal/engine\\.\\(\\*slab\\)"
		rule[2] = "^github\\.com/azmq/azmq/internal/(engine|wire|security)\\."
		rule[3] = "^github\\.com/azmq/azmq/internal/(pipe|pattern)\\."
		rule[7] = "^github\\.com/azmq/azmq\\.|^github\\.com/azmq/azmq/internal/benchkit\\.|^main\\."
		norder = split("1 5 2 3 7", order, " ")
	}
	function ms(v,    n, u) {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "s") return n * 1000
		if (u == "ms") return n
		if (u == "us" || u == "µs") return n / 1000
		if (u == "ns") return n / 1e6
		return -1
	}
	function flush(    i, j, k, c, why) {
		if (nf == 0) return
		c = 8; why = f[1]
		for (i = 1; i <= nf; i++) if (f[i] ~ gc) { c = 6; why = f[i]; break }
		if (c == 8) for (i = 1; i <= nf; i++) if (f[i] ~ sched) { c = 4; why = f[i]; break }
		if (c == 8) {
			for (i = 1; i <= nf && c == 8; i++)
				for (j = 1; j <= norder; j++) { k = order[j]; if (f[i] ~ rule[k]) { c = k; why = f[i]; break } }
		}
		sum[c] += val; by[c, why] += val; nf = 0
	}
	/^-----/ { flush(); started = 1; next }
	!started { next }
	/^ +[0-9.]+(ns|us|µs|ms|s) +[^ ]/ {
		flush()
		val = ms($1)
		if (val < 0) { bad = 1; next }
		name = $0; sub(/^ +[^ ]+ +/, "", name); sub(/ \(inline\)$/, "", name)
		f[++nf] = name
		next
	}
	/^      +[^ ]/ && nf > 0 { name = $0; sub(/^ +/, "", name); sub(/ \(inline\)$/, "", name); f[++nf] = name }
	END {
		flush()
		if (bad) { print "classify: a sample value in an unknown unit" > "/dev/stderr"; exit 1 }
		for (i = 1; i <= ncat; i++) printf "%s\t%.0f\n", cats[i], sum[i]
		for (k in by) { split(k, kk, SUBSEP); printf "%s\t%.0f\t%s\n", cats[kk[1]], by[k], kk[2] > detail }
	}'
}

# split REF SIZE SIDE REP: categories.tsv's rows of one split, from
# classify's lines on stdin.
split_rows() {
	awk -F'\t' -v r="$1" -v s="$2" -v d="$3" -v n="$4" '{ printf "%s\t%s\t%s\t%s\t%s\t%s\n", r, s, d, n, $1, $2 }' >>"$OUT/categories.tsv"
}

section "the split, from the profiles"
printf 'ref\tsize\tside\trep\tcategory\tms\n' >"$OUT/categories.tsv"
for ref in $REFS; do
	name=$(name_of "$ref")
	for size in $SIZES; do
		for side in recv send; do
			profs=()
			for ((rep = 1; rep <= REPS; rep++)); do
				p="$OUT/$name/$side-$size-$rep.pprof"
				[ -s "$p" ] || continue
				profs+=("$p")
				# Each run alone too, for the spread between runs.
				go tool pprof -traces "$OUT/$name/azmq" "$p" 2>/dev/null | classify /dev/null | split_rows "$ref" "$size" "$side" "$rep"
			done
			[ "${#profs[@]}" -gt 0 ] || continue
			: >"$OUT/$name/split-$side-$size.tsv"
			go tool pprof -traces "$OUT/$name/azmq" "${profs[@]}" 2>/dev/null | classify "$OUT/$name/split-$side-$size.tsv" |
				split_rows "$ref" "$size" "$side" all
			sort -t$'\t' -k1,1 -k2,2nr -o "$OUT/$name/split-$side-$size.tsv" "$OUT/$name/split-$side-$size.tsv"
		done
	done
done

# The tables: per side, a row per category and a column per size and ref.
tables() {
	awk -F'\t' -v refs="$REFS" -v sizes="$SIZES" -v commits="$1" -v selfs="$2" '
	'"$awk_median"'
	function ns(v) { return v == "" ? "-" : (v >= 10 ? sprintf("%.0f", v) : sprintf("%.1f", v)) }
	function si(v) { return v == "" ? "-" : (v >= 1e6 ? sprintf("%.2fM", v / 1e6) : sprintf("%.0fk", v / 1e3)) }
	FNR == 1 { file++; next }
	file == 1 {
		if ($6 != "ok") { fails[$1, $3]++; next }
		thr[$1, $3] = thr[$1, $3] " " $7
		tot["recv", $1, $3] = tot["recv", $1, $3] " " $8
		tot["send", $1, $3] = tot["send", $1, $3] " " $9
		one["recv", $1, $3, $5] = $8; one["send", $1, $3, $5] = $9
		if ($10 != "-" && $10 != "") self["recv", $1, $3] = self["recv", $1, $3] " " $10
		if ($11 != "-" && $11 != "") self["send", $1, $3] = self["send", $1, $3] " " $11
		nrun[$1, $3]++
		next
	}
	file == 2 && $4 == "all" {
		if (!($5 in seen)) { seen[$5] = 1; cat[++ncat] = $5 }
		ms[$1, $2, $3, $5] = $6; sms[$1, $2, $3] += $6
	}
	file == 2 && $4 != "all" { rms[$1, $2, $3, $4, $5] = $6; rsum[$1, $2, $3, $4] += $6; if (!(($1, $2, $3, $4) in rseen)) { rseen[$1, $2, $3, $4] = 1; reps[$1, $2, $3] = reps[$1, $2, $3] " " $4 } }
	END {
		nr = split(refs, r, " "); ns_ = split(sizes, s, " ")
		split(commits, cm, " "); split(selfs, sf, " ")
		for (i = 1; i <= nr; i++) { com[r[i]] = cm[i]; hasself[r[i]] = sf[i] }
		head = "| category |"; rule = "|---|"
		for (j = 1; j <= ns_; j++) for (i = 1; i <= nr; i++) {
			lab = r[i]; if (com[r[i]] != r[i] && substr(com[r[i]], 1, length(r[i])) != r[i]) lab = lab " (" com[r[i]] ")"
			head = head " " s[j] " B, " lab " |"; rule = rule "---:|"
		}
		nside = split("recv send", side, " ")
		for (d = 1; d <= nside; d++) {
			sd = side[d]
			print ""
			print (sd == "recv" ? "### Receiving side (PULL, local_thr): CPU ns a message" : "### Sending side (PUSH, remote_thr): CPU ns a message")
			print ""
			print head; print rule
			for (c = 1; c <= ncat; c++) {
				line = "| " cat[c] " |"
				for (j = 1; j <= ns_; j++) for (i = 1; i <= nr; i++) {
					t = median(tot[sd, r[i], s[j]]); w = sms[r[i], s[j], sd]
					if (t == "" || w <= 0) { line = line " - |"; continue }
					sh = ms[r[i], s[j], sd, cat[c]] / w
					line = line sprintf(" %s (%.0f %%) |", ns(t * sh), 100 * sh)
				}
				print line
			}
			line = "| **total** (getrusage) |"
			for (j = 1; j <= ns_; j++) for (i = 1; i <= nr; i++) line = line " **" ns(median(tot[sd, r[i], s[j]])) "** |"
			print line
			line = "| the tool'\''s own cpu_ns_per_msg |"
			for (j = 1; j <= ns_; j++) for (i = 1; i <= nr; i++) {
				v = median(self[sd, r[i], s[j]])
				line = line " " (hasself[r[i]] == 1 && v != "" ? ns(v) : "- (not printed)") " |"
			}
			print line
			line = "| profile samples (all runs) |"
			for (j = 1; j <= ns_; j++) for (i = 1; i <= nr; i++) line = line " " sprintf("%.0f", sms[r[i], s[j], sd] / 10) " |"
			print line
			# The same split made of each run alone: how far runs differ.
			print ""
			print "Each run alone, lowest to highest ns a message:"
			print ""
			print head; print rule
			for (c = 1; c <= ncat + 1; c++) {
				line = "| " (c <= ncat ? cat[c] : "total") " |"
				for (j = 1; j <= ns_; j++) for (i = 1; i <= nr; i++) {
					k = r[i] SUBSEP s[j] SUBSEP sd
					nk = split(reps[r[i], s[j], sd], rp, " ")
					lo = ""; hi = ""
					for (q = 1; q <= nk; q++) {
						t = one[sd, r[i], s[j], rp[q]]; w = rsum[k, rp[q]]
						if (t == "" || w <= 0) continue
						v = (c <= ncat) ? t * rms[k, rp[q], cat[c]] / w : t
						if (lo == "" || v < lo) lo = v
						if (hi == "" || v > hi) hi = v
					}
					line = line " " (lo == "" ? "-" : ns(lo) "–" ns(hi)) " |"
				}
				print line
			}
		}
		print ""
		print "### Throughput (local_thr, first message to last)"
		print ""
		t = head; sub(/^\| category \|/, "| |", t)
		print t; print rule
		line = "| msgs/s |"
		for (j = 1; j <= ns_; j++) for (i = 1; i <= nr; i++) {
			v = median(thr[r[i], s[j]])
			line = line " " si(v) (fails[r[i], s[j]] ? " (" fails[r[i], s[j]] " failed)" : "") " |"
		}
		print line
		line = "| runs |"
		for (j = 1; j <= ns_; j++) for (i = 1; i <= nr; i++) line = line " " (nrun[r[i], s[j]] + 0) " |"
		print line
	}' "$OUT/runs.tsv" "$OUT/categories.tsv"
}

commits='' selfs=''
for ref in $REFS; do
	commits+="${commit[$ref]} "
	selfs+="${selfcpu[$ref]} "
done
load_end=$(load)
{
	echo "## Per-message CPU cost breakdown, PUSH->PULL over tcp loopback"
	echo
	machine
	sep='refs: '
	for ref in $REFS; do
		printf '%s%s = %s' "$sep" "$ref" "${commit[$ref]}"
		sep=', '
	done
	echo "; REPS=$REPS, the refs alternating; messages a run: $(for s in $SIZES; do printf '%s B x %s, ' "$s" "$(count_for "$s")"; done | sed 's/, $//')"
	echo "load average (1, 5, 15 min): $load_start at the start, $load_end at the end"
	echo
	echo "A cell is ns a message (the category's share of the profile samples). The total is the process's user+system CPU time over the messages (median of the runs; every thread, with the profiler on); a category is its share of the samples of all the runs' profiles merged, times that total. local_thr counts from before its socket is made, remote_thr until every message is written."
	tables "$commits" "$selfs"
} >"$OUT/breakdown.md"

section "breakdown ($OUT/breakdown.md)"
cat "$OUT/breakdown.md"
echo
echo "runs: $OUT/runs.tsv; splits: $OUT/categories.tsv; each run's pprof -top: $OUT/REF/pprof-SIDE-SIZE-REP.txt"
if [ -s "$OUT/errors.log" ]; then
	echo "stderr of the failed runs: $OUT/errors.log"
fi
! grep -q $'\tfail\t' "$OUT/runs.tsv" || die "a run failed: see $OUT/errors.log"
