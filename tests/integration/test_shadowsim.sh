#!/bin/sh
# shadowsim and tracegen end to end (run by "make check" from the top of
# the build tree; SHADOWSIM and TRACEGEN override the binaries):
#  - tracegen: the same seed gives the same bytes, another seed others;
#  - shadowsim --json: the same trace and seed give byte-identical JSON,
#    for every policy, with and without the fabric's service rate, and
#    the object carries the fields of §6; the oracle waits for nothing
#    and costs less than shadow; a slow fabric lengthens waits;
#  - tracegen --weekly: same bytes for a seed, a quieter weekend;
#  - --series writes one row per tick; --requests one per request, its
#    waits adding up to the JSON's; bad arguments fail;
#  - tracegen --load-rate: traffic leads the replicas, same bytes for a
#    seed; shadowsim hits more with the traffic than with --no-traffic,
#    deterministically; tracegen --scan: a "scan" alert within a minute
#    naming the source; a bad traffic line is named.
set -u

# BUILD_DIR (scripts/test.sh sets it) or the current directory (make check).
SHADOWSIM=${SHADOWSIM:-${BUILD_DIR:-.}/shadowsim}
TRACEGEN=${TRACEGEN:-${BUILD_DIR:-.}/tracegen}
if [ ! -x "$SHADOWSIM" ] || [ ! -x "$TRACEGEN" ]; then
	echo "SKIP: $SHADOWSIM or $TRACEGEN not built"
	exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
fail=0
passed=0
failed=0
check() {	# check NAME COMMAND...
	name=$1
	shift
	if "$@"; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
		fail=1
	fi
}

"$TRACEGEN" --duration 7200 --seed 5 --gang-rate 3 --burst 3600:40:100 \
    --out "$work/a.csv" || exit 1
"$TRACEGEN" --duration 7200 --seed 5 --gang-rate 3 --burst 3600:40:100 \
    > "$work/b.csv" || exit 1
"$TRACEGEN" --duration 7200 --seed 6 --gang-rate 3 > "$work/c.csv" || exit 1
check "tracegen same seed, same bytes" cmp -s "$work/a.csv" "$work/b.csv"
check "tracegen other seed, other trace" \
    sh -c "! cmp -s '$work/a.csv' '$work/c.csv'"
check "tracegen header" \
    test "$(head -1 "$work/a.csv")" = "time_s,vni,event,resource"
check "tracegen burst present" \
    test "$(grep -c ',alloc,burst-100-' "$work/a.csv")" -eq 40

for p in shadow ondemand static:4 watermark:16:8 oracle; do
	for r in 0 20; do
		"$SHADOWSIM" --trace "$work/a.csv" --policy "$p" --seed 3 \
		    --service-rate "$r" --json > "$work/1.json" || fail=1
		"$SHADOWSIM" --trace "$work/a.csv" --policy "$p" --seed 3 \
		    --service-rate "$r" --json > "$work/2.json" || fail=1
		check "deterministic JSON ($p, $r routes/s)" \
		    cmp -s "$work/1.json" "$work/2.json"
	done
done
"$SHADOWSIM" --trace "$work/a.csv" --policy shadow --seed 3 --json \
    > "$work/1.json" || fail=1
"$SHADOWSIM" --trace "$work/a.csv" --policy oracle --json \
    > "$work/o.json" || fail=1
check "oracle: every request served warm, no wait" \
    grep -q '^  "wait_seconds": 0.0,$' "$work/o.json"
check "oracle costs less than shadow" sh -c "[ \$(jq '.cost < $(jq .cost \
    "$work/1.json")' '$work/o.json') = true ]"
check "the fabric queue lengthens on-demand waits" sh -c "[ \$('$SHADOWSIM' \
    --trace '$work/a.csv' --policy ondemand --service-rate 5 --json | \
    jq '.mean_wait_ms > 1000') = true ]"

"$TRACEGEN" --duration 1209600 --seed 5 --weekly 0.5 --gang-rate 0 \
    --autoscale-rate 0 --churn-rate 0 --out "$work/w.csv" || exit 1
"$TRACEGEN" --duration 1209600 --seed 5 --weekly 0.5 --gang-rate 0 \
    --autoscale-rate 0 --churn-rate 0 > "$work/w2.csv" || exit 1
check "tracegen --weekly same seed, same bytes" \
    cmp -s "$work/w.csv" "$work/w2.csv"
# Weekdays (Tuesday-Thursday, clear of the ramps) against the weekend.
check "tracegen --weekly: the weekend is quieter" sh -c "awk -F, '
    \$3 == \"alloc\" { d = int(\$1 / 86400) % 7;
    if (d >= 1 && d <= 3) wd++; if (d == 5 || d == 6) we++ }
    END { exit !(we / 2 < 0.7 * wd / 3) }' '$work/w.csv'"

for key in policy requests hits hit_rate waste_address_seconds \
    wait_seconds mean_wait_ms p99_wait_ms cost anomalies pools; do
	check "JSON has $key" grep -q "^  \"$key\":" "$work/1.json"
done
allocs=$(grep -c ',alloc,' "$work/a.csv")
check "requests = allocs in the trace" \
    grep -q "^  \"requests\": $allocs,\$" "$work/1.json"

"$SHADOWSIM" --trace "$work/a.csv" --policy shadow --series "$work/s.csv" \
    --series-vni 100 > "$work/text.out" || fail=1
check "text table" grep -q '^total ' "$work/text.out"
check "series header" test "$(head -1 "$work/s.csv")" = \
    "t_s,actual_allocs,forecast_mean,target,held,route_adds"
