#!/usr/bin/env bash
# check-man.sh: the man pages in man/ against include/snow/runtime.h.
#
# usage: scripts/check-man.sh [SRCDIR]
#        scripts/check-man.sh --lint-only [SRCDIR]
#
# SRCDIR is the top of the source tree; without it, $srcdir (which
# `make check` exports) or the directory above this script.
#
# What it checks (all of it without --lint-only):
#
#  (a) Every public function of the header has a page, man/NAME.3, of its
#      own or a one-line link page ".so man3/PAGE.3" to its family's page.
#      The functions are found twice, and the two lists must agree:
#        1. the declarations that start with SNOW_API (the header's
#           comments and preprocessor lines removed, the text split into
#           declarations at ';', '{' and '}', multi-line prototypes whole);
#        2. every identifier snow_... followed by '(' in the same text,
#           which does not depend on SNOW_API (a prototype that lost its
#           SNOW_API shows up here and not in 1).
#      The page the name leads to (through a link page) must name the
#      function in NAME (.Nm) and declare it in SYNOPSIS (.Fn or .Fo),
#      and that prototype (.Ft, .Fn/.Fo, .Fa) must be the header's, up to
#      white space.
#  (b) No page names (.Nm) or declares in SYNOPSIS (.Fn, .Fo) a snow_
#      function that the header does not declare (a stale page), and no
#      page refers (.Xr NAME 3) to a snow_ page that does not exist.
#  (c) Errors.  The rule for which errno names belong to a function: every
#      word E[A-Z]+ in the comments between the previous declaration (or
#      preprocessor line) and the function's prototype.  Prototypes that
#      follow each other with only blank lines between them share the
#      comment above the first (snow_io_read ... snow_io_connect).  A
#      comment that gives the errors by reference ("as snow_actor_send()",
#      "as by snow_actor_kill()", "snow_io_wait()'s") adds that function's
#      names, transitively (snow_timer_send_after, the _timeout calls,
#      snow_actor_receive_tag and _key, snow_supervisor_start_spec).  Section
#      comments that end in a declaration (a #define, a struct) belong to
#      no function: the rules they state for every call (EDEADLK from a
#      signal handler, EPERM after fork) are in snow-rt(7).  Each such name
#      must appear on the page the function leads to.  The other way round,
#      every errno a page marks up (.Er) must be one the header mentions
#      somewhere, so that no page documents an error the header does not.
#  (d) mandoc -Tlint -W warning on every page that is not a link page
#      (link pages are checked for their one line and linted through their
#      target); any message fails.  Without mandoc this part is reported
#      as not run; with --lint-only it fails instead (CI installs mandoc).
#  (e) Every page is listed in man/local.mk, so that make install and make
#      dist take it, and snow-rt(7) refers to every function's page.
#  (f) The C in each page's EXAMPLES compiles against the header
#      (${CC:-cc} -fsyntax-only -Wall -Wextra -Werror), when a compiler is
#      there; otherwise reported as not run.
#
# Prints what it checked, and exits 1 on any failure (naming it), else 0.
set -u

lint_only=0
if [ "${1-}" = --lint-only ]; then
	lint_only=1
	shift
