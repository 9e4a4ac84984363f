# Shared helpers for the scripts in this directory; source it.

# section prints a header that stands out in a CI log.
section() {
	printf '\n==== %s ====\n' "$*"
}

# die prints a message on stderr and exits non-zero.
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# test_packages lists the import paths of the packages that have tests, for
# the GOOS in the environment.
test_packages() {
	go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... | sed '/^$/d'
}

# need_libzmq_dev makes sure libzmq's development files (zmq.h and the
# pkg-config file) are there for the C benchmark programs. When they are
# missing it installs Debian's libzmq3-dev with apt-get as root, and
# otherwise says in one line what to install.
need_libzmq_dev() {
	command -v pkg-config >/dev/null && pkg-config --exists libzmq && return 0
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		echo "libzmq's development files are missing: installing libzmq3-dev with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -qq --no-install-recommends libzmq3-dev pkg-config >/dev/null ||
			{ apt-get update -qq && apt-get install -y -qq --no-install-recommends libzmq3-dev pkg-config >/dev/null; } ||
			die "apt-get install libzmq3-dev failed"
		pkg-config --exists libzmq && return 0
	fi
	die "libzmq's development files are missing (pkg-config libzmq finds nothing): install libzmq3-dev and pkg-config (Debian, Ubuntu; as root: apt-get install -y libzmq3-dev pkg-config), or your system's libzmq headers, and run again"
}
