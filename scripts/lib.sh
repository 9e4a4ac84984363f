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

# have_cmd tells whether a command is on PATH and executable (bash's
# command -v also names a file that is there but not executable).
have_cmd() { # name
	local p
	p=$(command -v "$1") && [ -x "$p" ]
}

# in_ci tells whether this run is CI's (CI=true, as CI services set it).
# There a leg whose prerequisites are missing fails; it never skips.
in_ci() {
	case "${CI:-}" in
	true | 1 | yes) return 0 ;;
	esac
	return 1
}

# The legs of `make test` that need something beyond Go, what each needs
# (Debian packages) and how to tell it is there.
legs=(interop windows walkthrough)

leg_packages() { # leg
	case $1 in
	interop) echo python3-zmq ;;
	windows) echo wine wine64 gcc-mingw-w64-x86-64-win32 ;;
	walkthrough) echo git ;;
	*) die "unknown leg $1" ;;
	esac
}

leg_has_prereqs() { # leg
	case $1 in
	# Debian's interpreter: the interop tests run /usr/bin/python3.
	interop) /usr/bin/python3 -c 'import zmq; zmq.zmq_version()' >/dev/null 2>&1 ;;
	windows) have_cmd wine && have_cmd x86_64-w64-mingw32-gcc ;;
	walkthrough) have_cmd git ;;
	*) die "unknown leg $1" ;;
	esac
}

# leg_detail says which versions a leg found, for the log.
leg_detail() { # leg
	case $1 in
	interop) echo "libzmq $(/usr/bin/python3 -c 'import zmq; print(zmq.zmq_version())' 2>/dev/null)" ;;
	windows) echo "$(wine --version 2>/dev/null), $(x86_64-w64-mingw32-gcc -dumpversion 2>/dev/null | sed 's/^/mingw-w64 gcc /')" ;;
	walkthrough) git --version ;;
	esac
}

# leg_what names what a leg misses, as the subject of "is not installed".
leg_what() { # leg
	case $1 in
	interop) echo "python3-zmq (libzmq and pyzmq for /usr/bin/python3)" ;;
	windows) echo "Wine or mingw-w64 (which builds Wine's ProcessPrng shim)" ;;
	walkthrough) echo "git" ;;
	esac
}

# leg_rerun says how to run a leg once its prerequisites are there.
leg_rerun() { # leg
	case $1 in
	interop) echo 'as root run `make deps`, then `make test`' ;;
	windows) echo 'as root run `make windows-test`' ;;
	walkthrough) echo 'as root run `make deps`, then `make walkthrough`' ;;
	esac
}

# leg_name is how the one-line notices call a leg.
leg_name() { # leg
	case $1 in
	interop) echo "interop tests" ;;
	windows) echo "windows leg" ;;
	walkthrough) echo "walkthrough" ;;
	esac
}

# can_install tells whether this user can install Debian packages, and
# sets as_root to the prefix that runs a command with root's rights: empty
# for root, sudo -n for a user with passwordless sudo.
as_root=()
can_install() {
	have_cmd apt-get || return 1
	if [ "$(id -u)" -eq 0 ]; then
		as_root=()
		return 0
	fi
	if have_cmd sudo && sudo -n true 2>/dev/null; then
		as_root=(sudo -n)
		return 0
	fi
	return 1
}

# why_not_installable says, in a few words, why can_install failed.
why_not_installable() {
	if can_install; then
		echo "installing it failed (see scripts/deps.sh's output)"
	elif ! have_cmd apt-get; then
		echo "this machine has no apt-get to install it with"
	else
		echo "this user cannot install it (not root, no passwordless sudo)"
	fi
}

# leg_skip_line is the one line that says a leg does not run, why, and
# how to run it.
leg_skip_line() { # leg
	echo "$(leg_name "$1") skipped: $(leg_what "$1") is not installed and $(why_not_installable); $(leg_rerun "$1")"
}

# leg_ready tells whether a leg can run. When it cannot, it fails the run
# under CI or when strict is given, and otherwise prints leg_skip_line and
# returns 1.
leg_ready() { # leg [strict]
	local leg=$1 strict=${2:-} line
	leg_has_prereqs "$leg" && return 0
	line=$(leg_skip_line "$leg")
	if [ -n "$strict" ] || in_ci; then
		die "$(leg_name "$leg") cannot run: ${line#*skipped: }"
	fi
	echo "$line"
	return 1
}
