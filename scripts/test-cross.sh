#!/usr/bin/env bash
# The whole test suite cross-built for another CPU and run under
# qemu-user: scripts/test-cross.sh aarch64|riscv64.
#
# Installs what it needs when missing (Debian 12, as root): the cross
# compiler, qemu-user, and the target's Concurrency Kit and Check, then
# builds out of tree with --host and runs `make check` with every test
# program started by qemu-ARCH (LOG_COMPILER; binfmt_misc is not relied
# on, as a container may not have it).
#
# Where the target's libraries come from, Debian's archive only:
#  - aarch64: Check through multiarch (check:arm64 is Multi-Arch: same);
#    Concurrency Kit is Debian's libck-dev:arm64 and libck0:arm64, but
#    unpacked into a private sysroot (apt-get download, dpkg-deb -x): libck0
#    is not Multi-Arch: same, so installing the arm64 one removes the
#    machine's own libck-dev and breaks the native build.
#  - riscv64: Debian 12 has no riscv64 architecture, so no riscv64
#    packages.  The sources of Debian's ck and check packages are fetched
#    with apt-get source (through a private apt list of the archive's
#    deb-src, so the machine's apt configuration is left alone; apt checks
#    them against the archive's signed index) and cross-built into the
#    private sysroot.  ck 0.7.1 has no riscv64 port: its configure takes
#    the unknown platform path, where ck_pr is GCC's __atomic builtins
#    (CK_USE_CC_BUILTINS=1, which its ck.pc passes on).
#
# Emulation is slow (about 5 to 20 times, more for a system call): the
# tests run scaled down (SNOW_TEST_SCALE_DOWN=1: lower counts, the same
# checks) and Check's timeouts are stretched (CK_TIMEOUT_MULTIPLIER,
# default 10; tests/test_env.h's slack() reads SNOW_TEST_SLACK for the
# tests' own time bounds, default 10 here).  SNOW_TEST_EMULATED tells
# the tests that the process is the emulator's, so its VmRSS counts
# qemu's own memory too (tests/check_soak.c).
#
# Ends with "ARCH: N passed, N failed", counting Check's tests as
# test-all.sh does (scripts/count-checks.sh), and exits non-zero when
# anything failed; test-all.sh adds these counts to its own.
#
# Environment: SNOW_CROSS_DIR, where builds and the sysroot go (default
# build-cross in the source tree); SNOW_CROSS_CONTEXT, the backend
# (default fast); SNOW_CROSS_JOBS, make's parallel jobs (default nproc);
# SNOW_CROSS_CONFIGURE_FLAGS, extra configure arguments.
set -euo pipefail