# One row per whole second up to the last event: ceil(last) rows.
rows=$(tail -1 "$work/a.csv" | awk -F, '{ t = int($1); if (t < $1) t++;
    print t + 1 }')
check "series: one row per tick" test "$(wc -l < "$work/s.csv")" -eq "$rows"

"$SHADOWSIM" --trace "$work/a.csv" --policy shadow --seed 3 \
    --service-rate 20 --requests "$work/r.csv" --json > "$work/r.json" || fail=1
check "requests header" test "$(head -1 "$work/r.csv")" = \
    "t_ms,vni,resource,wait_ms,held_ms"
check "requests: one row per request" \
    test "$(($(wc -l < "$work/r.csv") - 1))" -eq \
    "$(jq .requests "$work/r.json")"
waits=$(awk -F, 'NR > 1 { s += $4 } END { print s / 1000 }' "$work/r.csv")
check "requests: waits add up to the JSON's" sh -c "[ \$(jq --argjson w \
    '$waits' '(.wait_seconds - \$w) | fabs < 0.001' '$work/r.json') = true ]"
check "requests: hits took a pre-allocation" awk -F, \
    'NR > 1 && $4 == 0 && $5 < 0 { bad = 1 } END { exit bad }' "$work/r.csv"
"$SHADOWSIM" --trace "$work/a.csv" --policy ondemand --requests \
    "$work/r0.csv" > /dev/null || fail=1
check "requests: ondemand holds nothing" awk -F, \
    'NR > 1 && $5 != -1 { bad = 1 } END { exit bad }' "$work/r0.csv"

check "bad policy fails" sh -c "! '$SHADOWSIM' --trace '$work/a.csv' \
    --policy static:x 2>/dev/null"
check "missing trace fails" sh -c "! '$SHADOWSIM' --trace '$work/none' \
    --policy ondemand 2>/dev/null"
printf 'time_s,vni,event,resource\n1,100,eat,x\n' > "$work/bad.csv"
check "bad trace names its line" sh -c "'$SHADOWSIM' --trace \
    '$work/bad.csv' --policy ondemand 2>&1 | grep -q 'bad.csv:2: bad event'"

# Load-driven autoscaling: traffic leads the replicas.
load="--duration 172800 --seed 2 --vnis 100 --inference-rate 0 --gang-rate 0
    --autoscale-rate 0 --churn-rate 0 --load-rate 3"
# shellcheck disable=SC2086
"$TRACEGEN" $load --out "$work/l.csv" || exit 1
# shellcheck disable=SC2086
"$TRACEGEN" $load > "$work/l2.csv" || exit 1
check "tracegen --load-rate same seed, same bytes" \
    cmp -s "$work/l.csv" "$work/l2.csv"
check "tracegen --load-rate: traffic samples every 10 s" \
    test "$(grep -c ',traffic,' "$work/l.csv")" -eq 17280
first=$(awk -F, '$3 == "alloc" { print $1; exit }' "$work/l.csv")
check "traffic above its base before the first replica" awk -F, -v a="$first" '
    $3 == "traffic" && $1 < a && $1 > a - 90 && $4 > 5400 { up = 1 }
    END { exit !up }' "$work/l.csv"
"$SHADOWSIM" --trace "$work/l.csv" --policy shadow --json \
    > "$work/t1.json" || fail=1
"$SHADOWSIM" --trace "$work/l.csv" --policy shadow --json \
    > "$work/t2.json" || fail=1
"$SHADOWSIM" --trace "$work/l.csv" --policy shadow --no-traffic --json \
    > "$work/t0.json" || fail=1
check "traffic trace: deterministic JSON" cmp -s "$work/t1.json" \
    "$work/t2.json"
check "traffic raises the autoscaler-step hit rate" sh -c "[ \$(jq \
    '.hit_rate > $(jq .hit_rate "$work/t0.json") + 0.05' \
    '$work/t1.json') = true ]"
check "--no-traffic: the requests are the same" sh -c "[ \$(jq .requests \
    '$work/t0.json') = \$(jq .requests '$work/t1.json') ]"
"$SHADOWSIM" --trace "$work/l.csv" --policy ondemand --json \
    > "$work/od.json" || fail=1
check "traffic telemetry: ondemand ignores it" sh -c "[ \$(jq .requests \
    '$work/od.json') = \$(jq .requests '$work/t1.json') ]"

# A scan: 200 free addresses from one source in a minute.
"$TRACEGEN" --duration 7200 --seed 4 --vnis 100 --scan 3600:200 \
    --neigh-rate 30 --out "$work/scan.csv" || exit 1
"$SHADOWSIM" --trace "$work/scan.csv" --policy shadow --json \
    > "$work/scan.json" || fail=1
check "scan alert within a minute, naming the source" sh -c "[ \$(jq \
    '[.anomalies[] | select(.kind == \"scan\" and .time_s >= 3600 and
    .time_s <= 3660 and (.message | startswith(\"10.0.0.201 \")))] |
    length' '$work/scan.json') = 1 ]"
check "ordinary misses: no other scan alert" sh -c "[ \$(jq \
    '[.anomalies[] | select(.kind == \"scan\")] | length' \
    '$work/scan.json') = 1 ]"
printf 'time_s,vni,event,resource\n1,100,traffic,fast\n' > "$work/bad2.csv"
check "bad traffic line is named" sh -c "'$SHADOWSIM' --trace \
    '$work/bad2.csv' --policy shadow 2>&1 | grep -q 'bad2.csv:2: bad traffic'"

echo "$passed passed, $failed failed"
exit $fail
