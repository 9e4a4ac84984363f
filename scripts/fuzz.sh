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
		# Go's fuzzer sometimes ends a clean run with a bare "context deadline
		# exceeded" when -fuzztime expires mid-input; that run found nothing
		# (a real crasher is written under testdata/fuzz and printed), so it
		# is run once more. Any other failure, or a second one, fails.
		if ! out=$(go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" 2>&1); then
			echo "$out"
			if grep -q 'Failing input written' <<<"$out" || ! grep -q 'context deadline exceeded' <<<"$out"; then
				exit 1
			fi
			echo "(fuzz run ended at its deadline without a crasher: running it again)"
			go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime"
		else
			echo "$out"
		fi
		n=$((n + 1))
	done
done
echo "fuzzed $n target(s), $fuzztime each"
