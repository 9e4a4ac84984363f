#!/usr/bin/env bash
# The walkthrough: a stranger's first minutes, replayed. It clones the
# committed HEAD of this repository into a fresh temporary directory with
# nothing beside it, and there
#   1. runs README.md's first command (the first line of the ```sh block
#      under "## Try it", today `go run ./cmd/azmq bench`), which must exit
#      0 and print its table;
#   2. builds and vets every ```go block of README.md against the clone
#      (TestReadmeCompiles in readme_test.go: each block is a complete
#      program; a fragment or a snippet that does not build fails).
# Uncommitted changes are not in the clone: commit first to walk them.
# `make test` runs it; `make walkthrough` runs it alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh

leg_ready walkthrough strict
said=$(git rev-parse --is-inside-work-tree 2>&1) ||
	die "walkthrough cannot run: git sees no clone here to clone (${said%%$'\n'*}); run it in a git clone"

start=$SECONDS
head=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain)" ]; then
	echo "note: the walkthrough uses the committed HEAD ${head:0:12}; uncommitted changes and untracked files are not in it"
fi

tmp=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$tmp" "$log"' EXIT
clone=$tmp/azmq
timeout 2m git -c advice.detachedHead=false clone -q "$root" "$clone"
got=$(git -C "$clone" rev-parse HEAD)
[ "$got" = "$head" ] || die "the clone is at $got, not at HEAD $head"
echo "cloned ${head:0:12} into $clone (alone in $tmp)"
cd "$clone"

# README's first command, from the clone's README.
first=$(awk '
	/^## Try it/ { in_section = 1; next }
	in_section && /^## / { exit }
	in_section && /^```sh/ { in_block = 1; next }
	in_block && /^```/ { exit }
	in_block && NF { print; exit }
' README.md)
first=${first%%#*}
read -r -a cmd <<<"$first"
[ ${#cmd[@]} -gt 0 ] || die "README.md has no command in a \`\`\`sh block under \"## Try it\""
# Only a `go run` is run as it stands: anything else (make test, say) would
# run this walkthrough again or do what this script cannot vouch for.
[ "${cmd[0]}" = go ] && [ "${cmd[1]:-}" = run ] ||
	die "README.md's first command is now \`${cmd[*]}\`: scripts/walkthrough.sh runs only a \`go run\`; update it"

echo "\$ ${cmd[*]}"
t0=$SECONDS
timeout 5m "${cmd[@]}" 2>&1 | tee "$log" ||
	die "README.md's first command failed in a fresh clone: ${cmd[*]}"
grep -q '^transport ' "$log" || die "README.md's first command printed no table (no \"transport\" header)"
bench_s=$((SECONDS - t0))

echo "\$ go test -count=1 -run '^TestReadmeCompiles\$' ."
t0=$SECONDS
go test -count=1 -timeout 5m -run '^TestReadmeCompiles$' .
readme_s=$((SECONDS - t0))
echo "walkthrough passed in $((SECONDS - start))s (first command ${bench_s}s, README programs ${readme_s}s)"
