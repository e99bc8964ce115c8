#!/usr/bin/env bash
# The benchmark harness behind `make bench`.
#
# Runs every workload on snow-rt and its peers (Go, Erlang, CAF,
# Boost.Fiber, Tokio; see the README for how each is configured), side by
# side in one run:
# a warm-up of each, then RUNS rounds that alternate the systems, for one
# worker and for all cores.  Prints and writes a table of median wall time
# (min-max), peak RSS, and the ratio snow-rt / peer (below 1: snow-rt is
# faster), then the micro costs: resident in bytes per actor instead of
# time, ping-pong with its median messages per second after the time.
# Two workloads have tables of their own, after it: overload (messages
# per second and peak RSS of many senders to one receiver) and scale
# (cost per spawn and bytes per actor as parked actors grow by powers of
# ten); not every peer implements them (see systems_for).  A run whose
# check fails is refused: the harness stops with an error.
#
# usage: bench/run.sh [--quick] [--runs N] [--out DIR]
#   --quick   small sizes and one round: keeps the benchmarks building and
#             correct (CI); the figures mean little
#   --runs N  timed rounds per workload and worker count (default 5)
#   --out D   where results go (default bench/out in the build tree)
# Environment: BUILD (the configured build tree, default .), SRCDIR;
#   OVERLOAD_MS, how long overload's senders send (default 2000, 500 with
#   --quick), exported to every system.
set -euo pipefail

quick=0
runs=5
build=$(cd "${BUILD:-.}" && pwd)
srcdir=$(cd "${SRCDIR:-$(dirname "$0")/..}" && pwd)
out=$build/bench/out
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; runs=1 ;;
	--runs) runs=$2; shift ;;
	--out) out=$2; shift ;;
	*) echo "usage: $0 [--quick] [--runs N] [--out DIR]" >&2; exit 2 ;;
	esac
	shift
done
case $runs in ''|*[!0-9]*|0) echo "--runs takes a positive number" >&2; exit 2 ;; esac
export OVERLOAD_MS=${OVERLOAD_MS:-$([ $quick = 1 ] && echo 500 || echo 2000)}
case $OVERLOAD_MS in ''|*[!0-9]*|0) echo "OVERLOAD_MS takes a positive number" >&2; exit 2 ;; esac
mkdir -p "$out"
bin=$build/bench
ncpu=$(nproc)

