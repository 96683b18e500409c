#!/usr/bin/env bash
#
# Shadow inventory evaluation (the shadow inventory issue, §6): replay
# traces through shadowsim under every policy and check the goals.
# Needs no root and no network; run from the top of a build tree (or set
# SHADOWSIM and TRACEGEN), preferably a build without sanitizers:
#
#   ./configure && make && tests/bench/bench_shadow.sh
#
# How this works: tracegen makes one-day traces for each seed in SEEDS
# (default "1 2 3"), and the shared sample ($SHARED_TRACES/sample-
# gangs.csv, default ../shared/traces next to the repository) is added
# when present.  For each trace shadowsim runs shadow, ondemand,
# watermark:16:8 and static:K for every K in STATIC_KS; a markdown table
# per trace shows policy | hit rate | waste (addr*s) | mean wait | p99
# wait | cost.  Goals, per trace:
#  1. shadow's cost is below every baseline's (ondemand, watermark:16:8,
#     static:K for every K in STATIC_KS);
#  2. at shadow's own hit rate, shadow's waste is at most half the waste
#     of the cheapest static:K reaching that hit rate (K chosen in
#     hindsight, over STATIC_KS);
# and once: 3. a burst injected into a generated trace (BURST_SIZE
# allocations within 10 s at BURST_AT on VNI 100) raises a "burst" alert
# in that VNI within BURST_MAX_DELAY seconds (the detection delay is
# printed), and the same trace without the burst is checked for alerts
# too (false alarms, reported, not a goal).
# Exit status 0 when every goal holds.  BENCH_OUT (a directory) keeps the
# traces and the JSON of every run.

set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SHADOWSIM=${SHADOWSIM:-./shadowsim}
TRACEGEN=${TRACEGEN:-./tracegen}
SHARED_TRACES=${SHARED_TRACES:-$repo/../shared/traces}
SEEDS=${SEEDS:-1 2 3}
DURATION=${DURATION:-86400}
STATIC_KS=${STATIC_KS:-0 1 2 3 4 5 6 8 10 12 16 20 24 32 48 64}
MISS_DELAY_MS=${MISS_DELAY_MS:-1000}
BURST_AT=${BURST_AT:-50000}
BURST_SIZE=${BURST_SIZE:-40}
BURST_MAX_DELAY=${BURST_MAX_DELAY:-120}
TRACEGEN_ARGS=${TRACEGEN_ARGS:-}

for bin in "$SHADOWSIM" "$TRACEGEN"; do
	if [ ! -x "$bin" ]; then
		echo "bench_shadow: $bin not found; run from the build tree" \
		    "or set SHADOWSIM/TRACEGEN" >&2
		exit 2
	fi
done
command -v jq >/dev/null || { echo "bench_shadow: needs jq" >&2; exit 2; }

if [ -n "${BENCH_OUT:-}" ]; then
	out=$BENCH_OUT
	mkdir -p "$out"
else
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT INT TERM
fi

failures=0
goal() {	# goal OK|FAIL TEXT...
	local status=$1
	shift
	echo "- $status: $*"
	[ "$status" = OK ] || failures=$((failures + 1))
}

# run TRACE POLICY -> JSON file; prints its path
run_policy() {
	local trace=$1 policy=$2 name
	name=$(basename "$trace" .csv)-$(echo "$policy" | tr ':' '_').json
	"$SHADOWSIM" --trace "$trace" --policy "$policy" \
	    --miss-delay-ms "$MISS_DELAY_MS" --json > "$out/$name" || {
		echo "bench_shadow: shadowsim failed on $trace $policy" >&2
		exit 2
	}
	echo "$out/$name"
}

# One TSV row per policy: policy hit_rate waste mean p99 cost
figures() {
	jq -r '[.policy, .hit_rate, .waste_address_seconds, .mean_wait_ms,
	    .p99_wait_ms, .cost] | @tsv' "$1"
}

evaluate_trace() {
	local trace=$1 rows=$out/rows.tsv p
	: > "$rows"
	for p in shadow ondemand watermark:16:8; do
		figures "$(run_policy "$trace" "$p")" >> "$rows"
	done
	for k in $STATIC_KS; do
		figures "$(run_policy "$trace" "static:$k")" >> "$rows"
	done
	echo
	echo "### $(basename "$trace") ($(($(wc -l < "$trace") - 1)) events," \
	    "$(grep -c ',alloc,' "$trace") requests)"
	echo
	echo "| policy | hit rate | waste (addr·s) | mean wait (ms) |" \
	    "p99 wait (ms) | cost |"
	echo "|---|---:|---:|---:|---:|---:|"
	awk -F'\t' '{ printf "| %s | %.2f%% | %.0f | %.1f | %.0f | %.0f |\n",
	    $1, 100 * $2, $3, $4, $5, $6 }' "$rows"
	echo
	check_goals "$rows"
}

