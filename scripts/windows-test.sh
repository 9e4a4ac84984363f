#!/usr/bin/env bash
# The Windows leg: cross-compiles the test binary of every package with tests
# (except interop, which drives a Linux libzmq peer) and runs each under Wine,
# from its package directory so that testdata/ is found.
#
# scripts/wine-setup.sh readies Wine first (installing it as root, or
# failing with what to do: this leg was asked for, so it does not skip).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh

section "windows: Wine setup"
scripts/wine-setup.sh
export WINEDEBUG=-all

out=$root/build/win
rm -rf "$out"
mkdir -p "$out"

all=$(GOOS=windows test_packages)
pkgs=$(grep -v '/interop$' <<<"$all" || true)
[ -n "$pkgs" ] || die "no packages with tests for GOOS=windows"

# Wine 8 lacks NtSetInformationFile(FileDispositionInformationEx) and answers
# STATUS_NOT_IMPLEMENTED, where Go 1.25+'s os.RemoveAll (and so every
# t.TempDir cleanup) falls back to the older call only on the statuses real
# Windows gives. A build overlay adds that status to the fallback list in the
# test binaries; real Windows never returns it there, so nothing else changes.
# (It lives in build/win/_overlay: the leading _ keeps it out of ./...)
# AZMQ_WINE_OVERLAY=0 builds without it. Tests see AZMQ_UNDER_WINE=1 in their
# environment (Wine 8 has no AF_UNIX: ipc tests on a path may skip on it).
overlay=()
if [ "${AZMQ_WINE_OVERLAY:-1}" != 0 ]; then
	at=$(go env GOROOT)/src/internal/syscall/windows/at_windows.go
	patched=$out/_overlay/at_windows.go
	mkdir -p "$out/_overlay"
	if [ -f "$at" ] && sed 's|^\t\tSTATUS_NOT_SUPPORTED: |\t\tSTATUS_NOT_SUPPORTED, NTStatus(0xC0000002) /* STATUS_NOT_IMPLEMENTED (Wine) */:|' "$at" >"$patched" &&
		! cmp -s "$at" "$patched"; then
		printf '{"Replace":{"%s":"%s"}}\n' "$at" "$patched" >"$out/_overlay/overlay.json"
		overlay=(-overlay "$out/_overlay/overlay.json")
		echo "using the Wine RemoveAll overlay ($out/_overlay/overlay.json)"
	else
		echo "warning: Go's Deleteat fallback not found in $at: no Wine overlay (t.TempDir cleanup may fail under Wine)"
	fi
fi

section "windows: build test binaries"
for pkg in $pkgs; do
	name=${pkg#github.com/azmq/azmq}
	name=${name#/}
	name=${name:-azmq}
	name=${name//\//_}
	echo "build $pkg -> build/win/$name.test.exe"
	GOOS=windows GOARCH=amd64 go test "${overlay[@]}" -c -o "$out/$name.test.exe" "$pkg"
done

# The commands the tests run as processes (internal/cmdtest), built here:
# under Wine there is no go command to build them.
for cmd in cmd/azmq bench/stress; do
	echo "build ./$cmd -> build/win/cmd/${cmd##*/}.exe"
	GOOS=windows GOARCH=amd64 go build "${overlay[@]}" -o "$out/cmd/${cmd##*/}.exe" "./$cmd"
done
export AZMQ_CMD_DIR
AZMQ_CMD_DIR=$(winepath -w "$out/cmd")

section "windows: run under Wine"
summary=()
failed=0
for pkg in $pkgs; do
	name=${pkg#github.com/azmq/azmq}
	name=${name#/}
	name=${name:-azmq}
	name=${name//\//_}
	exe=$out/$name.test.exe
	[ -f "$exe" ] || { summary+=("SKIP  $pkg (no test binary: no tests for windows)"); continue; }
	dir=$(go list -f '{{.Dir}}' "$pkg")
	echo "--- $pkg"
	start=$SECONDS
	rc=0
	(cd "$dir" && AZMQ_UNDER_WINE=1 timeout -k 10s 6m wine "$exe" -test.timeout 5m) || rc=$?
	took=$((SECONDS - start))
	if [ "$rc" -eq 0 ]; then
		summary+=("ok    $pkg (${took}s)")
	else
		summary+=("FAIL  $pkg (exit $rc, ${took}s)")
		failed=1
	fi
done

section "windows: summary"
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ] || die "windows leg failed"
