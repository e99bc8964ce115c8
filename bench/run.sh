#!/usr/bin/env bash
# The benchmark harness behind `make bench`.
#
# Runs every workload on snow-rt, Go and Erlang, side by side in one run:
# a warm-up of each, then RUNS rounds that alternate the systems, for one
# worker and for all cores.  Prints and writes a table of median wall time
# (min-max), peak RSS, and the ratio snow-rt / peer (below 1: snow-rt is
# faster), then the micro costs: resident in bytes per actor instead of
# time, ping-pong with its median messages per second after the time.  A
# run whose check fails is refused: the harness stops with an error.
#
# usage: bench/run.sh [--quick] [--runs N] [--out DIR]
#   --quick   small sizes and one round: keeps the benchmarks building and
#             correct (CI); the figures mean little
#   --runs N  timed rounds per workload and worker count (default 5)
#   --out D   where results go (default bench/out in the build tree)
# Environment: BUILD (the configured build tree, default .), SRCDIR.
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
mkdir -p "$out"
bin=$build/bench
ncpu=$(nproc)

# ---- tools: Debian's golang-go and erlang-nox ----
need=()
command -v go >/dev/null || need+=(golang-go)
command -v erl >/dev/null && command -v erlc >/dev/null || need+=(erlang-nox)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: need ${need[*]} (apt-get install them, or run as root)" >&2
		exit 1
	fi
	echo "bench: installing ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "bench: building the Go and Erlang peers" >&2
export GOCACHE=$out/gocache GOPATH=$out/gopath GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off
(cd "$srcdir/bench/go" && go build -o "$bin/peer-go" .)
erlc -o "$bin" "$srcdir/bench/erlang/peer_bench.erl"

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
	go) cmd=("$bin/peer-go" "$wl" "$size" "$workers") ;;
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
	extra=$(sed -nE 's/.*extra=([a-z_]+=[0-9.e+]+).*/\1/p' <<<"$line")
	echo "$sys $wl $workers $ns $rss ${extra:--} ${lat:--}" >> "$raw"
	echo "  $sys: $line (peak RSS ${rss} KiB)" >&2
}

if [ $quick = 1 ]; then
	sizes="spawn-tree=1000 spawn-flat=10000 yield-storm=100000 resident=1000
		skynet-msg=1000 ping-pong=10000 ring=100000 service-call=10000 sup-restart=100"
else
	sizes="spawn-tree=1000000 spawn-flat=1000000 yield-storm=10000000 resident=100000
		skynet-msg=1000000 ping-pong=1000000 ring=10000000 service-call=1000000 sup-restart=1000"
fi
workers_list="1"
[ "$ncpu" -gt 1 ] && workers_list="1 $ncpu"
systems="snow-rt go erlang"

