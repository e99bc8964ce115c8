#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script).
#
# Installs the build dependencies when they are missing (Debian 12, as
# root), then builds out of tree and runs `make check` for each context
# backend (forked and with CK_FORK=no), under AddressSanitizer with
# UndefinedBehaviorSanitizer, under ThreadSanitizer and under valgrind;
# then the benchmarks in quick mode, a program built against the installed
# library through pkg-config, and `make distcheck`.
# Ends with one line: "tests: N passed, N failed".
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
work=${SNOW_TEST_DIR:-$top/build-test}
passed=0
failed=0

log() { printf '\n=== %s\n' "$*"; }

need_packages() {
	local missing=()
	command -v autoreconf >/dev/null || missing+=(autoconf)
	command -v aclocal >/dev/null || missing+=(automake)
	command -v libtoolize >/dev/null || missing+=(libtool)
	command -v pkg-config >/dev/null || missing+=(pkg-config)
	command -v cc >/dev/null && command -v make >/dev/null || missing+=(build-essential)
	pkg-config --exists ck 2>/dev/null || missing+=(libck-dev)
	pkg-config --exists check 2>/dev/null || missing+=(check)
	command -v valgrind >/dev/null && [ -f /usr/include/valgrind/valgrind.h ] || missing+=(valgrind)
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
		exit 1
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Add up Check's "100%: Checks: N, Failures: F, Errors: E" lines of a log.
count_checks() {
	local line n f e
	while read -r line; do
		n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
		f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
		e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
		passed=$((passed + n - f - e))
		failed=$((failed + f + e))
	done < <(grep -h 'Checks: [0-9]*, Failures' "$@" || true)
}

# configure+build+check one variant in its own directory:
#   check_variant NAME TARGETS CONFIGURE-ARGS...
# TARGETS is a comma-separated list of: check, nofork (make check with
# CK_FORK=no), valgrind (make check-valgrind).
check_variant() {
	local name=$1 targets=$2; shift 2
	local dir=$work/$name status=0 t
	log "$name: configure $*"
	rm -rf "$dir" && mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs") || return 1
	for t in ${targets//,/ }; do
		log "$name: $t"
		case $t in
		check) (cd "$dir" && make -s -j"$jobs" check) || status=1 ;;
		nofork) (cd "$dir" && CK_FORK=no make -s -j"$jobs" check) || status=1 ;;
		valgrind) (cd "$dir" && make -s -j"$jobs" check-valgrind) || status=1 ;;
		esac
		count_checks "$dir"/tests/*.log
		grep -h '^soak:' "$dir"/tests/*.log 2>/dev/null || true
	done
	if [ $status -ne 0 ]; then
		cat "$dir"/tests/*.log >&2 || true
	fi
	return $status
}

need_packages
log "autoreconf"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

status=0
prefix=$work/prefix
check_variant fast check,nofork --with-context=fast --prefix="$prefix" || status=1
check_variant ucontext check,nofork --with-context=ucontext || status=1
check_variant asan-ubsan check --enable-sanitizer=address,undefined || status=1
check_variant tsan check --enable-sanitizer=thread || status=1
check_variant valgrind valgrind || status=1

log "demo"
"$work/fast/examples/spawn-tree" || status=1

log "install and build against it with pkg-config"
rm -rf "$prefix"
(cd "$work/fast" && make -s install >/dev/null 2>&1) || status=1
cat > "$work/hello.c" <<'EOC'
#include <snow/runtime.h>
#include <stdio.h>
static void hello(const void *arg) { printf("hello from actor %llu, %s\n",
    (unsigned long long)snow_actor_self(), (const char *)arg); }
int main(void) {
	if (snow_rt_init_actor(0) != 0) return 1;
	if (snow_actor_spawn(hello, "installed", 10, SNOW_PRIO_NORMAL) == 0) return 1;
	return snow_rt_run_scheduler();
}
EOC
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
if cc -o "$work/hello" "$work/hello.c" $(pkg-config --cflags --libs snow-rt) &&
   LD_LIBRARY_PATH=$prefix/lib "$work/hello" | grep -q 'hello from actor'; then
	passed=$((passed + 1)); echo "pkg-config build: ok"
else
	failed=$((failed + 1)); echo "pkg-config build: FAILED"; status=1
fi
exported=$(nm -D --defined-only "$prefix/lib/libsnow-rt.so" | awk '{print $3}' | grep -v '^snow_' || true)
if [ -z "$exported" ]; then
	passed=$((passed + 1)); echo "exports: only snow_ symbols"
else
	failed=$((failed + 1)); echo "exports beyond snow_: $exported"; status=1
fi

log "benchmarks, quick mode (they build, run and check their results)"
if (cd "$work/fast" && make -s bench-quick > "$work/bench-quick.log" 2>&1); then
	passed=$((passed + 1)); echo "bench-quick: ok"
	grep '^|' "$work/fast/bench/out/results.md" || true
else
	failed=$((failed + 1)); echo "bench-quick: FAILED"; tail -30 "$work/bench-quick.log"; status=1
fi

log "make distcheck"
if (cd "$work/fast" && make -s -j"$jobs" distcheck >/dev/null); then
	passed=$((passed + 1)); echo "distcheck: ok"
else
	failed=$((failed + 1)); echo "distcheck: FAILED"; status=1
fi

echo
echo "tests: $passed passed, $failed failed"
exit $status