fi
if [ $# -gt 1 ]; then
	echo "usage: $0 [--lint-only] [SRCDIR]" >&2
	exit 2
fi
# For scripts/test-all.sh, which counts a log with this line as one result.
[ $lint_only = 1 ] || echo "not a Check suite: one result, its exit status"
top=${1:-${srcdir:-$(dirname "$0")/..}}
hdr=$top/include/snow/runtime.h
man=$top/man
if [ ! -f "$hdr" ] || [ ! -d "$man" ]; then
	echo "check-man: $top has no include/snow/runtime.h or man/" >&2
	exit 2
fi

fail=0

# Pages that are not link pages: the ones to lint and to compile.
pages=()
for f in "$man"/*.3 "$man"/*.7; do
	[ -e "$f" ] || continue
	head -n 1 "$f" | grep -q '^\.so ' || pages+=("$f")
done

lint() {
	if ! command -v mandoc >/dev/null 2>&1; then
		if [ $lint_only = 1 ]; then
			echo "check-man: FAIL: mandoc is not installed (apt-get install mandoc): the lint cannot run" >&2
			fail=1
		else
			echo "check-man: mandoc is not installed: the lint (mandoc -Tlint) was NOT run"
		fi
		return
	fi
	local out n=0 bad=0 f
	for f in "${pages[@]}"; do
		n=$((n + 1))
		# Run from the page's directory, so that the messages name it
		# as man/NAME.
		if ! out=$(cd "$man" && mandoc -Tlint -W warning "$(basename "$f")" 2>&1) ||
		    [ -n "$out" ]; then
			echo "check-man: FAIL: mandoc -Tlint -W warning man/$(basename "$f"):" >&2
			printf '%s\n' "$out" | sed 's/^/    /' >&2
			bad=$((bad + 1))
		fi
	done
	[ $bad = 0 ] || fail=1
	echo "check-man: mandoc -Tlint -W warning: $n pages, $bad with messages"
}

if [ $lint_only = 1 ]; then
	lint
	exit $fail
fi

# (a), (b), (c), (e): the header against the pages.
perl - "$hdr" "$man" <<'PERL' || fail=1
use strict;
use warnings;

my ($hdr, $mandir) = @ARGV;
my $fail = 0;
sub bad { print STDERR "check-man: FAIL: @_\n"; $fail = 1; }

open(my $fh, '<', $hdr) or die "$hdr: $!\n";
my @lines = <$fh>;
close($fh);
my $text = join('', @lines);

# The header's code: comments and preprocessor lines (with their
# continuations) blanked out.
my $code = $text;
$code =~ s{/\*.*?\*/}{ }gs;
$code =~ s{//[^\n]*}{}g;
$code =~ s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}mg;
sub norm {
	my $s = shift;
	$s =~ s/\s+/ /g;
	$s =~ s/^ //;
	$s =~ s/ $//;
	$s =~ s/\* /*/g;
	$s =~ s/ ?\( ?/(/g;
	$s =~ s/ \)/)/g;
	$s =~ s/ ,/,/g;
	return $s;
}

# Method 1: the SNOW_API declarations.
my (%proto, @order);
for my $decl (split /[;{}]/, $code) {
	next unless $decl =~ /^\s*SNOW_API\s+(.*)$/s;
	my $p = $1;
	if ($p !~ /\b([A-Za-z_]\w*)\s*\(/) {
		bad("header: a SNOW_API declaration without a function: " . norm($p));
		next;
	}
	my $name = $1;
	bad("header: $name is declared twice") if exists $proto{$name};
	$proto{$name} = norm($p);
	push @order, $name;
}
# Method 2: every snow_ identifier called like a function.
my %called;
$called{$1} = 1 while $code =~ /\b(snow_\w+)\s*\(/g;
my $napi = () = $code =~ /\bSNOW_API\b/g;
for my $n (sort keys %called) {
	bad("header: $n is declared as a function but not with SNOW_API (or was missed)")
	    unless exists $proto{$n};
}
for my $n (@order) {
	bad("header: SNOW_API declaration $n was not found by the second method")
	    unless exists $called{$n};
}
bad("header: " . scalar(@order) . " functions read from $napi SNOW_API words")
    if @order != $napi;
printf "check-man: header: %d public functions (SNOW_API declarations: %d; snow_ names followed by '(': %d)\n",
    scalar(@order), $napi, scalar(keys %called);

# (c) The comment text above each prototype.
my (%comment, @group, $cmt, $incomment, $last);
$cmt = ''; $last = 'code'; $incomment = 0;
for (my $i = 0; $i < @lines; $i++) {
	my $l = $lines[$i];
	if ($incomment) {
		$cmt .= $l;
		$incomment = 0 if $l =~ m{\*/};
		next;
	}
	if ($l =~ m{^\s*/\*}) {
		$cmt = '' if $last ne 'comment';
		$cmt .= $l;
		$incomment = 1 unless $l =~ m{\*/};
		$last = 'comment';
		next;
	}
	next if $l =~ /^\s*$/;
	if ($l =~ /^\s*SNOW_API\b/) {
		my $d = $l;
		$d .= $lines[++$i] while $d !~ /;/ && $i + 1 < @lines;
		my ($n) = $d =~ /\b([A-Za-z_]\w*)\s*\(/;
		$comment{$n} = $cmt if defined $n;
		$last = 'proto';	# the next prototype shares $cmt
		next;
	}
	$cmt = '';
	$last = 'code';
}
# A comment that gives a function's errors by reference ("as
# snow_actor_send()", "as by snow_actor_kill()", "snow_io_wait()'s")
# gives it that function's errnos too, transitively.
my %want;
for my $n (@order) {
	my $c = $comment{$n} // '';
	$want{$n}{$1} = 1 while $c =~ /\b(E[A-Z]+)\b/g;
}
for (my $changed = 1; $changed;) {
	$changed = 0;
	for my $n (@order) {
		my $c = $comment{$n} // '';
		while ($c =~ /\b[Aa]s\s+(?:by\s+)?(snow_\w+)\(\)|\b(snow_\w+)\(\)'s/g) {
			my $r = $1 // $2;
			next unless exists $proto{$r};
			for my $e (keys %{$want{$r} // {}}) {
				next if $want{$n}{$e};
				$want{$n}{$e} = 1;
				$changed = 1;
			}
		}
	}
}
my %header_errnos;
my $comments = join('', $text =~ m{/\*.*?\*/}gs);
$header_errnos{$1} = 1 while $comments =~ /\b(E[A-Z]+)\b/g;

# The pages.
opendir(my $dh, $mandir) or die "$mandir: $!\n";
my @files = sort grep { /\.[37]$/ } readdir($dh);
closedir($dh);
my (%body, %target, %nm, %syn, %xr, %er);
for my $f (@files) {
	open(my $ph, '<', "$mandir/$f") or die "$mandir/$f: $!\n";
	my @pl = <$ph>;
	close($ph);
	$body{$f} = join('', @pl);
	if (@pl && $pl[0] =~ /^\.so\s/) {
		if (@pl != 1 || $pl[0] !~ m{^\.so man3/([\w-]+\.3)\n\z}) {
			bad("man/$f: a link page must be the one line '.so man3/PAGE.3'");
			next;
		}
		$target{$f} = $1;
		next;
	}
	my ($sec, $ft, $fo, @fa) = ('', '');
	for my $l (@pl) {
		if ($l =~ /^\.Sh\s+(.*?)\s*$/) { $sec = $1; next; }
		$xr{$f}{$1} = 1 while $l =~ /\bXr\s+(snow_\w+)\s+3\b/g;
		$er{$f}{$1} = 1 while $l =~ /\bEr\s+(E[A-Z]+)\b/g;
		if ($sec eq 'NAME' && $l =~ /^\.Nm\s+(\S+)/) {
			$nm{$f}{$1} = 1;
		}
		next unless $sec eq 'SYNOPSIS';
		my @a;
		my $rest = $l;
		chomp($rest);
		push @a, defined $1 ? $1 : $2 while $rest =~ /"([^"]*)"|(\S+)/g;
		my $m = shift(@a) // '';
		if ($m eq '.Ft') {
			$ft = join(' ', @a);
		} elsif ($m eq '.Fn') {
			my $n = shift(@a);
			$syn{$f}{$n} = norm("$ft $n(" . join(', ', @a) . ")");
		} elsif ($m eq '.Fo') {
			$fo = $a[0]; @fa = ();
		} elsif ($m eq '.Fa' && defined $fo) {
			push @fa, join(' ', @a);
		} elsif ($m eq '.Fc' && defined $fo) {
			$syn{$f}{$fo} = norm("$ft $fo(" . join(', ', @fa) . ")");
			undef $fo;
		}
	}
}
my %exists = map { $_ => 1 } @files;
for my $f (sort keys %target) {
	my $t = $target{$f};
	bad("man/$f: links to man/$t, which does not exist") unless $exists{$t};
	bad("man/$f: links to man/$t, which is a link page itself") if $exists{$t} && $target{$t};
}

