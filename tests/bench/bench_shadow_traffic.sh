#!/usr/bin/env bash
#
# Traffic as a shadow-inventory signal (the shadow inventory issue, item
# 6): the autoscaler-step hit rate with traffic telemetry and without it,
# on the same traces, and the scan alert's latency.  Needs no root and
# no network; run from the top of a build tree (or set SHADOWSIM and
# TRACEGEN):
#
#   tests/bench/bench_shadow_traffic.sh
#
# How this works.  For each seed in SEEDS (default "1 2 3 4 5") tracegen
# makes DURATION seconds (default two days) of load-driven autoscaling
# only (--load-rate LOAD_RATE steps an hour; the traffic ramps, the
# replicas follow 20-90 s behind it, one per 1/N of the ramp), so every
# request is an autoscaler step's.  shadowsim replays it under shadow
# (traffic fed to the engine), shadow --no-traffic, ondemand and oracle
# at a 1 s base latency.  Then, per seed, a two-hour trace with ordinary
# ARP misses (--neigh-rate 30) and one source asking for 200 free
# addresses over a minute at 3600 s; the scan alert's delay is reported.
# Prints a Markdown table.  Exit status 0 when the mean hit rate with
# traffic is above the mean without, and every scan alerts within 60 s.

set -u

SHADOWSIM=${SHADOWSIM:-./shadowsim}
TRACEGEN=${TRACEGEN:-./tracegen}
SEEDS=${SEEDS:-1 2 3 4 5}
DURATION=${DURATION:-172800}
LOAD_RATE=${LOAD_RATE:-3}
DELAY=${DELAY:-1000}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
status=0
sum_with=0
sum_without=0
n=0

run() {	# run TRACE POLICY [FLAGS...] -> JSON on stdout
	trace=$1
	policy=$2
	shift 2
	"$SHADOWSIM" --trace "$trace" --policy "$policy" \
	    --miss-delay-ms "$DELAY" --json "$@"
}

echo "| seed | requests | hit rate, traffic | hit rate, no traffic | cost, traffic | cost, no traffic | ondemand | oracle | scan alert after |"
echo "|---|---|---|---|---|---|---|---|---|"
for seed in $SEEDS; do
	t="$work/load-$seed.csv"
	"$TRACEGEN" --duration "$DURATION" --seed "$seed" --vnis 100 \
	    --inference-rate 0 --gang-rate 0 --autoscale-rate 0 \
	    --churn-rate 0 --load-rate "$LOAD_RATE" --out "$t" || exit 1
	run "$t" shadow > "$work/with.json" || exit 1
	run "$t" shadow --no-traffic > "$work/without.json" || exit 1
	run "$t" ondemand > "$work/od.json" || exit 1
	run "$t" oracle > "$work/or.json" || exit 1
	s="$work/scan-$seed.csv"
	"$TRACEGEN" --duration 7200 --seed "$seed" --vnis 100 \
	    --scan 3600:200 --neigh-rate 30 --out "$s" || exit 1
	scan=$(run "$s" shadow | jq '[.anomalies[] |
	    select(.kind == "scan") | .time_s - 3600] | first // -1')
	hw=$(jq .hit_rate "$work/with.json")
	ho=$(jq .hit_rate "$work/without.json")
	printf '| %s | %s | %.1f%% | %.1f%% | %.0f | %.0f | %.0f | %.0f | %.1f s |\n' \
	    "$seed" "$(jq .requests "$work/with.json")" \
	    "$(echo "$hw * 100" | bc -l)" "$(echo "$ho * 100" | bc -l)" \
	    "$(jq .cost "$work/with.json")" \
	    "$(jq .cost "$work/without.json")" "$(jq .cost "$work/od.json")" \
	    "$(jq .cost "$work/or.json")" "$scan"
	sum_with=$(echo "$sum_with + $hw" | bc -l)
	sum_without=$(echo "$sum_without + $ho" | bc -l)
	n=$((n + 1))
	if [ "$(echo "$scan < 0 || $scan > 60" | bc -l)" = 1 ]; then
		echo "GOAL FAILED: seed $seed: scan alert after $scan s" >&2
		status=1
	fi
done
printf '\nmean hit rate: %.1f%% with traffic, %.1f%% without\n' \
    "$(echo "$sum_with * 100 / $n" | bc -l)" \
    "$(echo "$sum_without * 100 / $n" | bc -l)"
if [ "$(echo "$sum_with <= $sum_without" | bc -l)" = 1 ]; then
	echo "GOAL FAILED: traffic does not raise the hit rate" >&2
	status=1
fi
exit $status
