#!/usr/bin/env bash
# Runs every fuzz target in the tree for FUZZTIME each (default 5s).
# Targets are discovered per package with `go test -list '^Fuzz'`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

fuzztime=${FUZZTIME:-5s}
n=0
for pkg in $(test_packages); do
	list=$(go test -list '^Fuzz' "$pkg")
	for name in $(grep -E '^Fuzz' <<<"$list" || true); do
		echo "--- fuzz $pkg $name ($fuzztime)"
		go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime"
		n=$((n + 1))
	done
done
echo "fuzzed $n target(s), $fuzztime each"