usage() { echo "usage: $0 aarch64|riscv64" >&2; exit 2; }
[ $# -eq 1 ] || usage
arch=$1
case $arch in
aarch64) triplet=aarch64-linux-gnu debarch=arm64 qemu=qemu-aarch64 ;;
riscv64) triplet=riscv64-linux-gnu debarch=riscv64 qemu=qemu-riscv64 ;;
*) usage ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
# count_checks, as scripts/test-all.sh counts.
# shellcheck source=scripts/count-checks.sh
. "$top/scripts/count-checks.sh"
jobs=${SNOW_CROSS_JOBS:-$(nproc 2>/dev/null || echo 2)}
work=${SNOW_CROSS_DIR:-$top/build-cross}
case $work in /*) ;; *) work=$PWD/$work ;; esac
context=${SNOW_CROSS_CONTEXT:-fast}
sysroot=$work/sysroot-$arch
build=$work/$arch-$context
start=$(date +%s)

log() { printf '\n=== %s: %s\n' "$arch" "$*"; }
die() {
	echo "$arch: $*" >&2
	echo "$arch: 0 passed, 1 failed"
	exit 1
}

as_root() {
	if [ "$(id -u)" -ne 0 ]; then
		die "missing: $* (run as root, or install them)"
	fi
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return 0
	apt-get update -qq
	apt_updated=1
}

need_packages() {
	local missing=()
	command -v autoreconf >/dev/null || missing+=(autoconf)
	command -v aclocal >/dev/null || missing+=(automake)
	command -v libtoolize >/dev/null || missing+=(libtool)
	command -v pkg-config >/dev/null || missing+=(pkg-config)
	command -v make >/dev/null || missing+=(make)
	command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
	command -v "$triplet-gcc" >/dev/null || missing+=("gcc-$triplet")
	command -v "$qemu" >/dev/null || missing+=(qemu-user)
	if [ "$arch" = aarch64 ]; then
		dpkg -s check:arm64 >/dev/null 2>&1 || missing+=(check:arm64)
	fi
	[ ${#missing[@]} -eq 0 ] && return 0
	as_root "${missing[*]}"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if [ "$arch" = aarch64 ] &&
	   ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
		apt_updated=
	fi
	apt_update
	apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The archive's URI, as the machine's apt knows it (deb.debian.org by
# default, or a mirror).
archive_uri() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
	    awk '$2 == "bookworm" { print $1; exit }'
}

# Concurrency Kit for arm64: Debian's own binary packages, unpacked.
sysroot_ck_arm64() {
	local debs=$work/debs-arm64 deb
	mkdir -p "$debs"
	(cd "$debs" && rm -f ./*.deb &&
	    { apt-get download libck-dev:arm64 libck0:arm64 2>/dev/null ||
	      { apt_update && apt-get download libck-dev:arm64 libck0:arm64; }; }) ||
	    return 1
	for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$sysroot" || return 1; done
}

# Debian's sources of ck and check, for riscv64.
fetch_sources() {
	local apt=$work/apt uri
	uri=$(archive_uri)
	[ -n "$uri" ] || uri=http://deb.debian.org/debian/
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$work/src"
	echo "deb-src $uri bookworm main" > "$apt/sources.list"
	local o=(-o "Dir::Etc::SourceList=$apt/sources.list"
	    -o Dir::Etc::SourceParts=/dev/null
	    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
	apt-get "${o[@]}" update -qq || return 1
	(cd "$work/src" && rm -rf ck-* check-* ck_* check_* &&
	    apt-get "${o[@]}" source --download-only -qq ck check 2>&1 |
	    grep -v 'unsandboxed' || true)
	local dsc
	for dsc in "$work"/src/ck_*.dsc "$work"/src/check_*.dsc; do
		[ -f "$dsc" ] || return 1
		# apt checked the files against the archive's signed Sources;
		# the .dsc's own signature needs debian-keyring, not wanted.
		(cd "$work/src" && dpkg-source --no-check -x "$(basename "$dsc")" >/dev/null) ||
		    return 1
	done
}

sysroot_riscv64() {
	local ck chk
	fetch_sources || return 1
	ck=$(ls -d "$work"/src/ck-*/ | head -1)
	chk=$(ls -d "$work"/src/check-*/ | head -1)
	log "cross-building ${ck%/} for riscv64"
	# ck's own configure: the unknown platform uses the compiler's
	# atomic builtins.  --cores: it cannot count the target's.  It runs
	# the program it compiles to name the compiler (./.1), which needs
	# binfmt_misc; so the compiler it is given leaves a script there
	# that runs the real program under qemu.
	local cc=$work/ck-cc
	{
		echo '#!/bin/sh'
		echo 'case " $* " in'
		echo '*" -o .1 "*)'
		echo "	$triplet-gcc \"\$@\" -o .1.bin || exit"
		echo "	printf '#!/bin/sh\\nexec $qemu -L /usr/$triplet ./.1.bin\\n' > .1"
		echo '	chmod +x .1 ;;'
		echo "*) exec $triplet-gcc \"\$@\" ;;"
		echo 'esac'
	} > "$cc"
	chmod +x "$cc"
	(cd "$ck" && CC=$cc AR=$triplet-ar \
	    ./configure --platform=riscv64 --cores=2 --prefix=/usr \
	    --libdir=/usr/lib/$triplet --includedir=/usr/include >/dev/null &&
	    make -s -j"$jobs" >/dev/null && make -s install DESTDIR="$sysroot" >/dev/null) ||
	    return 1
	log "cross-building ${chk%/} for riscv64"
	(cd "$chk" && ./configure -q --host="$triplet" --prefix=/usr \
	    --libdir=/usr/lib/$triplet --disable-shared --disable-subunit \
	    --disable-build-docs CFLAGS="-O2 -fPIC -Wno-format-extra-args" &&
	    make -s -j"$jobs" >/dev/null && make -s install DESTDIR="$sysroot" >/dev/null) ||
	    return 1
	# Debian's check.pc names the PIC build of the library (libcheck_pic,
	# which the package builds apart); this one is built with -fPIC.
	cp "$sysroot/usr/lib/$triplet/libcheck.a" "$sysroot/usr/lib/$triplet/libcheck_pic.a"
}

