# count_checks, shared by scripts/test-all.sh and scripts/test-cross.sh,
# which source this file: both must count a test log the same way.
#
#   count_checks NAME TARGET DIR
#
# Adds up Check's "100%: Checks: N, Failures: F, Errors: E" lines of each
# test log under DIR (tests/*.log, scripts/*.log) into the caller's
# passed, failed and failures (an array of names, "NAME TARGET LOG" for
# each log that failed).  A log without one (the test crashed, hung or
# exited before its summary) counts as one failure.  Sets added to how
# many failures it counted.  Why each log failed goes into the caller's
# failure_why: its Check failure lines (file:line:F or E:...), or the
# last lines of a log that has none, and the start of what valgrind
# reported in it, so that a summary at the end of a long run says what
# failed without the whole logs.
why_failed() {
	local label=$1 log=$2 lines line
	lines=$(grep -E ':[0-9]+:[FE]:' "$log" | head -n 5 || true)
	[ -n "$lines" ] || lines=$(tail -n 5 "$log")
	# What valgrind said, if anything: an error in a test's forked child
	# shows in Check's report only as an early exit.
	if grep -qE '^==[0-9]+== ' "$log"; then
		lines+=$'\n'$(grep -E '^==[0-9]+== ' "$log" | head -n 12)
	fi
	while IFS= read -r line; do
		failure_why+=("$label: $(cut -c1-300 <<<"$line")")
	done <<<"$lines"
}

# One failing log: its name in failures, why in failure_why.
log_failed() {
	local label
	label="$1 $2 $(basename "$3" .log)"
	failures+=("$label")
	why_failed "$label" "$3"
}

count_checks() {
	local name=$1 t=$2 dir=$3 log line n f e lines
	added=0
	for log in "$dir"/tests/*.log "$dir"/scripts/*.log; do
		[ -f "$log" ] || continue
		lines=$(grep -h 'Checks: [0-9]*, Failures: [0-9]*, Errors: [0-9]*' "$log" || true)
		# A test that is a plain program, not a Check suite (marked by
		# the line "not a Check suite" in its log): one result, from
		# automake's .trs file.
		if [ -z "$lines" ] && grep -q '^not a Check suite' "$log" &&
		   [ -f "${log%.log}.trs" ]; then
			if grep -qx ':test-result: PASS' "${log%.log}.trs"; then
				passed=$((passed + 1))
			else
				failed=$((failed + 1)); added=$((added + 1))
				log_failed "$name" "$t" "$log"
			fi
			continue
		fi
		if [ -z "$lines" ]; then
			failed=$((failed + 1)); added=$((added + 1))
			log_failed "$name" "$t" "$log"
			echo "$name: $t: $(basename "$log" .log): no Check summary in its log: FAILED"
			continue
		fi
		while read -r line; do
			n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
			f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
			e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
			passed=$((passed + n - f - e))
			failed=$((failed + f + e)); added=$((added + f + e))
			[ $((f + e)) -eq 0 ] && continue
			log_failed "$name" "$t" "$log"
		done <<<"$lines"
	done
}