# ---- tools: Debian's packages for each peer ----
# Go and Erlang are always measured.  CAF, Boost.Fiber and Tokio are
# installed when missing (as root); in --quick mode a peer whose packages
# cannot be installed is left out, with a message, so that CI without a
# package mirror still checks the rest.
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
install_pkgs() {
	[ "$(id -u)" -eq 0 ] || { echo "bench: need $* (apt-get install them, or run as root)" >&2; return 1; }
	echo "bench: installing $*" >&2
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
need=()
command -v go >/dev/null || need+=(golang-go)
command -v erl >/dev/null && command -v erlc >/dev/null || need+=(erlang-nox)
[ ${#need[@]} -eq 0 ] || install_pkgs "${need[@]}" || exit 1

# peer NAME PACKAGES...: whether NAME's packages are here (installing them).
peer_ready() {
	local name=$1 missing=() p
	shift
	for p in "$@"; do have_pkg "$p" || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	install_pkgs "${missing[@]}" && return 0
	[ $quick = 1 ] || { echo "bench: cannot install ${missing[*]} for $name" >&2; exit 1; }
	echo "bench: leaving $name out (${missing[*]} missing)" >&2
	return 1
}

echo "bench: building the peers" >&2
export GOCACHE=$out/gocache GOPATH=$out/gopath GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off
(cd "$srcdir/bench/go" && go build -o "$bin/peer-go" .)
erlc -o "$bin" "$srcdir/bench/erlang/peer_bench.erl"
systems="snow-rt go erlang"
if peer_ready CAF g++ libcaf-dev; then
	g++ -O2 -std=c++17 -o "$bin/peer-caf" "$srcdir/bench/caf/peer.cpp" -lcaf_core -pthread
	systems+=" caf"
fi
if peer_ready Boost.Fiber g++ libboost-fiber-dev; then
	g++ -O2 -std=c++17 -o "$bin/peer-fiber" "$srcdir/bench/fiber/peer.cpp" \
	    -lboost_fiber -lboost_context -pthread
	systems+=" fiber"
fi
if peer_ready Tokio cargo rustc librust-tokio-dev; then
	# Offline, against the crates Debian installs: bench/tokio/.cargo
	# says where, which is why cargo runs from there.  Debian's cargo
	# and rustc by path, not whatever rustup put first in PATH.
	(cd "$srcdir/bench/tokio" && CARGO_HOME="$out/cargo-home" \
	    CARGO_TARGET_DIR="$out/tokio-target" RUSTC=/usr/bin/rustc \
	    /usr/bin/cargo build --release --offline --locked -q)
	cp "$out/tokio-target/release/peer-tokio" "$bin/peer-tokio"
	systems+=" tokio"
fi

# Workloads that not every peer implements, and the systems that do: the
# others (CAF and Boost.Fiber for both, Tokio for scale) are left out of
# their runs and tables.
declare -A only=([overload]="snow-rt go erlang tokio" [scale]="snow-rt go erlang")
# systems_for WORKLOAD: the built systems that run it, in $systems' order.
systems_for() {
	local s out=""
	[ -n "${only[$1]:-}" ] || { echo "$systems"; return; }
	for s in $systems; do
		case " ${only[$1]} " in *" $s "*) out+="${out:+ }$s" ;; esac
	done
	echo "$out"
}

# ---- one measured run ----
# run SYSTEM WORKLOAD SIZE WORKERS -> appends "system workload workers
# elapsed_ns maxrss_kb extra" to $raw, or dies if the check failed.
raw=$out/raw.txt
: > "$raw"
run() {
	local sys=$1 wl=$2 size=$3 workers=$4 line rss
	local cmd=()
	case $sys in
	snow-rt) cmd=("$bin/snow-bench" "$wl" "$size" "$workers") ;;
	go|caf|fiber|tokio) cmd=("$bin/peer-$sys" "$wl" "$size" "$workers") ;;
	erlang) cmd=(erl +S "$workers:$workers" +P 4000000 -noshell -pa "$bin"
		-s peer_bench main "$wl" "$size" -s init stop) ;;
	esac
	if ! line=$("$bin/maxrss" "$out/rss.tmp" "${cmd[@]}" 2>"$out/err.tmp"); then
		echo "bench: $sys $wl size=$size workers=$workers FAILED:" >&2
		echo "$line" >&2
		cat "$out/err.tmp" >&2
		exit 1
	fi
	case $line in
	*" ok=1 "*) ;;
	*) echo "bench: $sys $wl: check failed: $line" >&2; exit 1 ;;
	esac
	rss=$(cat "$out/rss.tmp")
	# Where the host put the CPUs just now (see bench/corelat.c): it
	# moves snow-rt's figures, whose actors go from thread to thread.
	local lat=-
	[ "$sys" = snow-rt ] &&
	    lat=$("$bin/corelat" 100000 | sed -n 's/^corelat_ns=//p')
	local ns extra
	ns=$(sed -E 's/.*elapsed_ns=([0-9]+).*/\1/' <<<"$line")
	# The whole extra= field: scale's holds a list, one item per power
	# of ten (no spaces in it).
	extra=$(sed -nE 's/.*extra=([^ ]+).*/\1/p' <<<"$line")
	echo "$sys $wl $workers $ns $rss ${extra:--} ${lat:--}" >> "$raw"
	echo "  $sys: $line (peak RSS ${rss} KiB)" >&2
}

if [ $quick = 1 ]; then
	sizes="spawn-tree=1000 spawn-flat=10000 yield-storm=100000 resident=1000
		skynet-msg=1000 ping-pong=10000 ring=100000 service-call=10000 sup-restart=100
		overload=100 scale=100000"
else
	# scale stops at 10^6: 10^7 does not fit in this machine's 24 GiB.
	# A parked snow-rt actor touches a 4 KiB page before its stack
	# hibernates, and past about 2 million the mapping budget (a quarter
	# of vm.max_map_count) keeps the rest from hibernating at all; a
	# goroutine or an Erlang process costs about 2.7 KB.
	sizes="spawn-tree=1000000 spawn-flat=1000000 yield-storm=10000000 resident=100000
		skynet-msg=1000000 ping-pong=1000000 ring=10000000 service-call=1000000 sup-restart=1000
		overload=1000 scale=1000000"
