#!/usr/bin/env bash
#
# Shadow inventory evaluation (the shadow inventory issue): replay traces
# through shadowsim under every policy, for several convergence times,
# and check the goals.  Needs no root and no network; run from the top of
# a build tree (or set SHADOWSIM and TRACEGEN), preferably a build
# without sanitizers:
#
#   ./configure && make && tests/bench/bench_shadow.sh
#
# How this works.  tracegen makes one-day traces for each seed in SEEDS
# (default "1 2 3"); the shared sample ($SHARED_TRACES/sample-gangs.csv,
# default ../shared/traces next to the repository) is added when
# present.  Convergence is the fabric model: base latency D (each of
# DELAYS, default "200 1000 3000" ms) plus a service rate of
# SERVICE_RATE routes/s (default 20; 0 turns the queue off).  For each D
# and trace shadowsim runs shadow, ondemand, oracle (the clairvoyant
# bound), watermark:16:8 and static:K for every K in STATIC_KS.  Goals:
#  1. shadow's cost is never above ondemand's;
#  2. wherever a baseline (ondemand, watermark:16:8, any static:K) beats
#     ondemand, shadow is below every baseline;
#  3. at D = 1000 ms shadow captures at least CAPTURE_GOAL (40%) of the
#     oracle's cost reduction over ondemand: (ondemand - shadow) /
#     (ondemand - oracle);
#  4. on seven-day traces with a weekly pattern (tracegen --weekly
#     WEEKLY_AMPLITUDE, seeds WEEKLY_SEEDS) and nothing injected, at most
#     one alert per pool per week;
#  5. an unannounced burst of BURST_SIZE requests within 10 s (VNI 100,
#     at each of BURST_TIMES s into each seed's day) raises a burst alert
#     within BURST_MAX_DELAY s.
# Alerts on the one-day traces without injection are reported too.
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
DELAYS=${DELAYS:-200 1000 3000}
SERVICE_RATE=${SERVICE_RATE:-20}
STATIC_KS=${STATIC_KS:-0 1 2 3 4 5 6 8 10 12 16 20 24 32 48 64}
CAPTURE_GOAL=${CAPTURE_GOAL:-40}
WEEKLY_SEEDS=${WEEKLY_SEEDS:-1 2 3 4}
WEEKLY_AMPLITUDE=${WEEKLY_AMPLITUDE:-0.5}
BURST_TIMES=${BURST_TIMES:-20000 50000 80000}
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

# run TRACE POLICY DELAY -> JSON file; prints its path
run_policy() {
	local trace=$1 policy=$2 delay=$3 name
	name=$(basename "$trace" .csv)-$(echo "$policy" | tr ':' '_')-$delay
	"$SHADOWSIM" --trace "$trace" --policy "$policy" \
	    --miss-delay-ms "$delay" --service-rate "$SERVICE_RATE" \
	    --json > "$out/$name.json" || {
		echo "bench_shadow: shadowsim failed on $trace $policy" >&2
		exit 2
	}
	echo "$out/$name.json"
}

# One TSV row: policy hit_rate waste mean_wait cost
figures() {
	jq -r '[.policy, .hit_rate, .waste_address_seconds, .mean_wait_ms,
	    .cost] | @tsv' "$1"
}

# evaluate TRACE DELAY: appends one summary row to $out/summary-DELAY
evaluate() {
	local trace=$1 delay=$2 rows=$out/rows.tsv p k name
	: > "$rows"
	for p in shadow ondemand oracle watermark:16:8; do
		figures "$(run_policy "$trace" "$p" "$delay")" >> "$rows"
	done
	for k in $STATIC_KS; do
		figures "$(run_policy "$trace" "static:$k" "$delay")" >> "$rows"
	done
	name=$(basename "$trace" .csv)
	awk -F'\t' -v t="$name" '
	    $1 == "shadow" { s = $5; sh = $2; sw = $3 }
	    $1 == "ondemand" { o = $5 }
	    $1 == "oracle" { c = $5 }
	    $1 != "shadow" && $1 != "oracle" {
		if (b == "" || $5 < bc) { b = $1; bc = $5 } }
	    END { printf "%s\t%.0f\t%.0f\t%.0f\t%.1f\t%s\t%.0f\t%.4f\t%.0f\n",
		t, o, c, s, 100 * (o - s) / (o - c), b, bc, sh, sw }' \
	    "$rows" >> "$out/summary-$delay"
}

table() {	# table DELAY
	local delay=$1
	echo
	echo "### Miss delay ${delay} ms + N/${SERVICE_RATE} routes/s"
	echo
	echo "| trace | ondemand | oracle | shadow | captured | best" \
	    "baseline | its cost | shadow hit rate | shadow waste (addr·s) |"
	echo "|---|---:|---:|---:|---:|---|---:|---:|---:|"
	awk -F'\t' '{ printf "| %s | %s | %s | **%s** | %s%% | %s | %s |" \
	    " %.1f%% | %s |\n", $1, $2, $3, $4, $5, $6, $7, 100 * $8, $9 }' \
	    "$out/summary-$delay"
	echo
}

