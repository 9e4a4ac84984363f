#!/usr/bin/env bash
# Makes Wine ready to run Go's Windows test binaries (scripts/windows-test.sh
# runs it first; `make test` runs it early, with the other prerequisites):
#   1. wine, wine64 and mingw-w64, through scripts/deps.sh (which installs
#      them as root or fails saying why);
#   2. the Wine prefix (WINEPREFIX, default ~/.wine), made by wineboot the
#      first time;
#   3. bcryptprimitives.dll with ProcessPrng, which Go 1.22+ needs from its
#      first instruction and Wine 8 lacks: built from
#      scripts/wine/bcryptprimitives.c into build/wine/ and copied into the
#      prefix's system32 unless the same file is there;
#   4. a probe: a small Go program built for Windows must run under Wine,
#      so a broken setup shows here, in seconds.
# Wine 8 has no AF_UNIX either; the tests of ipc over a path skip under
# Wine, saying so (scripts/windows-test.sh sets AZMQ_UNDER_WINE=1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh

scripts/deps.sh --strict windows
export WINEDEBUG=-all

prefix=${WINEPREFIX:-$HOME/.wine}
sys32=$prefix/drive_c/windows/system32
if [ ! -d "$sys32" ]; then
	echo "making the Wine prefix $prefix"
	timeout 5m wineboot -i >/dev/null 2>&1 || true
	[ -d "$sys32" ] || die "wineboot -i did not make $sys32"
fi

out=$root/build/wine
mkdir -p "$out"
dll=$out/bcryptprimitives.dll
src=scripts/wine/bcryptprimitives.c
if [ ! -f "$dll" ] || [ "$src" -nt "$dll" ]; then
	echo "building $dll"
	x86_64-w64-mingw32-gcc -shared -O2 -Wall -o "$dll.tmp" "$src" -ladvapi32
	mv "$dll.tmp" "$dll"
fi
if ! cmp -s "$dll" "$sys32/bcryptprimitives.dll"; then
	echo "installing ProcessPrng's shim as $sys32/bcryptprimitives.dll"
	# A new file renamed into place: a Wine process running now keeps the
	# one it mapped.
	cp "$dll" "$sys32/bcryptprimitives.dll.azmq-new"
	mv -f "$sys32/bcryptprimitives.dll.azmq-new" "$sys32/bcryptprimitives.dll"
fi

# The probe uses crypto/rand, which reads through ProcessPrng, as the
# runtime does before main.
probe=$out/probe
mkdir -p "$probe"
printf 'module probe\n\ngo 1.22\n' >"$probe/go.mod"
cat >"$probe/main.go" <<'GO'
package main

import (
	"crypto/rand"
	"fmt"
	"os"
)

func main() {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		fmt.Println("crypto/rand:", err)
		os.Exit(1)
	}
	fmt.Println("a Go Windows binary runs")
}
GO
(cd "$probe" && GOOS=windows GOARCH=amd64 GOFLAGS= go build -o probe.exe .)
if ! said=$(timeout 2m wine "$probe/probe.exe" 2>&1) || [ "$said" != "a Go Windows binary runs" ]; then
	die "Wine cannot run a Go Windows binary (prefix $prefix): $said"
fi
echo "wine ready: $(wine --version 2>/dev/null), prefix $prefix, $said"
