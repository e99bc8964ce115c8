#!/usr/bin/env bash
# The ABI of libsnow-rt against the baseline in abi/, with libabigail's
# abidw and abidiff (Debian: abigail-tools).
#
#   check-abi.sh check  LIB SRCDIR LT_VERSION PACKAGE_VERSION
#   check-abi.sh update LIB SRCDIR LT_VERSION PACKAGE_VERSION
#
# LIB is the built shared library (with debug information: abidw reads
# the types from DWARF), LT_VERSION libtool's current:revision:age from
# configure.ac, PACKAGE_VERSION the header's MAJOR.MINOR.PATCH.  `make
# abi-check` and `make abi-baseline` run it.
#
# The baseline is abi/libsnow-rt-ARCH.abi (abidw's XML, one per
# architecture, since type sizes differ) and abi/version, the two
# versions it was taken at.  check fails when the library's ABI differs
# from the baseline in any way, or when the versions in abi/version are
# not the ones configure has: so a change to the ABI fails CI until the
# baseline is taken again, and update takes it only when the versions
# moved as the README's "Versions and the ABI" says they must for that
# change:
#
#   nothing changed       libtool c:r:a or c:r+1:a      package any
#   only additions        libtool c+1:0:a+1             package MINOR up
#   anything else         libtool c+1:0:0               package MAJOR up
#
# "Anything else" is whatever abidiff reports as removed or changed: a
# struct that grew is a change, although abidiff alone calls it
# compatible (exit status 4, not 8), because a program that allocates it
# is broken by it.
set -euo pipefail

die() { echo "check-abi: $*" >&2; exit 1; }

[ $# -eq 5 ] || die "usage: $0 check|update LIB SRCDIR LT_VERSION PACKAGE_VERSION"
mode=$1 lib=$2 srcdir=$3 lt=$4 pkg=$5
case $mode in check|update) ;; *) die "unknown mode '$mode' (check or update)" ;; esac
for tool in abidw abidiff readelf; do
	command -v "$tool" >/dev/null ||
	    die "$tool is missing: install the Debian package ${tool/readelf/binutils}${tool/#abid*/ (abigail-tools)}"
done
[ -f "$lib" ] || die "$lib is missing: the ABI check needs the shared library (configure without --disable-shared)"
# (Read whole: grep -q in a pipe would stop readelf with SIGPIPE, which
# pipefail takes for a failure.)
sections=$(readelf -S "$lib") || die "readelf failed on $lib"
grep -q '\.debug_info' <<<"$sections" ||
    die "$lib has no debug information: build it with -g (configure's default CFLAGS have it)"
