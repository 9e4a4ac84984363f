#!/usr/bin/env bash
# Installs what the tests need on a Debian machine: python3-zmq (libzmq +
# pyzmq) for Debian's /usr/bin/python3, which the interop tests drive.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

py=/usr/bin/python3
if "$py" -c 'import zmq' 2>/dev/null; then
	echo "python3-zmq present: libzmq $("$py" -c 'import zmq; print(zmq.zmq_version())')"
	exit 0
fi
echo "python3-zmq missing for $py: installing it with apt-get"
command -v apt-get >/dev/null || die "no apt-get: install python3-zmq (pyzmq for $py) by hand"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: run 'apt-get install -y python3-zmq' as root"
	sudo=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends python3-zmq >/dev/null
"$py" -c 'import zmq' || die "python3-zmq installed, but $py still cannot import zmq"
echo "python3-zmq installed: libzmq $("$py" -c 'import zmq; print(zmq.zmq_version())')"