# (a) Each function: a page, named in NAME, declared as in the header.
my ($nlinks, $nerr) = (0, 0);
for my $n (@order) {
	my $f = "$n.3";
	if (!$exists{$f}) {
		bad("$n: no page man/$f (write one, or a link page '.so man3/FAMILY.3')");
		next;
	}
	my $p = $target{$f} // $f;
	$nlinks++ if $target{$f};
	next unless $exists{$p} && !$target{$p};
	bad("$n: man/$p does not name it in NAME (.Nm $n)") unless $nm{$p}{$n};
	if (!defined $syn{$p}{$n}) {
		bad("$n: man/$p does not declare it in SYNOPSIS (.Fn or .Fo)");
	} elsif ($syn{$p}{$n} ne $proto{$n}) {
		bad("$n: the SYNOPSIS of man/$p does not match the header:\n" .
		    "      page:   $syn{$p}{$n}\n      header: $proto{$n}");
	}
	# (c)
	for my $e (sort keys %{$want{$n} // {}}) {
		$nerr++;
		bad("$n: the header names $e for it, man/$p does not")
		    unless $body{$p} =~ /\b\Q$e\E\b/;
	}
}
# (b) Stale pages and references; (c) errnos the header never names.
for my $f (sort keys %nm) {
	for my $n (sort keys %{$nm{$f}}) {
		bad("man/$f: names $n, which the header does not declare")
		    if $n =~ /^snow_/ && !exists $proto{$n};
		bad("man/$f: names $n, but man/$n.3 does not lead to it")
		    if exists $proto{$n} && $exists{"$n.3"} &&
		    ($target{"$n.3"} // "$n.3") ne $f;
	}
}
for my $f (sort keys %syn) {
	for my $n (sort keys %{$syn{$f}}) {
		bad("man/$f: declares $n in SYNOPSIS, which the header does not declare")
		    if $n =~ /^snow_/ && !exists $proto{$n};
		bad("man/$f: declares $n in SYNOPSIS but does not name it in NAME")
		    unless $nm{$f}{$n};
	}
}
for my $f (sort keys %xr) {
	for my $n (sort keys %{$xr{$f}}) {
		bad("man/$f: refers to $n(3), which has no page") unless $exists{"$n.3"};
	}
}
for my $f (sort keys %er) {
	for my $e (sort keys %{$er{$f}}) {
		bad("man/$f: documents $e, which the header never mentions")
		    unless $header_errnos{$e};
	}
}

# (e) The overview refers to every function; local.mk lists every page.
if ($exists{'snow-rt.7'}) {
	for my $n (@order) {
		bad("man/snow-rt.7: no reference to $n(3) in SEE ALSO")
		    unless $xr{'snow-rt.7'}{$n};
	}
} else {
	bad("man/snow-rt.7 is missing");
}
if (open(my $mk, '<', "$mandir/local.mk")) {
	my $mkt = join('', <$mk>);
	close($mk);
	$mkt =~ s/\\\n/ /g;
	my %listed;
	if ($mkt =~ /^dist_man_MANS\s*=(.*)$/m) {
		$listed{$_} = 1 for split ' ', $1;
	} else {
		bad("man/local.mk does not set dist_man_MANS");
	}
	for my $f (@files) {
		bad("man/$f is not in dist_man_MANS in man/local.mk: it would not be installed or shipped")
		    unless $listed{"man/$f"};
	}
	for my $l (sort keys %listed) {
		bad("man/local.mk lists $l, which does not exist")
		    unless $l =~ m{^man/(.*)$} && $exists{$1};
	}
} else {
	bad("man/local.mk is missing");
}

printf "check-man: pages: %d files, %d link pages; every function has a page, named and declared as in the header\n",
    scalar(@files), scalar(keys %target) if !$fail;
printf "check-man: errnos: %d named by the header's comments for its functions, all checked on their pages\n", $nerr;
exit $fail;
PERL

# (d)
lint

# (f) The EXAMPLES compile.
cc=${CC:-cc}
if command -v "${cc%% *}" >/dev/null 2>&1; then
	tmp=$(mktemp -d) || exit 1
	trap 'rm -rf "$tmp"' EXIT
	n=0
	bad=0
	for f in "${pages[@]}"; do
		case $f in *.3) ;; *) continue ;; esac
		b=$(basename "$f" .3)
		awk '/^\.Sh EXAMPLES/ { e = 1; next } /^\.Sh / { e = 0 }
		    e && /^\.Bd -literal/ { l = 1; next } e && /^\.Ed/ { l = 0; next }
		    l { gsub(/\\e/, "\\"); gsub(/\\&/, ""); print }' "$f" >"$tmp/$b.c"
		if [ ! -s "$tmp/$b.c" ]; then
			echo "check-man: FAIL: man/$b.3 has no example (.Bd -literal in EXAMPLES)" >&2
			bad=$((bad + 1))
			continue
		fi
		n=$((n + 1))
		# shellcheck disable=SC2086
		if ! out=$($cc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-function \
		    -fsyntax-only -I"$top/include" "$tmp/$b.c" 2>&1); then
			echo "check-man: FAIL: the EXAMPLES of man/$b.3 do not compile with $cc:" >&2
			printf '%s\n' "$out" | sed 's/^/    /' >&2
			bad=$((bad + 1))
		fi
	done
	[ $bad = 0 ] || fail=1
	echo "check-man: EXAMPLES: $n pages compiled with $cc, $bad failed"
else
	echo "check-man: no C compiler ($cc): the EXAMPLES were NOT compiled"
fi

if [ $fail != 0 ]; then
	echo "check-man: FAILED" >&2
	exit 1
fi
echo "check-man: all passed"