check_costs() {	# check_costs DELAY
	local delay=$1 t o c s cap b bc rest
	while IFS=$'\t' read -r t o c s cap b bc rest; do
		if awk -v s="$s" -v o="$o" 'BEGIN { exit !(s <= o) }'; then
			goal OK "$t, $delay ms: shadow $s <= ondemand $o"
		else
			goal FAIL "$t, $delay ms: shadow $s > ondemand $o"
		fi
		if [ "$b" != ondemand ]; then
			if awk -v s="$s" -v b="$bc" 'BEGIN { exit !(s < b) }'
			then
				goal OK "$t, $delay ms: shadow $s < the best" \
				    "baseline $b ($bc)"
			else
				goal FAIL "$t, $delay ms: shadow $s >= the" \
				    "best baseline $b ($bc)"
			fi
		fi
		if [ "$delay" = 1000 ]; then
			if awk -v c="$cap" -v g="$CAPTURE_GOAL" \
			    'BEGIN { exit !(c >= g) }'; then
				goal OK "$t, 1000 ms: captures $cap% of the" \
				    "oracle's reduction (>= $CAPTURE_GOAL%)"
			else
				goal FAIL "$t, 1000 ms: captures $cap% of" \
				    "the oracle's reduction (< $CAPTURE_GOAL%)"
			fi
		fi
	done < "$out/summary-$delay"
}

# alerts JSON -> "t vni kind: message" lines
alerts_of() {
	jq -r '.anomalies[] | "\(.time_s) \(.vni) \(.kind): \(.message)"' "$1"
}

evaluate_weekly() {
	local seed w j n pools
	echo
	echo "### Alerts on seven-day traces (--weekly $WEEKLY_AMPLITUDE," \
	    "nothing injected)"
	echo
	for seed in $WEEKLY_SEEDS; do
		w=$out/week-seed$seed.csv
		# shellcheck disable=SC2086
		"$TRACEGEN" --seed "$seed" --duration 604800 --weekly \
		    "$WEEKLY_AMPLITUDE" $TRACEGEN_ARGS --out "$w" || exit 2
		j=$(run_policy "$w" shadow 1000)
		pools=$(jq '.pools | length' "$j")
		n=$(jq '[.anomalies | group_by(.vni)[] | length] | max // 0' \
		    "$j")
		alerts_of "$j" | sed 's/^/  - /'
		if [ "$n" -le 1 ]; then
			goal OK "week, seed $seed: $(jq '.anomalies | length' \
			    "$j") alert(s) over $pools pools, at most $n per pool"
		else
			goal FAIL "week, seed $seed: $n alerts in one pool"
		fi
	done
}

evaluate_bursts() {
	local seed at b j first kind delay
	echo
	echo "### Unannounced bursts: $BURST_SIZE requests within 10 s, VNI 100"
	echo
	for seed in $SEEDS; do
		for at in $BURST_TIMES; do
			b=$out/burst-seed$seed-$at.csv
			# shellcheck disable=SC2086
			"$TRACEGEN" --seed "$seed" --duration "$DURATION" \
			    $TRACEGEN_ARGS --burst "$at:$BURST_SIZE:100" \
			    --out "$b" || exit 2
			j=$(run_policy "$b" shadow 1000)
			read -r first kind < <(jq -r --argjson at "$at" \
			    '[.anomalies[] | select(.vni == 100 and
			    .time_s >= $at)] | first // empty |
			    "\(.time_s) \(.kind)"' "$j")
			if [ -z "${first:-}" ]; then
				goal FAIL "seed $seed, burst at $at s: no alert"
				continue
			fi
			delay=$(awk -v f="$first" -v a="$at" \
			    'BEGIN { printf "%.1f", f - a }')
			if [ "$kind" = burst ] && awk -v d="$delay" \
			    -v m="$BURST_MAX_DELAY" 'BEGIN { exit !(d <= m) }'
			then
				goal OK "seed $seed, burst at $at s: alert" \
				    "after $delay s"
			else
				goal FAIL "seed $seed, burst at $at s: first" \
				    "alert \"$kind\" after $delay s"
			fi
		done
	done
}

echo "## Shadow inventory benchmark"
echo
echo "shadowsim $SHADOWSIM; base latencies {$DELAYS} ms, service rate" \
    "$SERVICE_RATE routes/s; static K in {$STATIC_KS}; seeds {$SEEDS}," \
    "${DURATION} s per trace"
traces=()
for seed in $SEEDS; do
	# shellcheck disable=SC2086
	"$TRACEGEN" --seed "$seed" --duration "$DURATION" $TRACEGEN_ARGS \
	    --out "$out/seed$seed.csv" || exit 2
	traces+=("$out/seed$seed.csv")
done
if [ -f "$SHARED_TRACES/sample-gangs.csv" ]; then
	traces+=("$SHARED_TRACES/sample-gangs.csv")
else
	echo
	echo "(no $SHARED_TRACES/sample-gangs.csv: sample skipped)"
fi
for delay in $DELAYS; do
	: > "$out/summary-$delay"
	for t in "${traces[@]}"; do
		evaluate "$t" "$delay"
	done
	table "$delay"
	check_costs "$delay"
done
echo
echo "### Alerts on the one-day traces (nothing injected)"
echo
for t in "${traces[@]}"; do
	j=$out/$(basename "$t" .csv)-shadow-1000.json
	echo "- $(basename "$t" .csv): $(jq '.anomalies | length' "$j")" \
	    "alert(s)"
	alerts_of "$j" | sed 's/^/  - /'
done
evaluate_weekly
evaluate_bursts
echo
if [ "$failures" -eq 0 ]; then
	echo "All goals met."
else
	echo "$failures goal(s) missed."
fi
[ "$failures" -eq 0 ]
