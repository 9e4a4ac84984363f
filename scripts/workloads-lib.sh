# What scripts/bench-fanout.sh and bench-broker.sh share; source it after
# scripts/lib.sh, with NICE set: it raises the file descriptor limit for
# 1,000 connections, builds build/workloads (bench/workloads, azmq) and
# build/workloads-libzmq (bench/libzmq-workloads, over libzmq), and
# defines prio (the nice prefix), bin_of and kv.

ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] ||
	die "ulimit -n is $(ulimit -n): 1,000 connections need 4096 file descriptors (raise the hard limit, or run as root)"

section "build build/workloads and build/workloads-libzmq"
go build -o build/workloads ./bench/workloads
need_libzmq_dev
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -O2 -Wall -o build/workloads-libzmq bench/libzmq-workloads/workloads.c $(pkg-config --cflags --libs libzmq)

prio=()
if [ "$(nice -n "$NICE" nice 2>/dev/null)" = "$(($(nice) + NICE))" ]; then
	prio=(nice -n "$NICE")
fi

bin_of() { # implementation -> its workloads binary
	case $1 in
	azmq) echo "$PWD/build/workloads" ;;
	libzmq) echo "$PWD/build/workloads-libzmq" ;;
	*) die "unknown implementation $1" ;;
	esac
}

# kv FILE KEY: the value of KEY=... in FILE's output line.
kv() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1; }