fi
workers_list="1"
[ "$ncpu" -gt 1 ] && workers_list="1 $ncpu"

for ws in $sizes; do
	wl=${ws%%=*}; size=${ws#*=}
	wsys=$(systems_for "$wl")
	for workers in $workers_list; do
		echo "bench: $wl size=$size workers=$workers" >&2
		for sys in $wsys; do		# warm-up, not recorded
			run "$sys" "$wl" "$size" "$workers"
			sed -i '$d' "$raw"
		done
		for ((r = 0; r < runs; r++)); do
			for sys in $wsys; do
				run "$sys" "$wl" "$size" "$workers"
			done
		done
	done
done

# ---- the table ----
# The peers' versions, as measured.
versions() {
	local v
	v="$(go version | awk '{print $3}'), Erlang/OTP $(erl -noshell -eval 'io:format("~s",[erlang:system_info(otp_release)]),halt().')"
	case " $systems " in *" caf "*) v+=", CAF $(dpkg-query -W -f='${Version}' libcaf-dev | sed 's/[-+].*//')" ;; esac
	case " $systems " in *" fiber "*) v+=", Boost.Fiber $(dpkg-query -W -f='${Version}' libboost-fiber-dev | sed 's/[-+].*//')" ;; esac
	case " $systems " in *" tokio "*) v+=", Tokio $(awk '/name = "tokio"/ { getline; gsub(/[^0-9.]/, ""); print }' "$srcdir/bench/tokio/Cargo.lock") ($(/usr/bin/rustc --version | awk '{print $1, $2}'))" ;; esac
	echo "$v"
}
table=$out/results.md
# Shared by the three tables' awk programs (each given -v systems):
# stat(a, k, m) is the median of a[k, 1..m], with lo and hi its range;
# label[] names the systems, sys[1..ns] are the ones in the table, and
# print_head() prints a table's header and rule, one column per system
# and one ratio per peer between first and tail.
awk_lib='
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
function stat(a, k, m,   j, v) {
	for (j = 1; j <= m; j++) v[j] = a[k, j] + 0
	lo = hi = v[1]
	for (j = 2; j <= m; j++) { if (v[j] < lo) lo = v[j]; if (v[j] > hi) hi = v[j] }
	return median(v, m)
}
function print_head(head, rule, tail, tail_rule,   s) {
	for (s = 1; s <= ns; s++) { head = head " | " label[sys[s]]; rule = rule "|---" }
	for (s = 2; s <= ns; s++) { head = head " | snow/" label[sys[s]]; rule = rule "|---" }
	print head tail
	print rule tail_rule
}
BEGIN {
	split("snow-rt Go Erlang CAF Boost.Fiber Tokio", shown, " ")
	split("snow-rt go erlang caf fiber tokio", ids, " ")
	for (i in ids) label[ids[i]] = shown[i]
	ns = split(systems, sys, " ")
}
'
{
	echo "Measured $(date -u +%Y-%m-%d) on $(uname -m), $ncpu CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r)"
	echo "snow-rt $(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$build/config.h") ($(grep -q 'define SNOW_CONTEXT_FAST 1' "$build/config.h" && echo fast || echo ucontext) context switch), $(versions)"
	echo "Median of $runs runs after a warm-up (min-max); ratio = snow-rt / peer, below 1 means snow-rt is faster (or smaller)."
	echo "Last column: a cache line's round trip between two CPUs (bench/corelat), after each snow-rt run; where the host placed the CPUs far apart it is several times higher, and snow-rt's hand-offs between threads slow with it."
	echo
	awk -v runs="$runs" -v systems="$systems" "$awk_lib"'
	function fmt(ns) { return ns >= 1e9 ? sprintf("%.2f s", ns/1e9) : sprintf("%.1f ms", ns/1e6) }
	# Median of column c (t: time, x: extra, r: rss) of key k; lo, hi too.
	function col(k, c) {
		if (c == "t")
			return stat(t, k, n[k])
		return c == "x" ? stat(x, k, n[k]) : stat(r, k, n[k])
	}
	$2 == "overload" || $2 == "scale" { next }	# tables of their own
	{
		key = $2 " " $3
		if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
		k = key " " $1
		n[k]++; t[k, n[k]] = $4; r[k, n[k]] = $5
		if ($7 != "-" && $7 != "") { nl[key]++; lat[key, nl[key]] = $7 }
		if ($6 != "-") { split($6, kv, "="); x[k, n[k]] = kv[2]; xname[key] = kv[1] }
	}
	END {
		rss = "peak RSS MiB"
		for (s = 1; s <= ns; s++) rss = rss (s == 1 ? " " : " / ") label[sys[s]]
		print_head("| workload | workers", "|---|---",
		    " | " rss " | core round trip ns (min-max) |", "|---|---|")
		for (i = 1; i <= nk; i++) {
			key = order[i]; split(key, kw, " ")
			line = "| " kw[1] " | " kw[2]; rl = ""
			for (s = 1; s <= ns; s++) {
				k = key " " sys[s]
				if (n[k] == 0) { med[s] = 0; line = line " | -"; rl = rl (s > 1 ? " / " : "") "-"; continue }
				if (xname[key] == "rss_per_actor_bytes") {
					med[s] = col(k, "x")
					line = line sprintf(" | %d B/actor (%d-%d)", med[s], lo, hi)
				} else {
					med[s] = col(k, "t")
					line = line " | " fmt(med[s]) " (" fmt(lo) "-" fmt(hi) ")"
					if (xname[key] == "msgs_per_sec")
						line = line sprintf(", %.2f M msgs/s", col(k, "x") / 1e6)
				}
				rl = rl (s > 1 ? " / " : "") sprintf("%.0f", col(k, "r") / 1024)
			}
			for (s = 2; s <= ns; s++)
				line = line (med[s] > 0 ? sprintf(" | %.2f", med[1] / med[s]) : " | -")
			line = line " | " rl " |"
			m = nl[key]
			line = line (m ? sprintf(" %d (%d-%d) |", stat(lat, key, m), lo, hi) : " - |")
			print line
		}
	}' "$raw"
	echo
	echo "overload: $(tr -s ' \t\n' '\n' <<<"$sizes" | sed -n 's/^overload=//p') senders send to one receiver as fast as they can for $OVERLOAD_MS ms, then a done each; the receiver works about 50 ns on each message. Go and Tokio send through a channel of 1024, which blocks a sender while it is full; Erlang and snow-rt to the receiver's mailbox. Messages received per second over the whole run (the draining of a backlog after the stop included), median (min-max), and peak RSS in MiB. Ratio snow-rt / peer, for msgs/s then peak RSS: above 1 for msgs/s, below 1 for RSS, is in snow-rt's favour."
	echo
	awk -v systems="$(systems_for overload)" "$awk_lib"'
	$2 != "overload" { next }
	{
		if (!($3 in seen)) { seen[$3] = 1; order[++nw] = $3 }
		k = $3 " " $1
		n[k]++; split($6, kv, "="); x[k, n[k]] = kv[2]; r[k, n[k]] = $5
	}
	END {
		print_head("| overload | workers", "|---|---", " |", "|")
		for (i = 1; i <= nw; i++) {
			w = order[i]; lm = "| M msgs/s | " w; lr = "| peak RSS MiB | " w
			for (s = 1; s <= ns; s++) {
				k = w " " sys[s]
				if (n[k] == 0) { mm[s] = mr[s] = 0; lm = lm " | -"; lr = lr " | -"; continue }
				mm[s] = stat(x, k, n[k])
				lm = lm sprintf(" | %.2f (%.2f-%.2f)", mm[s] / 1e6, lo / 1e6, hi / 1e6)
				mr[s] = stat(r, k, n[k])
				lr = lr sprintf(" | %.0f (%.0f-%.0f)", mr[s] / 1024, lo / 1024, hi / 1024)
			}
			for (s = 2; s <= ns; s++) {
				lm = lm (mm[1] > 0 && mm[s] > 0 ? sprintf(" | %.2f", mm[1] / mm[s]) : " | -")
				lr = lr (mr[1] > 0 && mr[s] > 0 ? sprintf(" | %.2f", mr[1] / mr[s]) : " | -")
			}
			print lm " |"
			print lr " |"
		}
	}' "$raw"
	echo
	echo "scale: parked actors (as resident's) spawned up to each power of ten; per system the median cost of the spawns since the last power of ten, until each actor has parked, per spawn, and the RSS per actor of all of them at rest (the resident settling time, then until the RSS stops falling: snow-rt's stacks take seconds to hibernate). Ratio snow-rt / peer, for ns/spawn then bytes/actor: below 1 is in snow-rt's favour."
	echo
	awk -v systems="$(systems_for scale)" "$awk_lib"'
	$2 != "scale" { next }
	{
		nd = split($6, dec, ";")
		for (d = 1; d <= nd; d++) {
			# n=N:ns_per_spawn=T:bytes_per_actor=B
			split(dec[d], f, ":"); split(f[1], a, "="); split(f[2], tt, "="); split(f[3], bb, "=")
			key = $3 " " a[2]
			if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
			k = key " " $1
			n[k]++; t[k, n[k]] = tt[2]; b[k, n[k]] = bb[2]
		}
	}
	END {
		print_head("| scale | workers | actors", "|---|---|---", " |", "|")
		for (i = 1; i <= nk; i++) {
			split(order[i], kw, " ")
			line = "| ns/spawn, B/actor | " kw[1] " | " kw[2]
			for (s = 1; s <= ns; s++) {
				k = order[i] " " sys[s]
				if (n[k] == 0) { mt[s] = mb[s] = 0; line = line " | -"; continue }
				mt[s] = stat(t, k, n[k]); mb[s] = stat(b, k, n[k])
				line = line sprintf(" | %.0f ns, %.0f B", mt[s], mb[s])
			}
			for (s = 2; s <= ns; s++)
				line = line (mt[s] > 0 && mb[s] > 0 ? sprintf(" | %.2f / %.2f", mt[1] / mt[s], mb[1] / mb[s]) : " | -")
			print line " |"
		}
	}' "$raw"
	echo
	echo "Micro costs (bench/micro, one worker):"
	echo
	echo '```'
	"$bin/micro" $([ $quick = 1 ] || echo 5)
	echo '```'
} > "$table"