# The .pc files of the sysroot name /usr: point them into it.
fix_pc() {
	local pc
	for pc in "$sysroot"/usr/lib/"$triplet"/pkgconfig/*.pc; do
		[ -f "$pc" ] || continue
		sed -i -e "s|^prefix=/usr\$|prefix=$sysroot/usr|" \
		    -e "s|=/usr/|=$sysroot/usr/|" "$pc"
	done
}

make_sysroot() {
	local stamp=$sysroot/.done
	[ -f "$stamp" ] && return 0
	rm -rf "$sysroot" && mkdir -p "$sysroot" || return 1
	case $arch in
	aarch64) sysroot_ck_arm64 ;;
	riscv64) sysroot_riscv64 ;;
	esac || return 1
	fix_pc
	touch "$stamp"
}

need_packages
mkdir -p "$work"
log "sysroot $sysroot"
make_sysroot || die "cannot make the sysroot $sysroot"

libdir=$sysroot/usr/lib/$triplet
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig:/usr/lib/$triplet/pkgconfig
export PKG_CONFIG_PATH=
# The guest's libraries.  The dynamic loader and libc must be one glibc
# build: aarch64 has Debian's libc6:arm64 (check:arm64 brings it), whose
# loader is /lib/ld-linux-aarch64.so.1 and whose libraries the loader
# finds through the machine's ld.so.cache, so qemu gets no prefix: with
# QEMU_LD_PREFIX=/usr/aarch64-linux-gnu the cross toolchain's loader
# (2.36-8cross1) loaded libc6:arm64's libc (2.36-9+deb12u14) through
# that cache, and the first pthread_mutex_lock spun for ever.  riscv64
# has only the cross toolchain's glibc, so qemu looks there first for
# every absolute path.  libck is in the sysroot; libtool --mode=execute
# prepends the build's own .libs.
case $arch in
aarch64) export QEMU_LD_PREFIX=/ ;;
*) export QEMU_LD_PREFIX=/usr/$triplet ;;
esac
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

log "autoreconf"
if [ -e "$top/config.status" ] || [ -e "$top/Makefile" ]; then
	die "the source tree is configured in place: run 'make distclean' there first"
fi
(cd "$top" && { autoreconf -fi >/dev/null 2>&1 || autoreconf -fi; }) || die "autoreconf failed"

log "configure --host=$triplet --with-context=$context"
rm -rf "$build" && mkdir -p "$build"
# shellcheck disable=SC2086  # extra flags: words on purpose
(cd "$build" && "$top/configure" -q --host="$triplet" \
    --with-context="$context" PKG_CONFIG=pkg-config \
    ${SNOW_CROSS_CONFIGURE_FLAGS:-}) ||
    die "configure failed, see $build/config.log"
if grep -q "^#define SNOW_CONTEXT_FAST 1" "$build/config.h"; then
	echo "$arch: fast context switch ($(sed -n 's/^am__append_[0-9]* = \(src\/switch_.*\.S\)$/\1/p' "$build/Makefile"))"
else
	echo "$arch: context switch by swapcontext(3)"
fi
log "build"
(cd "$build" && make -s -j"$jobs") || die "build failed"

log "make check under $qemu"
built=$(date +%s)
rm -f "$build"/tests/*.log "$build"/scripts/*.log
rc=0
(cd "$build" && SNOW_TEST_SCALE_DOWN=1 SNOW_TEST_SLACK=${SNOW_TEST_SLACK:-10} \
    SNOW_TEST_EMULATED=$qemu make -s -j"$jobs" check \
    LOG_COMPILER="\$(LIBTOOL) --mode=execute $qemu" \
    CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-10}") || rc=$?
finished=$(date +%s)

passed=0
failed=0
failures=()
failure_why=()
count_checks "$arch" check "$build"
if [ "$rc" -ne 0 ] && [ "$added" -eq 0 ]; then
	failed=$((failed + 1)); failures+=("make check exited $rc with no failing Check summary")
fi
[ "$passed" -gt 0 ] || { failed=$((failed + 1)); failures+=("no test ran"); }
if [ "$failed" -gt 0 ]; then
	for f in "$build"/tests/*.log "$build"/scripts/*.log; do
		[ -f "$f" ] || continue
		grep -q ':test-result: PASS' "${f%.log}.trs" 2>/dev/null || cat "$f" >&2
	done
fi

echo
echo "$arch: make check under $qemu took $((finished - built)) s (whole run $((finished - start)) s)"
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
[ ${#failure_why[@]} -eq 0 ] || printf 'why: %s\n' "${failure_why[@]}"
echo "$arch: $passed passed, $failed failed"
exit $((failed == 0 ? 0 : 1))
