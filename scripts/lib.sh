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
legs=(interop zeromqjs browser jeromq windows walkthrough)

leg_packages() { # leg
	case $1 in
	interop) echo python3-zmq ;;
	# Debian's nodejs leaves npm to a package of its own; NodeSource's
	# brings npm with it, so npm is asked for only when it is missing.
	zeromqjs)
		have_cmd node || echo nodejs
		have_cmd npm || echo npm
		;;
	# Debian's Chromium, run headless; jszmq and esbuild come from npm.
	browser)
		have_cmd chromium || echo chromium
		have_cmd node || echo nodejs
		have_cmd npm || echo npm
		;;
	# JeroMQ 0.3.x (ZMTP 2.0), run by a headless JDK.
	jeromq)
		[ -f /usr/share/java/jeromq.jar ] || echo libjeromq-java
		have_cmd java || echo default-jdk-headless
		;;
	windows) echo wine wine64 gcc-mingw-w64-x86-64-win32 ;;
	walkthrough) echo git ;;
	*) die "unknown leg $1" ;;
	esac
}

leg_has_prereqs() { # leg
	case $1 in
	# Debian's interpreter: the interop tests run /usr/bin/python3.
	interop) /usr/bin/python3 -c 'import zmq; zmq.zmq_version()' >/dev/null 2>&1 ;;
	# What the Go tests check too: zeromq.js loads from interop/node, and
	# its libzmq has the draft API.
	zeromqjs) have_cmd node && (cd interop/node && node --no-warnings -e "$zeromqjs_check") >/dev/null 2>&1 ;;
	# What the Go tests need too: chromium on PATH, and esbuild and jszmq
	# in interop/browser.
	browser) have_cmd chromium && have_cmd node && (cd interop/browser && node -e "$browser_check") >/dev/null 2>&1 ;;
	# What the Go tests check too (interop/jeromq_test.go).
	jeromq) have_cmd java && [ -f /usr/share/java/jeromq.jar ] ;;
	windows) have_cmd wine && have_cmd x86_64-w64-mingw32-gcc ;;
	walkthrough) have_cmd git ;;
	*) die "unknown leg $1" ;;
	esac
}

# leg_detail says which versions a leg found, for the log.
leg_detail() { # leg
	case $1 in
	interop) echo "libzmq $(/usr/bin/python3 -c 'import zmq; print(zmq.zmq_version())' 2>/dev/null)" ;;
	zeromqjs) (cd interop/node && node --no-warnings -e "$zeromqjs_check" 2>/dev/null) ;;
	browser) echo "$(chromium --version 2>/dev/null), $(cd interop/browser && node -e "$browser_check" 2>/dev/null)" ;;
	jeromq) echo "JeroMQ $(dpkg-query -W -f='${Version}' libjeromq-java 2>/dev/null), $(java -version 2>&1 | head -n 1)" ;;
	windows) echo "$(wine --version 2>/dev/null), $(x86_64-w64-mingw32-gcc -dumpversion 2>/dev/null | sed 's/^/mingw-w64 gcc /')" ;;
	walkthrough) git --version ;;
	esac
}

# leg_what names what a leg misses, as the subject of "is not installed".
leg_what() { # leg
	case $1 in
	interop) echo "python3-zmq (libzmq and pyzmq for /usr/bin/python3)" ;;
	zeromqjs) echo "zeromq.js (node, npm and interop/node's npm packages: a libzmq with the draft API)" ;;
	browser) echo "a browser (Chromium, node, npm and interop/browser's npm packages: jszmq and esbuild)" ;;
	jeromq) echo "JeroMQ or java (libjeromq-java, a ZMTP 2.0 peer, and a headless JDK)" ;;
	windows) echo "Wine or mingw-w64 (which builds Wine's ProcessPrng shim)" ;;
	walkthrough) echo "git" ;;
	esac
}

# leg_rerun says how to run a leg once its prerequisites are there.
leg_rerun() { # leg
	case $1 in
	interop) echo 'as root run `make deps`, then `make test`' ;;
	zeromqjs) echo 'as root run `make deps` (with node and npm there, `npm ci` in interop/node does), then `make test`' ;;
	browser) echo 'as root run `make deps` (with chromium, node and npm there, `npm ci` in interop/browser does), then `make test`' ;;
	jeromq) echo 'as root run `make deps` (or apt-get install -y libjeromq-java default-jdk-headless), then `make test`' ;;
	windows) echo 'as root run `make windows-test`' ;;
	walkthrough) echo 'as root run `make deps`, then `make walkthrough`' ;;
	esac
}

# leg_name is how the one-line notices call a leg.
leg_name() { # leg
	case $1 in
	interop) echo "interop tests" ;;
	zeromqjs) echo "zeromq.js interop tests" ;;
	browser) echo "browser interop tests" ;;
	jeromq) echo "JeroMQ (ZMTP 2.0) interop tests" ;;
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