[[ $lt =~ ^([0-9]+):([0-9]+):([0-9]+)$ ]] || die "bad libtool version '$lt'"
lt_c=${BASH_REMATCH[1]} lt_r=${BASH_REMATCH[2]} lt_a=${BASH_REMATCH[3]}
[[ $pkg =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "bad package version '$pkg'"
pkg_major=${BASH_REMATCH[1]} pkg_minor=${BASH_REMATCH[2]}

headers=$srcdir/include/snow
recorded=$srcdir/abi/version
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The library's ABI as abidw writes it: no paths or source lines, so that
# a baseline does not depend on where it was built or how the sources
# are laid out, only on what a program sees.
abidw --no-corpus-path --no-comp-dir-path --no-show-locs \
    --headers-dir "$headers" "$lib" > "$tmp/new.abi" ||
    die "abidw failed on $lib"
# The library's own architecture (a cross build's is not uname's), as
# abidw names it: elf-amd-x86_64, elf-arm-aarch64, ...
arch=$(sed -n "1s/.* architecture='elf-[a-z0-9]*-\([^']*\)'.*/\1/p" "$tmp/new.abi")
[ -n "$arch" ] || die "abidw gave no architecture for $lib"
baseline=$srcdir/abi/libsnow-rt-$arch.abi

# Compare baseline and library: sets kind to none, additions or break,
# and leaves abidiff's report in $tmp/report.
compare() {
	local rc=0
	# No --headers-dir here: abidw applied it already, and the XML has no
	# source locations for abidiff to filter by, so it would filter out
	# every type change as "not in a public header".
	abidiff "$1" "$tmp/new.abi" > "$tmp/report" 2>&1 || rc=$?
	# Bits 1 and 2: abidiff itself failed or was misused.
	(( (rc & 3) == 0 )) || { cat "$tmp/report" >&2; die "abidiff failed (exit $rc)"; }
	if (( rc == 0 )); then
		kind=none
	elif grep -E 'summary:' "$tmp/report" > "$tmp/summary" || true
	    grep -qE '[1-9][0-9]* (Removed|Changed)' "$tmp/summary" ||
	    (( rc & 8 )); then
		kind=break
	else
		kind=additions
	fi
}

# The versions recorded with the baseline.
read_recorded() {
	[ -f "$recorded" ] || die "$recorded is missing"
	old_lt=$(sed -n 's/^libtool //p' "$recorded")
	old_pkg=$(sed -n 's/^package //p' "$recorded")
	[[ $old_lt =~ ^([0-9]+):([0-9]+):([0-9]+)$ ]] || die "$recorded: bad libtool line"
	old_c=${BASH_REMATCH[1]} old_r=${BASH_REMATCH[2]} old_a=${BASH_REMATCH[3]}
	[[ $old_pkg =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "$recorded: bad package line"
	old_major=${BASH_REMATCH[1]} old_minor=${BASH_REMATCH[2]}
}

if [ "$mode" = check ]; then
	[ -f "$baseline" ] ||
	    die "no baseline for $arch ($baseline): take one with make abi-baseline"
	read_recorded
	compare "$baseline"
	if [ "$kind" != none ]; then
		cat "$tmp/report"
		die "the ABI differs from the baseline ($kind): move the versions as the README's \"Versions and the ABI\" says, then run make abi-baseline"
	fi
	[ "$old_lt" = "$lt" ] && [ "$old_pkg" = "$pkg" ] ||
	    die "the baseline was taken at libtool $old_lt, package $old_pkg; configure has $lt, $pkg: run make abi-baseline"
	echo "check-abi: libsnow-rt ($arch) matches the baseline of libtool $lt, package $pkg"
	exit 0
fi

# update
if [ -f "$baseline" ]; then
	read_recorded
	compare "$baseline"
	case $kind in
	none)
		ok=$(( lt_c == old_c && lt_a == old_a && (lt_r == old_r || lt_r == old_r + 1) ))
		want="$old_c:$old_r:$old_a or $old_c:$((old_r + 1)):$old_a" ;;
	additions)
		ok=$(( lt_c == old_c + 1 && lt_r == 0 && lt_a == old_a + 1 &&
		    pkg_major == old_major && pkg_minor > old_minor ))
		want="$((old_c + 1)):0:$((old_a + 1)) and a higher MINOR than $old_pkg" ;;
	break)
		ok=$(( lt_c == old_c + 1 && lt_r == 0 && lt_a == 0 &&
		    pkg_major > old_major ))
		want="$((old_c + 1)):0:0 and a higher MAJOR than $old_pkg" ;;
	esac
	if (( ! ok )); then
		cat "$tmp/report"
		die "the ABI changed ($kind) since libtool $old_lt, package $old_pkg; that needs libtool $want, not $lt, $pkg"
	fi
	echo "check-abi: $kind since libtool $old_lt, package $old_pkg"
fi
mkdir -p "$srcdir/abi"
cp "$tmp/new.abi" "$baseline"
printf 'libtool %s\npackage %s\n' "$lt" "$pkg" > "$recorded"
echo "check-abi: baseline for $arch taken at libtool $lt, package $pkg: $baseline"
