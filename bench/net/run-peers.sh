#!/usr/bin/env bash
# The network benchmark: the Go and Erlang echo servers, and with --snow
# the snow-rt one (examples/echo-server.c), under echoload.
#
# Builds echoload (cc -O2), the Go server (go build, offline) and the
# Erlang one (erlc); the snow-rt server is given built.  Then:
#  - echo: for each number of connections, each server in turn (go,
#    erlang, snow-rt: alternating, so that a machine whose load drifts
#    shifts them all alike), a fresh server on a free loopback port, and
#    echoload's ROUNDS round trips of SIZE bytes on every connection at
#    once; one line each with requests per second and the median and
#    99th percentile of a round trip;
#  - idle: for each server, a fresh one, one warm-up connection served,
#    its VmRSS; then N connections opened, served once and held idle, its
#    VmRSS again; the line gives (held - before) / N, the bytes a
#    connection costs it.
# At the end, the lines again, and a markdown table of them with the
# ratios snow-rt / go and snow-rt / erlang.
#
# usage: bench/net/run-peers.sh [--quick] [--conns "N..."] [--rounds R]
#                               [--size S] [--idle N] [--timeout S] [--out DIR]
#                               [--snow PATH] [--snow-workers N]
#   --quick    100 connections, 20 rounds, idle 1000: checks that it all
#              works; the figures mean little
#   --conns    the numbers of connections of the echo runs (default
#              "100 1000 10000")
#   --rounds   round trips per connection (default 100)
#   --size     bytes per round trip (default 64)
#   --idle     the numbers of connections of the idle tests (default
#              "10000 100000"; past 20,000 echoload leaves from several
#              loopback addresses, as one has about 28,000 ports)
#   --timeout  bound of each echoload run, in seconds (default 120)
#   --out      where the programs are built (default: a temporary
#              directory, removed at the end)
#   --snow     the snow-rt echo server to measure too, built from
#              examples/echo-server.c (default: $SNOW_ECHO if set; none)
#   --snow-workers  its worker threads (default 0: one per CPU, as Go's
#              GOMAXPROCS and Erlang's schedulers)
#
# Every server it starts is stopped when it ends, however it ends; every
# wait is bounded.  Only loopback addresses are used.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
conns="" rounds="" idle="" size=64 tmo=120 out=""
snow=${SNOW_ECHO:-} snow_workers=0
usage() {
	sed -n 's/^# \{0,1\}//; /^usage:/,/^$/p' "$0" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--conns) [ $# -ge 2 ] || usage; conns=$2; shift ;;
	--rounds) [ $# -ge 2 ] || usage; rounds=$2; shift ;;
	--size) [ $# -ge 2 ] || usage; size=$2; shift ;;
	--idle) [ $# -ge 2 ] || usage; idle=$2; shift ;;
	--timeout) [ $# -ge 2 ] || usage; tmo=$2; shift ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift ;;
	--snow) [ $# -ge 2 ] || usage; snow=$2; shift ;;
	--snow-workers) [ $# -ge 2 ] || usage; snow_workers=$2; shift ;;
	*) usage ;;
	esac
	shift
done
idle_default=0
if [ $quick = 1 ]; then
	: "${conns:=100}" "${rounds:=20}" "${idle:=1000}"
else
	[ -n "$idle" ] || idle_default=1
	: "${conns:=100 1000 10000}" "${rounds:=100}" "${idle:=10000 100000}"
fi
for v in $conns $rounds $size $idle $tmo; do
	case $v in ''|*[!0-9]*|0) echo "run-peers: \"$v\" is not a positive number" >&2; exit 2 ;; esac
done
case $snow_workers in ''|*[!0-9]*) echo "run-peers: --snow-workers \"$snow_workers\" is not a number" >&2; exit 2 ;; esac
systems="go erlang"
if [ -n "$snow" ]; then
	[ -f "$snow" ] && [ -x "$snow" ] || {
		echo "run-peers: --snow \"$snow\" is not an executable file" >&2
		exit 2
	}
	# Absolute: the servers run from wherever.
	snow=$(cd "$(dirname "$snow")" && pwd)/$(basename "$snow")
	systems="go erlang snow-rt"
fi

say() { echo "run-peers: $*" >&2; }
die() { say "$*"; exit 1; }