# The network workloads (issue: actors that serve the network): echo
# round trips and idle connections against the Go and Erlang servers,
# with examples/echo-server on as many workers as CPUs, as the peers.
echo "bench: the network workloads (bench/net/run-peers.sh)" >&2
net_out=$out/net.txt
if ! bash "$srcdir/bench/net/run-peers.sh" $([ $quick = 1 ] && echo --quick) \
    --snow "$build/examples/echo-server" > "$net_out"; then
	echo "bench: the network workloads failed; see $net_out" >&2
	exit 1
fi
{
	echo
	echo "Network, on loopback (bench/net/run-peers.sh): $(grep '^summary' "$net_out")"
	echo
	grep '^|' "$net_out"
} >> "$table"
cat "$table"

if command -v gnuplot >/dev/null; then
	# snow-rt / peer time ratios, one bar group per workload and worker
	# count, a bar per peer.
	nsys=$(wc -w <<<"$systems")
	# The main table only: the first one, up to its blank line.
	sed -n '/^| workload | workers/,/^$/p' "$table" | grep '^| [a-z]' |
	    grep -v -e resident -e '^| workload ' | awk -F'|' -v ns="$nsys" '{
		gsub(/ /, "", $2); gsub(/ /, "", $3); line = $2 "/" $3
		for (i = 4 + ns; i <= 2 + 2 * ns; i++) line = line " " ($i + 0)
		print line }' > "$out/ratios.dat"
	plot="" col=2 xtic=":xtic(1)"
	for sys in ${systems#snow-rt }; do
		plot+="${plot:+, }\"$out/ratios.dat\" using $col$xtic title \"vs $sys\""
		col=$((col + 1)) xtic=""
	done
	gnuplot <<EOG
set terminal png size 1100,480
set output "$out/results.png"
set title "snow-rt time / peer time (below 1: snow-rt faster)"
set style data histograms
set style fill solid 0.8
set boxwidth 0.9
set yrange [0:*]
set xtics rotate by -30
plot $plot, 1 with lines notitle lt -1
EOG
	echo "bench: chart in $out/results.png" >&2
fi
echo "bench: table in $table" >&2