for ws in $sizes; do
	wl=${ws%%=*}; size=${ws#*=}
	for workers in $workers_list; do
		echo "bench: $wl size=$size workers=$workers" >&2
		for sys in $systems; do		# warm-up, not recorded
			run "$sys" "$wl" "$size" "$workers"
			sed -i '$d' "$raw"
		done
		for ((r = 0; r < runs; r++)); do
			for sys in $systems; do
				run "$sys" "$wl" "$size" "$workers"
			done
		done
	done
done

# ---- the table ----
table=$out/results.md
{
	echo "Measured $(date -u +%Y-%m-%d) on $(uname -m), $ncpu CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r)"
	echo "snow-rt $(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$build/config.h") ($(grep -q 'define SNOW_CONTEXT_FAST 1' "$build/config.h" && echo fast || echo ucontext) context switch), $(go version | awk '{print $3}'), Erlang/OTP $(erl -noshell -eval 'io:format("~s",[erlang:system_info(otp_release)]),halt().')"
	echo "Median of $runs runs after a warm-up (min-max); ratio = snow-rt / peer, below 1 means snow-rt is faster (or smaller)."
	echo "Last column: a cache line's round trip between two CPUs (bench/corelat), after each snow-rt run; where the host placed the CPUs far apart it is several times higher, and snow-rt's hand-offs between threads slow with it."
	echo
	echo "| workload | workers | snow-rt | Go | Erlang | snow/Go | snow/Erlang | peak RSS MiB snow / Go / Erlang | core round trip ns (min-max) |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk -v runs="$runs" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	function fmt(ns) { return ns >= 1e9 ? sprintf("%.2f s", ns/1e9) : sprintf("%.1f ms", ns/1e6) }
	{
		key = $2 " " $3
		if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
		k = key " " $1
		n[k]++; t[k, n[k]] = $4; r[k, n[k]] = $5
		if ($7 != "-" && $7 != "") { nl[key]++; lat[key, nl[key]] = $7 }
		if ($6 != "-") { split($6, kv, "="); x[k, n[k]] = kv[2]; xname[key] = kv[1] }
	}
	END {
		split("snow-rt go erlang", sys, " ")
		for (i = 1; i <= nk; i++) {
			key = order[i]; split(key, kw, " ")
			line = "| " kw[1] " | " kw[2]
			for (s = 1; s <= 3; s++) {
				k = key " " sys[s]; m = n[k]
				if (xname[key] == "rss_per_actor_bytes") {
					for (j = 1; j <= m; j++) v[j] = x[k, j]
					med[s] = median(v, m)
					lo = hi = x[k, 1]
					for (j = 1; j <= m; j++) { if (x[k,j] < lo) lo = x[k,j]; if (x[k,j] > hi) hi = x[k,j] }
					line = line sprintf(" | %d B/actor (%d-%d)", med[s], lo, hi)
				} else {
					for (j = 1; j <= m; j++) v[j] = t[k, j]
					med[s] = median(v, m)
					lo = hi = t[k, 1]
					for (j = 1; j <= m; j++) { if (t[k,j] < lo) lo = t[k,j]; if (t[k,j] > hi) hi = t[k,j] }
					line = line " | " fmt(med[s]) " (" fmt(lo) "-" fmt(hi) ")"
					if (xname[key] == "msgs_per_sec") {
						for (j = 1; j <= m; j++) v[j] = x[k, j]
						line = line sprintf(", %.2f M msgs/s", median(v, m) / 1e6)
					}
				}
				for (j = 1; j <= m; j++) v[j] = r[k, j]
				rss[s] = median(v, m) / 1024
			}
			line = line sprintf(" | %.2f | %.2f | %.0f / %.0f / %.0f |", med[1]/med[2], med[1]/med[3], rss[1], rss[2], rss[3])
			m = nl[key]
			for (j = 1; j <= m; j++) v[j] = lat[key, j]
			lo = hi = lat[key, 1]
			for (j = 1; j <= m; j++) { if (lat[key,j] < lo) lo = lat[key,j]; if (lat[key,j] > hi) hi = lat[key,j] }
			line = line (m ? sprintf(" %d (%d-%d) |", median(v, m), lo, hi) : " - |")
			print line
		}
	}' "$raw"
	echo
	echo "Micro costs (bench/micro, one worker):"
	echo
	echo '```'
	"$bin/micro" $([ $quick = 1 ] || echo 5)
	echo '```'
} > "$table"
cat "$table"

if command -v gnuplot >/dev/null; then
	# snow-rt / peer time ratios, one bar pair per workload and worker count.
	grep '^| [a-z]' "$table" | grep -v resident | awk -F'|' '{gsub(/ /,"",$2); gsub(/ /,"",$3); print $2 "/" $3, $7, $8}' > "$out/ratios.dat"
	gnuplot <<EOG
set terminal png size 900,480
set output "$out/results.png"
set title "snow-rt time / peer time (below 1: snow-rt faster)"
set style data histograms
set style fill solid 0.8
set boxwidth 0.9
set yrange [0:*]
set xtics rotate by -30
plot "$out/ratios.dat" using 2:xtic(1) title "vs Go", "" using 3 title "vs Erlang", 1 with lines notitle lt -1
EOG
	echo "bench: chart in $out/results.png" >&2
fi
echo "bench: table in $table" >&2
