#!/usr/bin/env bash
# Installs, with apt-get on a Debian machine, what the legs of `make test`
# need beyond Go, when it is missing:
#   interop      python3-zmq (libzmq and pyzmq) for Debian's /usr/bin/python3,
#                which the interop tests drive
#   zeromqjs     node and npm (nodejs, npm), then zeromq.js (a libzmq with the
#                draft API) by `npm ci` in interop/node, for the draft socket
#                types' interop tests (interop/peer.mjs)
#   browser      Chromium (chromium; and nodejs, npm), then jszmq and esbuild
#                by `npm ci` in interop/browser, for the tests that run jszmq
#                in headless Chromium against azmq (interop/browser_test.go)
#   jeromq       JeroMQ 0.3.x (libjeromq-java, a ZMTP 2.0 peer) and a headless
#                JDK (default-jdk-headless), for interop/jeromq_test.go
#   windows      wine, wine64 and mingw-w64, to run the Windows test binaries
#                (scripts/wine-setup.sh prepares Wine)
#   walkthrough  git, to clone the repository (scripts/walkthrough.sh)
#
# Usage: scripts/deps.sh [--strict] [LEG...]  (default: every leg, the
# windows leg left out when SKIP_WINDOWS=1).
#
# It installs Debian's packages as root, or through passwordless sudo
# (zeromq.js, jszmq and esbuild, in the work tree, as any user). A user who can do
# neither gets one line per leg that cannot run, saying how to run it, and
# exit status 0: `make test` then runs without those legs. With --strict,
# or under CI (CI=true), a leg that cannot run is an error instead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

strict=
if [ "${1:-}" = --strict ]; then
	strict=1
	shift
fi
want=("$@")
if [ ${#want[@]} -eq 0 ]; then
	for leg in "${legs[@]}"; do
		[ "$leg" = windows ] && [ "${SKIP_WINDOWS:-}" = 1 ] && continue
		want+=("$leg")
	done
fi

missing=()
pkgs=()
for leg in "${want[@]}"; do
	if leg_has_prereqs "$leg"; then
		echo "$(leg_name "$leg"): prerequisites present ($(leg_detail "$leg"))"
	else
		missing+=("$leg")
		# shellcheck disable=SC2207
		pkgs+=($(leg_packages "$leg"))
	fi
done
[ ${#missing[@]} -gt 0 ] || exit 0

if [ ${#pkgs[@]} -gt 0 ] && can_install; then
	echo "installing with apt-get: ${pkgs[*]}"
	# env inside the prefix: sudo does not pass the environment on.
	apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
	timeout 10m "${apt[@]}" update -qq
	timeout 20m "${apt[@]}" install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
for leg in "${missing[@]}"; do
	leg_has_prereqs "$leg" || leg_install_more "$leg" || true
done
failed=0
for leg in "${missing[@]}"; do
	if leg_has_prereqs "$leg"; then
		echo "$(leg_name "$leg"): prerequisites installed ($(leg_detail "$leg"))"
	elif [ -n "$strict" ] || in_ci; then
		line=$(leg_skip_line "$leg")
		printf 'error: %s cannot run: %s\n' "$(leg_name "$leg")" "${line#*skipped: }" >&2
		failed=1
	else
		leg_skip_line "$leg"
	fi
done
exit "$failed"
