#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run runs the README's two
# commands, the second being this script).
#
# Installs the build dependencies when they are missing (Debian 12, as
# root), then builds out of tree and runs `make check` for each context
# backend (forked and with CK_FORK=no), under AddressSanitizer with
# UndefinedBehaviorSanitizer, under ThreadSanitizer, under valgrind,
# cross-built for aarch64 and riscv64 and run under qemu-user
# (scripts/test-cross.sh), and with Debian's hardening flags; then the
# demo, a DESTDIR install and uninstall, a program built against the
# installed library through pkg-config and through CMake's find_package,
# the ABI against abi/'s baseline, the exported symbols, the benchmarks in
# quick mode, two builds that must give the same bytes, and `make
# distcheck` for a shared-only and a static-only build.
#
# Every check counts: each Check test passed or failed, and one result
# for each of the other checks.  A variant that does not configure or
# build, a `make check` that fails without a failing Check summary (a test
# that crashed, hung or did not build) and a check that cannot run count
# as failed.  Ends with one line: "tests: N passed, N failed", and exits
# non-zero when anything failed.
#
# Environment: SNOW_TEST_DIR, where the builds go (default build-test in
# the source tree); SNOW_TEST_CONFIGURE_FLAGS, extra configure arguments
# for every variant.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
work=${SNOW_TEST_DIR:-$top/build-test}
case $work in /*) ;; *) work=$PWD/$work ;; esac
extra_flags=${SNOW_TEST_CONFIGURE_FLAGS:-}
passed=0
failed=0
failures=()
failure_why=()

log() { printf '\n=== %s\n' "$*"; }
pass() { passed=$((passed + 1)); echo "$1: ok"; }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "$1: FAILED${2:+ ($2)}"; }
finish() {
	echo
	[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
	[ ${#failure_why[@]} -eq 0 ] || printf 'why: %s\n' "${failure_why[@]}"
	echo "tests: $passed passed, $failed failed"
	exit $((failed == 0 ? 0 : 1))
}

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
	# What the packaging checks use: the ABI check, the CMake package,
	# the man pages' lint and Debian's hardening flags.
	command -v abidiff >/dev/null || missing+=(abigail-tools)
	command -v cmake >/dev/null || missing+=(cmake)
	command -v mandoc >/dev/null || missing+=(mandoc)
	command -v dpkg-buildflags >/dev/null || missing+=(dpkg-dev)
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

# A source tree configured in place (./configure run at the top, as an
# older README said) cannot also be built out of tree: every variant's
# configure would stop with "source directory already configured".  Build
# from a clean copy of the sources instead.  A copy rather than `make
# distclean`: the tree and the build in it are left exactly as they were,
# and the copy holds the working tree's sources, uncommitted edits
# included, as the out-of-tree builds would have.
use_clean_copy() {
	local src=$work/src rel
	log "the source tree is configured in place (config.status or Makefile at the top):" \
	    "leaving it alone and building from a clean copy in $src"
	rm -rf "$src" && mkdir -p "$src" || return 1
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# The files git knows, and new ones it does not ignore: the
		# autotools output and the builds are all ignored.
		(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		    while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		    done | tar --null -T - -cf - | tar -C "$src" -xf -) || return 1
	else
		# Not a git checkout (an unpacked release, say): copy it all but
		# the test builds, then clean the copy's in-place build.
		rel=${work#"$top"/}
		(cd "$top" && tar --exclude="./$rel" -cf - .) | tar -C "$src" -xf - || return 1
		(cd "$src" && make -s distclean >/dev/null 2>&1) ||
		    rm -f "$src/config.status" "$src/Makefile"
	fi
	[ ! -e "$src/config.status" ] && [ ! -e "$src/Makefile" ] || return 1
	top=$src
	cd "$top"
}

# count_checks NAME TARGET DIR: the test logs' results into passed, failed
# and failures; scripts/test-cross.sh counts with it too.
# shellcheck source=scripts/count-checks.sh
. "$top/scripts/count-checks.sh"

# configure+build+check one variant in its own directory:
#   check_variant NAME TARGETS CONFIGURE-ARGS...
# TARGETS is a comma-separated list of: check, nofork (make check with
# CK_FORK=no), valgrind (make check-valgrind).  Returns non-zero when
# anything failed; the failures are counted either way.
check_variant() {
	local name=$1 targets=$2; shift 2
	local dir=$work/$name status=0 t rc
	# shellcheck disable=SC2086  # extra_flags: words on purpose
	set -- "$@" $extra_flags
	log "$name: configure $*"
	if ! { rm -rf "$dir" && mkdir -p "$dir"; }; then
		fail "$name: build" "cannot make $dir"; return 1
	fi
	if ! (cd "$dir" && "$top/configure" -q "$@"); then
		fail "$name: configure" "see $dir/config.log"; return 1
	fi
	if ! (cd "$dir" && make -s -j"$jobs"); then
		fail "$name: build"; return 1
	fi
	for t in ${targets//,/ }; do
		log "$name: $t"
		rm -f "$dir"/tests/*.log "$dir"/scripts/*.log
		rc=0
		case $t in
		check) (cd "$dir" && make -s -j"$jobs" check) || rc=$? ;;
		nofork) (cd "$dir" && CK_FORK=no make -s -j"$jobs" check) || rc=$? ;;
		valgrind) (cd "$dir" && make -s -j"$jobs" check-valgrind) || rc=$? ;;
		*) echo "check_variant: unknown target $t" >&2; rc=2 ;;
		esac
		count_checks "$name" "$t" "$dir"
		grep -h '^soak:' "$dir"/tests/*.log 2>/dev/null || true
		if [ "$rc" -ne 0 ]; then
			status=1
			# make failed, yet no test log showed a failure: a test
			# program that did not build, or the harness itself.
			[ "$added" -gt 0 ] || fail "$name: $t" "make exited $rc, no failing Check summary"
			cat "$dir"/tests/*.log >&2 2>/dev/null || true
		elif ! ls "$dir"/tests/*.log >/dev/null 2>&1; then
			status=1
			fail "$name: $t" "make check passed but ran no test"
		elif [ "$added" -gt 0 ]; then
			status=1	# Check counted failures, make did not see them
		fi
	done
	return $status
}

need_packages
if [ -e "$top/config.status" ] || [ -e "$top/Makefile" ]; then
	if ! use_clean_copy; then
		fail "clean copy of the sources" "$work/src"
		finish
	fi
fi
log "autoreconf"
if ! { autoreconf -fi >/dev/null 2>&1 || autoreconf -fi; }; then
	fail "autoreconf"
	finish
fi

prefix=$work/prefix
fast=$work/fast
check_variant fast check,nofork --with-context=fast --prefix="$prefix" || true
check_variant ucontext check,nofork --with-context=ucontext || true
check_variant asan-ubsan check --enable-sanitizer=address,undefined || true
check_variant tsan check --enable-sanitizer=thread || true
check_variant valgrind valgrind || true

# The whole suite again for aarch64 and riscv64: cross-built and run under
# qemu-user by scripts/test-cross.sh (about 5 minutes each; its sysroots
# and builds stay in $work/cross, so a rerun skips the sysroot).  Its
# Check tests count here too, from its last line, "ARCH: N passed, N
# failed"; a run that ends without that line, or exits non-zero with no
# failure counted (it could not install, configure or build), fails.
for arch in aarch64 riscv64; do
	log "cross $arch: scripts/test-cross.sh under qemu-user"
	clog=$work/cross-$arch.log
	rc=0
	SNOW_CROSS_DIR="$work/cross" bash "$top/scripts/test-cross.sh" "$arch" 2>&1 |
	    tee "$clog" || rc=${PIPESTATUS[0]}
	last=$(tail -n 1 "$clog" 2>/dev/null || true)
	if [[ $last =~ ^$arch:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		cpassed=${BASH_REMATCH[1]} cfailed=${BASH_REMATCH[2]}
		passed=$((passed + cpassed))
		failed=$((failed + cfailed))
		named=0
		while IFS= read -r line; do
			failures+=("cross $arch: ${line#failed: }"); named=1
		done < <(grep '^failed: ' "$clog" || true)
		while IFS= read -r line; do
			failure_why+=("cross $arch: ${line#why: }")
		done < <(grep '^why: ' "$clog" || true)
		# Its own die() names no test: say where to look.
		[ "$cfailed" -eq 0 ] || [ "$named" -eq 1 ] ||
		    failures+=("cross $arch (see $clog)")
		if [ "$rc" -ne 0 ] && [ "$cfailed" -eq 0 ]; then
			fail "cross $arch" "test-cross.sh exited $rc with no failure counted"
		fi
	else
		fail "cross $arch" "test-cross.sh exited $rc without its summary line, see $clog"
	fi
done

# Debian's hardening flags, as a package build gets them from
# dpkg-buildflags (hardening=+all), plus the two that bookworm's dpkg does
# not add yet: -fstack-clash-protection (configure adds it anyway) and
# -fcf-protection where the compiler takes it (x86).  hardened_ok says
# whether dpkg-buildflags answered.
hardened_ok=1
hard_cflags=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS) || hardened_ok=0
hard_cppflags=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS) || hardened_ok=0
hard_ldflags=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS) || hardened_ok=0
hard_cflags="$hard_cflags -fstack-clash-protection"
if echo 'int x;' | cc -fcf-protection -Werror -x c -c -o /dev/null - 2>/dev/null; then
	hard_cflags="$hard_cflags -fcf-protection"
fi
if [ "$hardened_ok" -eq 1 ]; then
	check_variant hardened check CFLAGS="$hard_cflags" \
	    CPPFLAGS="$hard_cppflags" LDFLAGS="$hard_ldflags" || true
	# The flags reached the compiler, and did what they do: the stack
	# protector's calls and fortified functions in the library.
	log "hardened: flags in the build"
	why=
	hlib=$work/hardened/.libs/libsnow-rt.so
	for f in -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	    -fstack-clash-protection -Wl,-z,relro -Wl,-z,now; do
		grep -qe "$f" "$work/hardened/Makefile" 2>/dev/null ||
		    why="${why:+$why, }$f not in its Makefile"
	done
	if [ ! -f "$hlib" ]; then
		why="${why:+$why, }no $hlib"
	else
		hsyms=$(nm -D "$hlib" 2>/dev/null || true)
		grep -q '__stack_chk_fail' <<<"$hsyms" ||
		    why="${why:+$why, }no __stack_chk_fail in $hlib"
		grep -qE '__[a-z]+_chk' <<<"$(grep -v __stack_chk_fail <<<"$hsyms")" ||
		    why="${why:+$why, }no fortified call in $hlib"
	fi
	if [ -z "$why" ]; then pass "hardened flags"; else fail "hardened flags" "$why"; fi
else
	fail "hardened: configure" "dpkg-buildflags failed"
fi

# The checks below use the fast build; when it did not build they fail
# as well (they cannot run), and say so.
log "demo"
demo_out=$("$fast/examples/spawn-tree" 2>&1) && demo_rc=0 || demo_rc=$?
printf '%s\n' "$demo_out"
if [ "$demo_rc" -eq 0 ] &&
   grep -qx 'spawn-tree: 1111111 actors (1000000 leaves), sum 499999500000 (expected 499999500000)' <<<"$demo_out" &&
   grep -qx 'OK' <<<"$demo_out"; then
	pass "demo"
else
	fail "demo" "exit $demo_rc, or not the expected output"
fi

log "DESTDIR install and uninstall"
# A package build installs into a staging directory: every file goes
# under DESTDIR, none into the prefix itself, and uninstall takes back
# all of them.
destdir=$work/destdir
rm -rf "$prefix" "$destdir"
why=
if ! (cd "$fast" && make -s install DESTDIR="$destdir" >"$work/destdir.log" 2>&1); then
	why="make install DESTDIR=... failed"; tail -20 "$work/destdir.log" 2>/dev/null || true
elif [ -e "$prefix" ]; then
	why="make install DESTDIR=... wrote into $prefix"
else
	for f in include/snow/runtime.h lib/libsnow-rt.so lib/libsnow-rt.a \
	    lib/pkgconfig/snow-rt.pc lib/cmake/snow-rt/snow-rt-config.cmake \
	    lib/cmake/snow-rt/snow-rt-config-version.cmake \
	    share/man/man3/snow_actor_spawn.3 share/man/man7/snow-rt.7; do
		[ -e "$destdir$prefix/$f" ] || why="${why:+$why, }no $f under DESTDIR"
	done
	if [ -z "$why" ]; then
		(cd "$fast" && make -s uninstall DESTDIR="$destdir" >>"$work/destdir.log" 2>&1) ||
		    why="make uninstall DESTDIR=... failed"
		left=$(find "$destdir" -type f 2>/dev/null | head -5)
		[ -z "$left" ] || why="${why:+$why, }uninstall left ${left//$'\n'/ }"
	fi
fi
if [ -z "$why" ]; then pass "DESTDIR install"; else fail "DESTDIR install" "$why"; fi

log "install and build against it with pkg-config"
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
rm -rf "$prefix" "$work/hello"
why=
# shellcheck disable=SC2086  # pc_flags: words on purpose
if ! (cd "$fast" && make -s install >"$work/install.log" 2>&1); then
	why="make install failed"; tail -20 "$work/install.log" 2>/dev/null || true
elif [ "$(pkg-config --variable=prefix snow-rt 2>/dev/null)" != "$prefix" ]; then
	why="pkg-config does not find snow-rt.pc in $prefix"
elif ! pc_flags=$(pkg-config --cflags --libs snow-rt); then
	why="pkg-config --cflags --libs snow-rt failed"
elif ! cc -o "$work/hello" "$work/hello.c" $pc_flags; then
	why="cannot compile and link against it"
elif ! hello_out=$(LD_LIBRARY_PATH=$prefix/lib "$work/hello"); then
	why="the program failed"
elif ! grep -qE '^hello from actor [0-9]+, installed$' <<<"$hello_out"; then
	why="unexpected output: $hello_out"
fi
if [ -z "$why" ]; then pass "pkg-config build"; else fail "pkg-config build" "$why"; fi

log "build against the installed library with CMake's find_package"
# The same program, found through lib/cmake/snow-rt.
cmk=$work/cmake-hello
rm -rf "$cmk" && mkdir -p "$cmk"
cp "$work/hello.c" "$cmk/hello.c"
cat > "$cmk/CMakeLists.txt" <<'EOC'
cmake_minimum_required(VERSION 3.13)
project(hello C)
find_package(snow-rt 0.1 REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE snow-rt::snow-rt)
EOC
why=
if ! cmake -S "$cmk" -B "$cmk/build" -DCMAKE_PREFIX_PATH="$prefix" >"$cmk/cmake.log" 2>&1; then
	why="cmake could not configure it (find_package)"; tail -20 "$cmk/cmake.log"
elif ! cmake --build "$cmk/build" >>"$cmk/cmake.log" 2>&1; then
	why="cmake --build failed"; tail -20 "$cmk/cmake.log"
elif ! cmk_out=$("$cmk/build/hello"); then
	why="the program failed"
elif ! grep -qE '^hello from actor [0-9]+, installed$' <<<"$cmk_out"; then
	why="unexpected output: $cmk_out"
elif ! grep -q -- -fstack-clash-protection "$cmk/build/CMakeFiles/hello.dir/flags.make" 2>/dev/null &&
     grep -q -- -fstack-clash-protection <<<"$pc_flags"; then
	why="the target does not carry -fstack-clash-protection"
fi
if [ -z "$why" ]; then pass "cmake find_package"; else fail "cmake find_package" "$why"; fi

log "man pages: mandoc -Tlint"
# make check ran scripts/check-man.sh in every variant, where the lint is
# skipped if mandoc is missing; here mandoc must be there.
if bash "$top/scripts/check-man.sh" --lint-only "$top"; then
	pass "man page lint"
else
	fail "man page lint"
fi
# Installed where man finds them (man itself only where it is there).
why=
for f in man3/snow_actor_spawn.3 man3/snow_io_read.3 man7/snow-rt.7; do
	[ -f "$prefix/share/man/$f" ] || why="${why:+$why, }no $f under $prefix/share/man"
done
if [ -z "$why" ] && command -v man >/dev/null &&
   ! MANPATH=$prefix/share/man man -w snow_actor_spawn >/dev/null 2>&1; then
	why="man -w snow_actor_spawn does not find it"
fi
if [ -z "$why" ]; then pass "man pages installed"; else fail "man pages installed" "$why"; fi

log "ABI against the baseline (abi/)"
if (cd "$fast" && make -s abi-check); then
	pass "abi-check"
else
	fail "abi-check" "see the report above"
fi

log "exported symbols"
lib=$prefix/lib/libsnow-rt.so
why=
if [ ! -f "$lib" ]; then
	why="$lib is missing"
elif ! syms=$(nm -D --defined-only "$lib"); then
	why="nm failed on $lib"
else
	exported=$(awk 'NF >= 3 {print $3}' <<<"$syms")
	others=$(grep -v '^snow_' <<<"$exported" || true)
	if ! grep -qx 'snow_rt_init_actor' <<<"$exported"; then
		why="snow_rt_init_actor is not among its exports"
	elif [ -n "$others" ]; then
		why="exports beyond snow_: ${others//$'\n'/ }"
	fi
fi
if [ -z "$why" ]; then pass "exports (only snow_ symbols)"; else fail "exports" "$why"; fi

log "benchmarks, quick mode (they build, run and check their results)"
results=$fast/bench/out/results.md
rm -f "$results"
why=
if ! (cd "$fast" && make -s bench-quick > "$work/bench-quick.log" 2>&1); then
	why="make bench-quick failed"
elif [ ! -s "$results" ]; then
	why="no $results"
else
	for wl in spawn-tree spawn-flat yield-storm resident skynet-msg ping-pong ring; do
		grep -q "^| $wl |" "$results" || why="${why:+$why, }$wl missing from the table"
	done
fi
if [ -z "$why" ]; then
	pass "bench-quick"
	grep '^|' "$results" || true
else
	fail "bench-quick" "$why"
	tail -30 "$work/bench-quick.log" 2>/dev/null || true
fi

log "reproducible: two builds in two directories give the same library"
# Debian builds with -ffile-prefix-map (dpkg-buildflags), which takes the
# build's own paths out of the debug information; with it the bytes must
# not depend on where or when the library was built.
why=
for r in 1 2; do
	rdir=$work/repro$r
	rm -rf "$rdir" && mkdir -p "$rdir" || why="cannot make $rdir"
	[ -z "$why" ] || break
	if [ "$r" -eq 2 ]; then sleep 1; fi	# a later clock, too
	if ! (cd "$rdir" && "$top/configure" -q \
	    CFLAGS="-g -O2 -ffile-prefix-map=$top=. -ffile-prefix-map=$rdir=." &&
	    make -s -j"$jobs" libsnow-rt.la) >"$rdir.log" 2>&1; then
		why="build $r failed"; tail -20 "$rdir.log"; break
	fi
done
if [ -z "$why" ]; then
	for f in .libs/libsnow-rt.so.0.0.0 .libs/libsnow-rt.a; do
		if [ ! -f "$work/repro1/$f" ]; then
			why="${why:+$why, }no $f"
		elif ! cmp -s "$work/repro1/$f" "$work/repro2/$f"; then
			why="${why:+$why, }$f differs"
		fi
	done
fi
if [ -z "$why" ]; then pass "reproducible build"; else fail "reproducible build" "$why"; fi

# make distcheck for the two ways a distribution builds the library: as a
# shared library only, and as a static one only.  Each builds the tarball,
# builds it read-only out of tree, runs make check, installs, uninstalls.
# Their make check runs scaled down (SNOW_TEST_SCALE_DOWN=1, lower counts
# as under valgrind): the full counts ran above, and these are about what
# the tarball holds and how it builds.
for dc in "--disable-static" "--enable-static --disable-shared"; do
	name="distcheck ($dc)"
	log "make $name"
	dclog=$work/distcheck-${dc//[^a-z]/}.log
	if (cd "$fast" && SNOW_TEST_SCALE_DOWN=1 make -s -j"$jobs" distcheck \
	    DISTCHECK_CONFIGURE_FLAGS="$dc" > "$dclog" 2>&1) &&
	   grep -q 'archives ready for distribution' "$dclog"; then
		pass "$name"
	else
		fail "$name"
		tail -40 "$dclog" 2>/dev/null || true
	fi
done

finish