# ---- cleanup: every server started, stopped ----
started=()	# pids of the servers still running
erl_stdin=""	# our end of the Erlang server's stdin, while it runs
load_pid=""	# echoload, while it runs
tmpout=""
cleanup() {
	local pid
	[ -z "$load_pid" ] || stop_pid "$load_pid"
	for pid in "${started[@]}"; do stop_pid "$pid"; done
	[ -z "$tmpout" ] || rm -rf "$tmpout"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_pid PID: SIGTERM, up to 5 s to go, then SIGKILL.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ---- tools and limits ----
for t in cc go erl erlc; do
	command -v $t >/dev/null ||
	    die "$t not found (apt-get install gcc golang-go erlang-nox)"
done
if [ -z "$out" ]; then
	tmpout=$(mktemp -d "${TMPDIR:-/tmp}/snow-net.XXXXXX")
	out=$tmpout
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Each side of a connection is a descriptor in each process: the servers
# and echoload each need the largest count and a few more.
# A default idle size past a hard limit that cannot be raised (a
# container without CAP_SYS_RESOURCE) is left out, and said so; sizes
# asked for explicitly must fit.
fits() {
	local need=$(($1 + 64)) hard

	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge "$need" ] ||
	    ulimit -Hn "$need" 2>/dev/null
}
kept=""
for n in $idle; do
	if fits "$n"; then
		kept+="${kept:+ }$n"
	elif [ "$idle_default" = 1 ]; then
		say "leaving out $n idle connections: they need $((n + 64)) descriptors a process, and the hard limit $(ulimit -Hn) cannot be raised here"
	else
		die "$n connections need $((n + 64)) descriptors a process, the hard limit is $(ulimit -Hn): raise it (as root) or ask for fewer"
	fi
done
idle=$kept
most=0
for n in $conns $idle; do [ "$n" -le "$most" ] || most=$n; done
need=$((most + 64))
fits "$most" ||
    die "$most connections need $need descriptors a process, the hard limit is $(ulimit -Hn): raise it (as root) or ask for fewer"
soft=$(ulimit -Sn)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
	ulimit -Sn "$need"
fi
say "ulimit -n $(ulimit -Sn) (hard $(ulimit -Hn)), for up to $most connections"
read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range
# echoload spreads more than 20,000 connections over source addresses
# 127.0.0.2, .3, ...: 20,000 ports each at most.
ports=$((most < 20000 ? most : 20000))
[ $((hi - lo + 1)) -ge "$ports" ] ||
    die "$ports connections from one address need as many local ports, the range $lo-$hi has $((hi - lo + 1))"
say "$(nproc) CPUs; somaxconn $(cat /proc/sys/net/core/somaxconn); local ports $lo-$hi"

# ---- build ----
say "building in $out"
cc -std=c11 -Wall -Wextra -O2 -o "$out/echoload" "$here/echoload.c"
(cd "$here/go" && GOCACHE=$out/gocache GOPATH=$out/gopath GO111MODULE=on \
    GOFLAGS=-mod=mod GOPROXY=off go build -o "$out/echo-go" .)
erlc -o "$out" "$here/erlang/echo_server.erl"
say "$(go version); Erlang/OTP $(erl -noshell -eval \
    'io:format("~s", [erlang:system_info(otp_release)]), halt().')"
[ -z "$snow" ] || say "snow-rt: $snow, $snow_workers workers (0: one per CPU)"

# ---- servers ----
# start_server SYSTEM: a fresh server on a free port (the kernel's pick:
# it is asked for port 0), up when it printed its "listening" line.
# Sets srv_pid and srv_port.
start_server() {
	local sys=$1 log=$out/$1.out err=$out/$1.err i
	: > "$log"
	case $sys in
	go)
		"$out/echo-go" 0 >"$log" 2>"$err" </dev/null &
		srv_pid=$!
		;;
	erlang)
		# Its stdin is a pipe that only we write: it ends, and the
		# server with it, when we close our end or die.
		rm -f "$out/erl.stdin"
		mkfifo "$out/erl.stdin"
		erl +Q 1048576 -noshell -pa "$out" -s echo_server main 0 \
		    >"$log" 2>"$err" <"$out/erl.stdin" &
		srv_pid=$!
		exec {erl_stdin}>"$out/erl.stdin"
		;;
	snow-rt)
		"$snow" 0 "$snow_workers" >"$log" 2>"$err" </dev/null &
		srv_pid=$!
		;;
	esac
	started+=("$srv_pid")
	for ((i = 0; i < 400; i++)); do
		srv_port=$(awk '$1 == "listening" { print $2; exit }' "$log")
		[ -z "$srv_port" ] || return 0
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$err" >&2
	die "$sys: no \"listening\" line within 20 s"
}

stop_server() {
	local pid=$srv_pid p keep=()
	if [ -n "$erl_stdin" ]; then
		exec {erl_stdin}>&-
		erl_stdin=""
	fi
	stop_pid "$pid"
	for p in "${started[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	started=("${keep[@]}")
}

# server_alive SYSTEM: dies if the server under test has gone.
server_alive() {
	kill -0 "$srv_pid" 2>/dev/null && return 0
	cat "$out/$1.err" >&2
	die "$1: the server died"
}

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# field NAME LINE: the value of NAME=... in LINE.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# load OUTFILE ARGS...: start echoload ARGS, its stdout to OUTFILE, under
# a bound of its own and a second one (timeout) in case the first fails.
# In the background, for load_wait to wait for: bash runs a trap only
# once the command in the foreground is over, but it interrupts a wait,
# so a signal stops the run at once.
load() {
	local file=$1
	shift
	timeout -k 5 $((tmo + 30)) "$out/echoload" -t "$tmo" "$@" >"$file" &
	load_pid=$!
}