# zeromqjs_check is node's check that zeromq.js is usable, run in
# interop/node; it prints the versions found.
# shellcheck disable=SC2016
zeromqjs_check='let z;
try { z = require("zeromq"); require("zeromq/draft"); } catch (e) { console.error(e.message.split("\n")[0]); process.exit(1); }
if (!z.capability.draft) { console.error("its libzmq " + z.version + " lacks the draft API"); process.exit(1); }
console.log("node " + process.version + ", zeromq.js " + require("zeromq/package.json").version + ", libzmq " + z.version + " with the draft API");'

# browser_check is node's check, run in interop/browser, that jszmq and
# esbuild are installed there, esbuild's binary for this platform running;
# it prints their versions.
# shellcheck disable=SC2016
browser_check='const esbuild = require("esbuild");
esbuild.transformSync("0");
console.log("jszmq " + require("jszmq/package.json").version + ", esbuild " + esbuild.version);'

# leg_install_more installs what apt-get does not, for a leg that needs it,
# once what apt-get installs is there: zeromq.js, with npm ci in
# interop/node, and jszmq and esbuild, with npm ci in interop/browser (the
# exact versions of their package-lock.json; the prebuilt binaries they
# ship, no compiler: install scripts are not run).
leg_install_more() { # leg
	case $1 in
	zeromqjs)
		have_cmd node && have_cmd npm || return 1
		echo "installing zeromq.js: npm ci in interop/node"
		(cd interop/node && timeout 10m npm ci --ignore-scripts --no-audit --no-fund)
		;;
	browser)
		have_cmd chromium && have_cmd node && have_cmd npm || return 1
		echo "installing jszmq and esbuild: npm ci in interop/browser"
		(cd interop/browser && timeout 10m npm ci --ignore-scripts --no-audit --no-fund)
		;;
	esac
}

# leg_why_not says, in a few words, why a leg's prerequisites could not be
# installed.
leg_why_not() { # leg
	if [ "$1" = zeromqjs ] && have_cmd node && have_cmd npm; then
		echo "npm ci in interop/node did not install it (see scripts/deps.sh's output)"
		return
	fi
	if [ "$1" = browser ] && have_cmd chromium && have_cmd node && have_cmd npm; then
		echo "npm ci in interop/browser did not install it (see scripts/deps.sh's output)"
		return
	fi
	why_not_installable
}

# leg_skip_line is the one line that says a leg does not run, why, and
# how to run it.
leg_skip_line() { # leg
	echo "$(leg_name "$1") skipped: $(leg_what "$1") is not installed and $(leg_why_not "$1"); $(leg_rerun "$1")"
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

# median of the numbers on stdin ("-" when there are none)
# awk_median is an awk function for the summaries' programs to splice in:
# median(list), the median of a space-separated list of numbers ("" for
# an empty list).
# shellcheck disable=SC2034 # used by the scripts that source this file
awk_median='function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) return ""
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}'

# machine prints the line a summary starts with: cores, CPU, kernel, Go
# and, given "libzmq", the system's libzmq.
machine() {
	local line
	line="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(go version | cut -d' ' -f3)"
	[ "${1:-}" = libzmq ] && line+=", libzmq $(pkg-config --modversion libzmq 2>/dev/null || echo '?')"
	echo "$line"
}

# announced FILE PID KEY: waits (up to 10 s, while PID runs) for a line
# KEY=VALUE in FILE, the stderr of a binding side that announces what it
# bound, and prints VALUE ("" when it never came).
announced() {
	local v= i
	for ((i = 0; i < 500; i++)); do
		v=$(sed -n "s/^$3=//p" "$1")
		[ -n "$v" ] && break
		kill -0 "$2" 2>/dev/null || break
		sleep 0.02
	done
	printf '%s' "$v"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }

# zjs MODE TRANSPORT SIZE N FIELD: the median FIELD of REPS runs of
# bench/peers/zeromqjs/bench.mjs (zeromq.js from interop/node).
zjs() {
	local i
	for ((i = 0; i < ${REPS:-3}; i++)); do
		timeout 300 node --no-warnings bench/peers/zeromqjs/bench.mjs "$1" "$2" "$3" "$4" |
			sed -n "s/.*\"$5\":\([0-9.]*\).*/\1/p"
	done | median
}

# azmq_cell FILE TRANSPORT SIZE [PATTERN]: "msgs/s latency" of one row of
# an `azmq bench` table (PATTERN for a -patterns table).
azmq_cell() {
	awk -v p="${4:-}" -v t="$2" -v s="$3" '
		(p == "" && $1 == t) || (p != "" && $1 == p && $2 == t) {
			o = (p == "") ? 0 : 1
			n = $(2 + o); u = $(3 + o)
			b = (u == "KiB") ? n * 1024 : (u == "MiB" ? n * 1048576 : n)
			if (b == s) { print $(4 + o), $(6 + o); exit }
		}' "$1"
}
