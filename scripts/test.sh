#!/usr/bin/env bash
# `make test`: the whole test run, as CI runs it. Stops at the first failure.
#   deps: what the legs need beyond Go, installed up front (scripts/deps.sh),
#   and Wine made ready (scripts/wine-setup.sh), so that a missing
#   prerequisite shows in the first minute
#   → vet for linux, windows, darwin → darwin test build
#   → the walkthrough (scripts/walkthrough.sh: README's first command and
#     Go programs, in a fresh clone)
#   → go test -race (with the libzmq interop tests required: pyzmq's peer
#     and zeromq.js's, for the draft socket types; headless Chromium
#     running jszmq; and JeroMQ 0.3, a ZMTP 2.0 peer) → the salsa,
#   poly1305 and CURVE tests with the assembly off (purego, GODEBUG) → fuzz
#   targets → the Windows leg under Wine (scripts/windows-test.sh).
# A user who lacks a leg's prerequisites and cannot install them (not
# root, no passwordless sudo, or no apt-get) gets one line saying which leg
# is skipped and how to run it, at the start and again at the end; under
# CI (CI=true) that is a failure instead.
# Knobs: FUZZTIME (default 5s per target), SKIP_WINDOWS=1 to leave out the
# Windows leg (CI never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

skipped=()

section "deps"
scripts/deps.sh
# AZMQ_INTEROP=1 makes every interop test fail without its peer, so it is
# set only when every peer, pyzmq's, zeromq.js's, the browser and JeroMQ, is there.
run_interop=1
leg_has_prereqs interop || { run_interop=; skipped+=("$(leg_skip_line interop)"); }
leg_has_prereqs zeromqjs || { run_interop=; skipped+=("$(leg_skip_line zeromqjs)"); }
leg_has_prereqs browser || { run_interop=; skipped+=("$(leg_skip_line browser)"); }
leg_has_prereqs jeromq || { run_interop=; skipped+=("$(leg_skip_line jeromq)"); }
run_walkthrough=1
if ! leg_has_prereqs walkthrough; then
	run_walkthrough=
	skipped+=("$(leg_skip_line walkthrough)")
elif ! said=$(git rev-parse --is-inside-work-tree 2>&1); then
	line="walkthrough skipped: git sees no clone here to clone (${said%%$'\n'*}); run \`make walkthrough\` in a git clone"
	in_ci && die "${line/skipped:/cannot run:}"
	echo "$line"
	run_walkthrough=
	skipped+=("$line")
fi
run_windows=1
if [ "${SKIP_WINDOWS:-}" = 1 ]; then
	run_windows=
	skipped+=("windows leg skipped: SKIP_WINDOWS=1; \`make windows-test\` runs it")
elif ! leg_has_prereqs windows; then
	run_windows=
	skipped+=("$(leg_skip_line windows)")
else
	section "windows: Wine setup"
	scripts/wine-setup.sh
fi
# deps.sh fails under CI when a leg cannot run; this says so again should
# the checks above ever disagree with it. (SKIP_WINDOWS=1 is asked for,
# not missing: it is the one skip CI would let through.)
if in_ci; then
	for line in "${skipped[@]}"; do
		case $line in
		*SKIP_WINDOWS=1*) ;;
		*) die "under CI every leg runs: $line" ;;
		esac
	done
fi

section "go vet (linux)"
go vet ./...
section "go vet (windows)"
GOOS=windows go vet ./...
section "go vet (darwin)"
GOOS=darwin go vet ./...

section "darwin test build"
for pkg in $(GOOS=darwin test_packages); do
	echo "build $pkg"
	GOOS=darwin go test -c -o /dev/null "$pkg"
done

if [ -n "$run_walkthrough" ]; then
	section "walkthrough (a fresh clone: README's first command and Go programs)"
	scripts/walkthrough.sh
fi

if [ -n "$run_interop" ]; then
	section "go test -race (AZMQ_INTEROP=1)"
	AZMQ_INTEROP=1 go test -race -timeout 15m ./...
else
	section "go test -race (the interop tests whose peer is missing skip)"
	go test -race -timeout 15m ./...
fi

# Memory reuse through sync.Pool, without the race detector, whose pools
# drop a quarter of what they are given: the tests named *Reuse* check
# that steady sending and receiving allocate next to nothing.
section "memory reuse (without -race)"
go test -count=1 -run 'Reuse' . ./internal/msgcopy ./internal/engine

# The Salsa20 and Poly1305 assembly, switched off: the packages and the CURVE
# tests that use them run again on each slower path. TestPickedPath fails
# unless a run takes the path AZMQ_EXPECT_PATH names (or, on a CPU without
# it, the best one below it), so a leg cannot quietly test the default.
asm_leg() { # expected-path GODEBUG go-test-flags...
	local want=$1 debug=$2
	shift 2
	AZMQ_EXPECT_PATH=$want GODEBUG=$debug go test "$@" ./internal/salsa ./internal/poly1305
	AZMQ_EXPECT_PATH=$want GODEBUG=$debug go test "$@" -run Curve ./internal/security
}
section "assembly off: -tags purego"
asm_leg generic "" -tags purego
section "assembly off: GODEBUG=cpu.avx512f=off"
asm_leg avx2 cpu.avx512f=off
section "assembly off: GODEBUG=cpu.avx512f=off,cpu.avx2=off"
asm_leg generic cpu.avx512f=off,cpu.avx2=off

section "fuzz (FUZZTIME=${FUZZTIME:-5s})"
FUZZTIME=${FUZZTIME:-5s} scripts/fuzz.sh

if [ -n "$run_windows" ]; then
	scripts/windows-test.sh
fi

if [ ${#skipped[@]} -eq 0 ]; then
	section "make test: all passed"
else
	section "make test: passed, with ${#skipped[@]} leg(s) skipped"
	printf '%s\n' "${skipped[@]}"
fi