# load_wait: echoload's exit status.
load_wait() {
	local st=0
	wait "$load_pid" || st=$?
	load_pid=""
	return $st
}

# ---- the runs ----
results=()
# The figures by system and connections, for the table.
declare -A rps p50 p99 bpc

run_echo() {
	local sys=$1 n=$2 line st=0
	start_server "$sys"
	load "$out/echo.out" echo 127.0.0.1 "$srv_port" "$n" "$rounds" "$size"
	load_wait || st=$?
	line=$(cat "$out/echo.out")
	if [ $st != 0 ] || [ "$(field ok "$line")" != 1 ]; then
		cat "$out/$sys.err" >&2
		die "$sys: echo with $n connections failed: $line"
	fi
	server_alive "$sys"
	stop_server
	rps[$sys,$n]=$(field reqs_per_s "$line")
	p50[$sys,$n]=$(field p50_us "$line")
	p99[$sys,$n]=$(field p99_us "$line")
	line=$(printf '%-7s echo conns=%s rounds=%s size=%s reqs_per_s=%s p50_us=%s p99_us=%s' \
	    "$sys" "$n" "$rounds" "$size" "${rps[$sys,$n]}" \
	    "${p50[$sys,$n]}" "${p99[$sys,$n]}")
	echo "$line"
	results+=("$line")
}

# The server's VmRSS after one connection served, and while n are held.
run_idle() {
	local sys=$1 n=$2 hold_ms=3000 before held i line
	start_server "$sys"
	load "$out/warm.out" echo 127.0.0.1 "$srv_port" 1 1
	load_wait || die "$sys: warm-up connection failed"
	sleep 0.5
	before=$(rss_kb "$srv_pid")
	: > "$out/idle.out"
	load "$out/idle.out" idle 127.0.0.1 "$srv_port" "$n" "$hold_ms"
	# Ready within echoload's own bound, or it has failed.
	for ((i = 0; i < (tmo + 10) * 10; i++)); do
		grep -q 'ready=1' "$out/idle.out" && break
		kill -0 "$load_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'ready=1' "$out/idle.out" ||
	    die "$sys: idle: $n connections not ready"
	# Let the last handlers settle into their wait before looking.
	sleep 0.5
	held=$(rss_kb "$srv_pid")
	load_wait || die "$sys: idle: echoload failed"
	server_alive "$sys"
	stop_server
	bpc[$sys,$n]=$(((held - before) * 1024 / n))
	line=$(printf '%-7s idle conns=%s rss_before_kb=%s rss_held_kb=%s bytes_per_conn=%s' \
	    "$sys" "$n" "$before" "$held" "${bpc[$sys,$n]}")
	echo "$line"
	results+=("$line")
}

# ---- the table ----

# ratio A B: A / B to two places, "-" when either is missing or B is 0.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "-";
		else printf "%.2f\n", a / b }'
}

# row LABEL METRIC ARRAY KEY_SUFFIX: one line of the table, each
# system's figure, then snow-rt's over go's and erlang's.
row() {
	local label=$1 metric=$2 key=$4 sys line
	local -n arr=$3

	line="| $label | $metric |"
	for sys in $systems; do line+=" ${arr[$sys$key]:--} |"; done
	if [ -n "$snow" ]; then
		line+=" $(ratio "${arr[snow-rt$key]:-}" "${arr[go$key]:-}") |"
		line+=" $(ratio "${arr[snow-rt$key]:-}" "${arr[erlang$key]:-}") |"
	fi
	echo "$line"
}

table() {
	local head="| conns | metric |" rule="|---:|---|" sys n

	for sys in $systems; do head+=" $sys |"; rule+="---:|"; done
	if [ -n "$snow" ]; then
		head+=" snow-rt / go | snow-rt / erlang |"
		rule+="---:|---:|"
	fi
	echo "$head"
	echo "$rule"
	for n in $conns; do
		row "$n" "req/s" rps ",$n"
		row "$n" "p50 us" p50 ",$n"
		row "$n" "p99 us" p99 ",$n"
	done
	for n in $idle; do
		row "$n idle" "bytes/conn" bpc ",$n"
	done
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Each number of connections, every system in turn.
for n in $conns; do
	for sys in $systems; do
		run_echo "$sys" "$n"
	done
done
for sys in $systems; do
	for n in $idle; do
		run_idle "$sys" "$n"
	done
done

echo
echo "summary (size=$size rounds=$rounds, $(nproc) CPUs${snow:+, snow-rt $snow_workers workers}; load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after):"
printf '%s\n' "${results[@]}"
echo
table
