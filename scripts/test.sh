#!/usr/bin/env bash
# `make test`: the whole test run, as CI runs it. Stops at the first failure.
#   deps (python3-zmq) → vet for linux, windows, darwin → darwin test build
#   → go test -race (with the libzmq interop tests required) → fuzz targets
#   → the Windows leg under Wine.
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

section "fuzz (FUZZTIME=${FUZZTIME:-5s})"
FUZZTIME=${FUZZTIME:-5s} scripts/fuzz.sh

if [ "${SKIP_WINDOWS:-}" = 1 ]; then
	section "windows: skipped (SKIP_WINDOWS=1)"
else
	scripts/windows-test.sh
fi

section "make test: all passed"
