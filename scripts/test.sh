#!/usr/bin/env bash
# `make test`: the whole test run, as CI runs it. Stops at the first failure.
#   deps (python3-zmq) → vet for linux, windows, darwin → darwin test build
#   → go test -race (with the libzmq interop tests required) → the salsa,
#   poly1305 and CURVE tests with the assembly off (purego, GODEBUG) → fuzz
#   targets → the Windows leg under Wine.
# Knobs: FUZZTIME (default 5s per target), SKIP_WINDOWS=1 to leave out the
# Windows leg (CI never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

section "deps"
scripts/deps.sh

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

section "go test -race (AZMQ_INTEROP=1)"
AZMQ_INTEROP=1 go test -race -timeout 15m ./...

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

if [ "${SKIP_WINDOWS:-}" = 1 ]; then
	section "windows: skipped (SKIP_WINDOWS=1)"
else
	scripts/windows-test.sh
fi

section "make test: all passed"