check_goals() {
	local rows=$1 s_hit s_waste s_cost best best_cost hind hind_waste
	read -r s_hit s_waste s_cost < <(awk -F'\t' '$1 == "shadow" {
	    print $2, $3, $6 }' "$rows")
	read -r best best_cost < <(awk -F'\t' '$1 != "shadow" {
	    if (b == "" || $6 < c) { b = $1; c = $6 } } END { print b, c }' \
	    "$rows")
	if awk -v s="$s_cost" -v b="$best_cost" 'BEGIN { exit !(s < b) }'
	then
		goal OK "shadow cost $(printf %.0f "$s_cost") < cheapest" \
		    "baseline $best ($(printf %.0f "$best_cost"))"
	else
		goal FAIL "shadow cost $(printf %.0f "$s_cost") is not below" \
		    "$best ($(printf %.0f "$best_cost"))"
	fi
	read -r hind hind_waste < <(awk -F'\t' -v h="$s_hit" '
	    $1 ~ /^static:/ && $2 >= h { if (b == "" || $3 < w) {
	    b = $1; w = $3 } } END { print b, w }' "$rows")
	if [ -z "$hind" ]; then
		goal FAIL "no static:K in STATIC_KS reaches shadow's hit rate" \
		    "$(printf %.4f "$s_hit")"
	elif awk -v s="$s_waste" -v w="$hind_waste" \
	    'BEGIN { exit !(s <= w / 2) }'; then
		goal OK "at hit rate $(printf %.4f "$s_hit") shadow wastes" \
		    "$(printf %.0f "$s_waste") <= half of $hind's" \
		    "$(printf %.0f "$hind_waste")"
	else
		goal FAIL "at hit rate $(printf %.4f "$s_hit") shadow wastes" \
		    "$(printf %.0f "$s_waste") > half of $hind's" \
		    "$(printf %.0f "$hind_waste")"
	fi
}

# report_burst_alert "TIME KIND": the first alert after the burst
report_burst_alert() {
	local first kind delay
	read -r first kind <<<"$1"
	delay=$(awk -v f="$first" -v a="$BURST_AT" \
	    'BEGIN { printf "%.1f", f - a }')
	if ! awk -v d="$delay" -v m="$BURST_MAX_DELAY" \
	    'BEGIN { exit !(d <= m) }'; then
		goal FAIL "first alert ($kind) at ${first} s: delay ${delay} s" \
		    "> ${BURST_MAX_DELAY} s"
	elif [ "$kind" = burst ]; then
		goal OK "burst alert at ${first} s: detection delay ${delay} s" \
		    "(<= ${BURST_MAX_DELAY} s)"
	else
		goal FAIL "the first alert after the burst, at ${first} s" \
		    "(${delay} s), is \"$kind\", not \"burst\": the burst" \
		    "itself went undetected"
	fi
}

evaluate_burst() {
	local seed=${SEEDS%% *} clean=$out/burst-clean.csv
	local burst=$out/burst-$BURST_AT.csv j first delay n
	# shellcheck disable=SC2086
	"$TRACEGEN" --seed "$seed" --duration "$DURATION" $TRACEGEN_ARGS \
	    --out "$clean" || exit 2
	# shellcheck disable=SC2086
	"$TRACEGEN" --seed "$seed" --duration "$DURATION" $TRACEGEN_ARGS \
	    --burst "$BURST_AT:$BURST_SIZE:100" --out "$burst" || exit 2
	echo
	echo "### Injected burst: $BURST_SIZE allocations at ${BURST_AT} s," \
	    "VNI 100 (seed $seed)"
	echo
	j=$(run_policy "$burst" shadow)
	first=$(jq -r --argjson at "$BURST_AT" '[.anomalies[] |
	    select(.vni == 100 and .time_s >= $at)] | first //
	    empty | "\(.time_s) \(.kind)"' "$j")
	if [ -z "$first" ]; then
		goal FAIL "no alert in VNI 100 after ${BURST_AT} s"
	else
		report_burst_alert "$first"
	fi
	j=$(run_policy "$clean" shadow)
	n=$(jq '.anomalies | length' "$j")
	echo "- info: the same trace without the burst raised $n alert(s)" \
	    "over $((DURATION / 3600)) h: $(jq -c '[.anomalies[] |
	    {time_s, vni, kind}] | .[:5]' "$j")"
}

echo "## Shadow inventory benchmark"
echo
echo "shadowsim $SHADOWSIM, miss delay ${MISS_DELAY_MS} ms," \
    "static K in {$STATIC_KS}, seeds {$SEEDS}, ${DURATION} s per trace"
for seed in $SEEDS; do
	# shellcheck disable=SC2086
	"$TRACEGEN" --seed "$seed" --duration "$DURATION" $TRACEGEN_ARGS \
	    --out "$out/gen-seed$seed.csv" || exit 2
	evaluate_trace "$out/gen-seed$seed.csv"
done
if [ -f "$SHARED_TRACES/sample-gangs.csv" ]; then
	evaluate_trace "$SHARED_TRACES/sample-gangs.csv"
else
	echo
	echo "(no $SHARED_TRACES/sample-gangs.csv: sample skipped)"
fi
evaluate_burst
echo
if [ "$failures" -eq 0 ]; then
	echo "All goals met."
else
	echo "$failures goal(s) missed."
fi
[ "$failures" -eq 0 ]
